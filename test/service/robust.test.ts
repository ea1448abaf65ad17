import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { completions, definition, hover, prepareRename, references } from "../../compiler/service/service.js";
import { symbolIndex } from "../../compiler/service/symbols.js";
import { formatOf } from "../../compiler/source/parse.js";
import { open, openFile } from "./helpers.js";

const files = [
  ...readdirSync("samples")
    .filter((d) => d !== "invalid")
    .flatMap((d) => readdirSync(join("samples", d)).map((f) => join("samples", d, f))),
  ...readdirSync("samples/invalid").map((f) => join("samples/invalid", f)),
]
  .filter((f) => formatOf(f) === "yaml" || formatOf(f) === "toml")
  .sort();

describe("the service answers for every sample and broken corpus file, whole or cut short while typing", () => {
  test.each(files)("%s", async (path) => {
    const whole = await openFile(path);
    // Every located name is exactly the name.
    const index = symbolIndex(whole.doc.document, "workflow");
    for (const def of index.definitions.values()) for (const s of def.spans) expect(whole.text.slice(s.start, s.end)).toBe(def.id.name);
    for (const ref of index.references) if (ref.span) expect(whole.text.slice(ref.span.start, ref.span.end)).toBe(ref.id.name);
    const step = Math.max(1, Math.floor(whole.text.length / 60));
    for (let offset = 0; offset <= whole.text.length; offset += step) {
      hover(whole.doc, offset);
      completions(whole.doc, offset);
      definition(whole.doc, offset);
      references(whole.doc, offset, true);
      prepareRename(whole.doc, offset);
      // The same file typed up to here.
      if (offset % (step * 6) === 0) {
        const cut = await open(whole.text.slice(0, offset), formatOf(path)!, "workflow", path);
        completions(cut.doc, offset);
        hover(cut.doc, offset);
      }
    }
  });
});
