import type { Edit, Span } from "../diagnostics/diagnostic.js";
import { RESERVED_ROOTS, referencesTo, symbolAt, symbolIndex, symbolKey, type SymbolId, type SymbolIndex } from "./symbols.js";
import type { RenameResult, RenameTarget, ServiceDocument, SymbolKind } from "./service.js";

/** The names the schema allows for each kind (`propertyNames` of its map). */
const NAME_PATTERN: Readonly<Record<SymbolKind, RegExp>> = {
  stage: /^[A-Za-z_][A-Za-z0-9_-]*$/,
  limit: /^[A-Za-z_][A-Za-z0-9_-]*$/,
  executor: /^[A-Za-z_][A-Za-z0-9_-]*$/,
  param: /^[A-Za-z_][A-Za-z0-9_]*$/,
  variable: /^[A-Za-z_][A-Za-z0-9_]*$/,
};

export function prepareRenameAt(doc: ServiceDocument, offset: number): RenameTarget | undefined {
  const index = symbolIndex(doc.document, doc.kind);
  const symbol = symbolAt(index, offset);
  if (symbol === undefined || refusal(index, symbol.id) !== undefined) return undefined;
  return { span: symbol.span, kind: symbol.id.kind, name: symbol.id.name };
}

/** Why a symbol cannot be renamed in this file, if it cannot. */
function refusal(index: SymbolIndex, id: SymbolId): string | undefined {
  const definition = index.definitions.get(symbolKey(id));
  if (index.partial) return "the file does not parse: fix its syntax first, or the rename could miss uses of the name";
  if (id.kind === "executor") return "executors are not renamed: config files may name them too";
  if (definition === undefined) return `${id.kind} \`${id.name}\` is not defined in this file`;
  if (definition.builtin) return `\`${id.name}\` is built in`;
  if (id.kind === "variable") {
    const linked = fromLinks(index).get(id.stage ?? "");
    if (linked !== undefined)
      return `the foreach variables of stage \`${id.stage}\` are matched by name with those of stage \`${linked}\` (\`from\`): rename \`${id.name}\` in both by hand`;
  }
  if (definition.spans.length === 0) return `cannot find where \`${id.name}\` is defined in the text`;
  // A name written with an escape has no span that is exactly it: renaming around it would miss one.
  const unlocated = referencesTo(index, id).find((r) => r.span === undefined);
  if (unlocated !== undefined)
    return `cannot rename \`${id.name}\`: one of its uses is not written plainly (an escape?); rename it by hand`;
  return undefined;
}

export function renameAt(doc: ServiceDocument, offset: number, newName: string): RenameResult {
  const index = symbolIndex(doc.document, doc.kind);
  const symbol = symbolAt(index, offset);
  if (symbol === undefined)
    return { ok: false, message: "nothing to rename here: put the cursor on a stage, limit, param or foreach variable" };
  const { id } = symbol;
  const refused = refusal(index, id);
  if (refused !== undefined) return { ok: false, message: refused };
  if (!NAME_PATTERN[id.kind].test(newName))
    return { ok: false, message: `\`${newName}\` is not a valid ${id.kind} name: it must match ${NAME_PATTERN[id.kind].source}` };
  if (newName === id.name) return { ok: true, edits: [] };
  const taken = index.definitions.has(symbolKey({ ...id, name: newName }));
  if (taken) return { ok: false, message: `${id.kind} \`${newName}\` already exists` };
  if (id.kind === "variable" && RESERVED_ROOTS.has(newName)) return { ok: false, message: `\`{${newName}}\` is reserved in templates` };
  const spans: Span[] = [...index.definitions.get(symbolKey(id))!.spans, ...referencesTo(index, id).map((r) => r.span!)];
  const seen = new Set<number>();
  const edits: Edit[] = [];
  for (const span of spans.sort((a, b) => a.start - b.start)) {
    if (seen.has(span.start)) continue;
    seen.add(span.start);
    edits.push({ span, newText: newName });
  }
  return { ok: true, edits };
}

/**
 * Stages joined by `foreach: { v: { from: STAGE } }`: the consumer's variable
 * is the producer's decided one by name, and it has the producer's foreach
 * variables by name too, so a rename in one stage alone would break the link.
 */
function fromLinks(index: SymbolIndex): Map<string, string> {
  const links = new Map<string, string>();
  for (const ref of index.references) {
    const [top, consumer, key] = ref.path;
    if (ref.id.kind !== "stage" || top !== "stages" || key !== "foreach" || typeof consumer !== "string") continue;
    links.set(consumer, ref.id.name);
    links.set(ref.id.name, consumer);
  }
  return links;
}
