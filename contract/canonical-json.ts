/**
 * JSON with object keys sorted at every level, two-space indents, lists of
 * scalars on one line, and a trailing newline: the same plan is
 * byte-identical however it was built (STYLE habit 15), and readable.
 */
export function canonicalJson(value: unknown): string {
  return write(value, "") + "\n";
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== "object";
}

function write(value: unknown, indent: string): string {
  if (isScalar(value)) return JSON.stringify(value) ?? "null";
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every(isScalar)) return `[${value.map((v) => JSON.stringify(v) ?? "null").join(", ")}]`;
    return `[\n${value.map((v) => inner + write(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.keys(value as object)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map((k) => `${inner}${JSON.stringify(k)}: ${write((value as Record<string, unknown>)[k], inner)}`).join(",\n")}\n${indent}}`;
}
