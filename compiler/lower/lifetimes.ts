/**
 * `temp` and `protected`: which of a stage's outputs live only until what
 * reads them is made, and which are made read-only once written. Each key is
 * `true` (every output) or a list naming outputs by their key in `outputs`
 * or by their template as written.
 */
import type { DataPath } from "../source/document.js";
import { didYouMean, oneOf } from "../diagnostics/suggest.js";
import type { OutputLifetime, PathDecl } from "./ast.js";
import type { DiagnosticSink } from "./sink.js";

const KEYS = ["temp", "protected"] as const satisfies readonly OutputLifetime[];

/** The outputs with their lifetime; unknown names and an output both temp and protected are reported. */
export function withLifetimes(
  raw: Readonly<Record<string, unknown>>,
  path: DataPath,
  outputs: readonly PathDecl[],
  sink: DiagnosticSink,
): PathDecl[] {
  const chosen = new Map<PathDecl, { lifetime: OutputLifetime; at: DataPath }>();
  for (const key of KEYS) {
    const value = raw[key];
    const at: DataPath = [...path, key];
    if (value === true) {
      if (outputs.length === 0) sink.error("WFC252", `\`${key}\` on a stage without outputs`, at, { help: `remove \`${key}\`` });
      for (const o of outputs) claim(o, key, at);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        if (typeof item !== "string") return;
        const named = outputs.filter((o) => o.name === item || o.template.source === item);
        if (named.length === 0) {
          const candidates = new Set(outputs.flatMap((o) => (o.name === undefined ? [o.template.source] : [o.name, o.template.source])));
          sink.error("WFC252", `\`${key}\` names \`${item}\`, which is not an output of this stage`, [...at, i], {
            expected: oneOf(candidates, "the stage has no outputs"),
            help: didYouMean(item, candidates) ?? "name an output by its key in `outputs`, or by its template as written there",
            typo: item,
          });
        }
        for (const o of named) claim(o, key, [...at, i]);
      });
    }
  }
  return outputs.map((o) => {
    const c = chosen.get(o);
    return c === undefined ? o : { ...o, lifetime: c.lifetime };
  });

  function claim(o: PathDecl, lifetime: OutputLifetime, at: DataPath): void {
    const earlier = chosen.get(o);
    if (earlier !== undefined && earlier.lifetime !== lifetime) {
      sink.error("WFC253", `output \`${o.template.source}\` is both \`temp\` and \`protected\``, at, {
        help: "an output is either removed once used (`temp`) or kept read-only (`protected`): choose one",
        related: [{ path: earlier.at, message: `it is \`${earlier.lifetime}\` here` }],
      });
      return;
    }
    chosen.set(o, { lifetime, at });
  }
}
