/**
 * Every run appends what it ran, and a plan change stamps records again
 * (vouched-commands.test.ts): a journal only grows until `compact`
 * rewrites it with the last record of each unit. Real files in a temp
 * folder; a run on the compacted journal finds everything up to date.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { Journal, type JournalRecord } from "../../runtime/state/journal.js";
import { fixture, wfc } from "../e2e/helpers.js";

const rec = (element: string, hash: string): JournalRecord => ({ stage: "s", element, status: "done", hash, start: 1, end: 2 });

test("a journal mostly of superseded records is rewritten with the last of each, which it then reads the same", () => {
  const dir = fixture({});
  const lines: string[] = [];
  // 12,000 runs of one unit and one record of another, then a torn line an old crash left.
  for (let i = 0; i < 12_000; i++) lines.push(JSON.stringify(rec("i=0", `h${i}`)));
  lines.push(JSON.stringify(rec("i=1", "only")));
  writeFileSync(join(dir, "journal.ndjson"), lines.join("\n") + '\n{"stage":"s","elem');
  const journal = new Journal(dir);
  journal.compact();
  const text = readFileSync(join(dir, "journal.ndjson"), "utf8");
  expect(text.split("\n").filter((l) => l !== "")).toEqual([JSON.stringify(rec("i=0", "h11999")), JSON.stringify(rec("i=1", "only"))]);
  expect(existsSync(join(dir, "journal.ndjson.new"))).toBe(false);
  // It goes on appending after the rewrite, and a fresh read sees the same.
  journal.append(rec("i=2", "new"));
  journal.close();
  const again = new Journal(dir);
  expect([again.get("s", "i=0")?.hash, again.get("s", "i=1")?.hash, again.get("s", "i=2")?.hash]).toEqual(["h11999", "only", "new"]);
});

test("a journal with few superseded records is left as it is, byte for byte", () => {
  const dir = fixture({});
  const text = [rec("i=0", "a"), rec("i=0", "b"), rec("i=1", "c")].map((r) => JSON.stringify(r) + "\n").join("");
  writeFileSync(join(dir, "journal.ndjson"), text);
  new Journal(dir).compact();
  expect(readFileSync(join(dir, "journal.ndjson"), "utf8")).toBe(text);
});

test("wfc run compacts a long journal and finds every job still up to date", async () => {
  const dir = fixture({
    "wf.yaml": `wfc: 1
stages:
  make:
    foreach: { i: { range: [0, 3] } }
    outputs: "out/{i}.txt"
    run: "echo {i} > {outputs}"
`,
  });
  expect((await wfc(["run", "wf.yaml"], { cwd: dir })).exitCode).toBe(0);
  const journal = join(dir, ".wfc/journal.ndjson");
  const live = readFileSync(journal, "utf8");
  // Superseded records of a unit that is no longer in the workflow, as years of runs leave.
  const old = Array.from({ length: 11_000 }, (_, i) => JSON.stringify({ ...rec("i=9", `h${i}`), stage: "gone" }) + "\n").join("");
  writeFileSync(journal, old + live);
  const r = await wfc(["run", "wf.yaml"], { cwd: dir });
  expect(r.stderr).toMatch(/^ok: 0 done, 3 up to date/m);
  const after = readFileSync(journal, "utf8")
    .split("\n")
    .filter((l) => l !== "");
  expect(after).toHaveLength(4);
  expect(after.filter((l) => l.includes('"stage":"make"'))).toEqual(live.split("\n").filter((l) => l !== ""));
});
