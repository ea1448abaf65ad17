import { varSize, varValue, type FanVar } from "../lower/ast.js";
import { describeAt } from "./schema-walk.js";
import { keyOccurrences } from "./keys.js";
import { schemaOf } from "./schema-of.js";
import { symbolAt, symbolIndex, symbolKey, type Definition, type SymbolId } from "./symbols.js";
import type { HoverResult, ServiceDocument } from "./service.js";

/** A reference or a definition shows what the name is; any other key, the schema's description of it. */
export function hoverAt(doc: ServiceDocument, offset: number): HoverResult | undefined {
  const index = symbolIndex(doc.document, doc.kind);
  const symbol = symbolAt(index, offset);
  if (symbol !== undefined) {
    const definition = index.definitions.get(symbolKey(symbol.id));
    return { span: symbol.span, markdown: describeSymbol(doc, symbol.id, definition) };
  }
  const key = keyOccurrences(doc.document).find((k) => k.span.start <= offset && offset < k.span.end);
  if (key === undefined) return undefined;
  const description = describeAt(schemaOf(doc.kind), key.path);
  return description === undefined ? undefined : { span: key.span, markdown: description };
}

/**
 * One line of a value for a hover: short, as a markdown code span, so that
 * nothing in a value renders as markdown. A value with backticks in it is
 * shown as it is, inside a longer fence (CommonMark), never with its
 * backticks changed into something it does not contain.
 */
export function inline(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const short = (text.length > 80 ? `${text.slice(0, 77)}...` : text).replace(/\s*\n\s*/g, " ");
  const longest = Math.max(0, ...(short.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  // A span that starts or ends with a backtick needs a space inside its fence, which CommonMark strips.
  const pad = short.startsWith("`") || short.endsWith("`") ? " " : "";
  return `${fence}${pad}${short}${pad}${fence}`;
}

function lineOf(doc: ServiceDocument, definition: Definition | undefined): string {
  const span = definition?.spans[0];
  return span === undefined ? "" : ` (line ${doc.document.file.lines.position(span.start).line})`;
}

export function describeSymbol(doc: ServiceDocument, id: SymbolId, definition: Definition | undefined): string {
  const title = `${id.kind === "variable" ? "foreach variable" : id.kind} \`${id.name}\``;
  if (definition === undefined) {
    const where = id.kind === "variable" ? `stage \`${id.stage}\`` : "this file";
    return `${title}: not defined in ${where}`;
  }
  const at = lineOf(doc, definition);
  const value = definition.value;
  // Read from the lines of a file that does not parse: where, but no value.
  if (value === undefined && !definition.builtin) return `${title}${at}`;
  const obj = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  switch (id.kind) {
    case "limit":
      return `${title}${at}: ${inline(value)} slots`;
    case "executor":
      if (definition.builtin) return `${title}: built in (type \`${String(obj.type)}\`)`;
      return `${title}${at}: type ${inline(obj.type ?? "?")}${typeof obj.max === "number" ? `, max ${obj.max}` : ""}${
        typeof obj.description === "string" ? `\n\n${obj.description}` : ""
      }`;
    case "stage": {
      const action =
        obj.run !== undefined ? `run: ${inline(obj.run)}` : obj.fn !== undefined ? `fn: ${inline(obj.fn)}` : "no `run` or `fn` yet";
      return `${title}${at}: ${action}${typeof obj.description === "string" ? `\n\n${obj.description}` : ""}`;
    }
    case "param":
      return `${title}${at}: default ${inline(value)}`;
    case "variable":
      return `${title} of stage \`${id.stage}\`${at}: ${variableSource(doc, id, value)}`;
  }
}

/** Where a foreach variable's values come from and, when known, the first of them. */
function variableSource(doc: ServiceDocument, id: SymbolId, source: unknown): string {
  const stage = doc.validated?.workflow.stages.get(id.stage ?? "");
  const resolved = stage?.fanout.vars.find((v) => v.name === id.name);
  if (resolved !== undefined) return `${resolved.source}, ${firstValues(resolved)}`;
  if (typeof source === "object" && source !== null && !Array.isArray(source)) {
    const [kind, what] = Object.entries(source)[0] ?? ["?", ""];
    if (kind === "decides") return "decided by the stage's job when it runs";
    return `${kind} ${inline(what)}`;
  }
  if (Array.isArray(source))
    return `list, ${source.length} value${source.length === 1 ? "" : "s"}: ${source.slice(0, 3).map(inline).join(", ")}${source.length > 3 ? ", ..." : ""}`;
  return inline(source);
}

function firstValues(v: FanVar): string {
  const n = varSize(v.values);
  const shown = Array.from({ length: Math.min(n, 3) }, (_, i) => inline(String(varValue(v.values, i))));
  return `${n} value${n === 1 ? "" : "s"}${n > 0 ? `: ${shown.join(", ")}${n > 3 ? ", ..." : ""}` : ""}`;
}
