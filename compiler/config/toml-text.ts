/**
 * Just enough TOML writing for config files with comments, which
 * smol-toml's `stringify` cannot place: keys, strings, numbers, booleans
 * and flat arrays, the only values a config file holds.
 */

/** A key, bare when TOML allows it, else quoted. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

/** A basic string. JSON's escapes are TOML's, except that TOML also requires DEL to be escaped. */
export function tomlString(text: string): string {
  return JSON.stringify(text).replace(/\u007f/g, "\\u007F");
}

export function tomlValue(value: unknown): string {
  if (typeof value === "string") return tomlString(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && value !== null) {
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`)
      .join(", ")} }`;
  }
  throw new Error(`wfc: cannot write ${typeof value} as TOML`);
}
