/**
 * wfc's one glob semantics (contract/glob.ts) against the walk on disk, and
 * the compiler's symbolic template intersection (compiler/graph/pattern.ts)
 * against both. The compiler (dependency inference, element edges, foreach
 * values) and the runtime (gathered inputs) match with `globMatcher`, so
 * "compile-time match = run-time match" is "globMatcher = tinyglobby's walk"
 * on a real tree, for globs in wfc's syntax: `*`, `**`, `?`, `[...]`.
 *
 * fast-check prints the seed and the shrunk counterexample on failure; rerun
 * one with `fc.assert(..., { seed, path })`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import picomatch from "picomatch";
import { describe, expect, test } from "vitest";
import { globCapture, globMatcher, walkGlob } from "../../contract/glob.js";
import { compileFile } from "../../compiler/compile.js";
import { intersects, toPattern } from "../../compiler/graph/pattern.js";
import { Expander } from "../../runtime/jobs/expand.js";
import { globProblem } from "../../contract/paths.js";
import { fixture } from "../e2e/helpers.js";
import type { Param } from "../../compiler/lower/ast.js";
import { parseTemplate } from "../../compiler/lower/template.js";

// ---------------------------------------------------------------------------
// Generators: few letters, so globs and paths meet often.

/** A path segment: letters, and sometimes a leading or inner `.` (dotfiles are special). */
const segment = fc.stringMatching(/^\.?[abc][abc.]{0,2}$/);
/** A relative path: one to four non-empty segments. */
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));

/**
 * One piece of a glob segment. `[!a.]`, not `[!a]`: a negated set matches a
 * leading `.` for picomatch, but after `**` tinyglobby's walk does not go
 * into such a folder (`**\/[!a]b/a` misses `.b/a`). Globs rarely negate at
 * the start of a name; dotfiles stay out of the way of the rest.
 */
const piece = fc.constantFrom("a", "b", "c", ".", "*", "?", "[ab]", "[!a.]", "**");
/** A glob segment: `**` alone (any folders), or pieces (`**` inside one is a `*`). */
const globSegment = fc.oneof(
  { arbitrary: fc.constant("**"), weight: 1 },
  { arbitrary: fc.array(piece, { minLength: 1, maxLength: 3 }).map((p) => p.join("")), weight: 4 },
);
/**
 * A glob: `.` alone is no segment (picomatch and tinyglobby drop `./`,
 * pattern.ts does not), no `***`, which picomatch 4.0.7 compiles wrong
 * (`c.x/***b` leaves the `.` of `c.x` unescaped, so it matches `ccx/b`), and
 * no segment `*.*` (below).
 */
const glob = fc
  .array(
    globSegment.filter((s) => s !== "."),
    { minLength: 1, maxLength: 4 },
  )
  .map((s) => s.join("/"))
  // A segment `*.*` is a picomatch fast path that wants a character after the `.`, alone
  // but not inside a longer glob, so the walk (segment by segment) and the matcher differ on `b.`.
  .filter((g) => !g.includes("***") && !g.split("/").includes("*.*"));

/**
 * A glob wfc walks: not one it refuses (`..*` would search the parent
 * folder). Nor `**\/**`: for a folder that is not there, tinyglobby answers
 * `a/**\/**` with `a/.`, a quirk of the walk, not of the matching.
 */
const walkable = glob.filter((g) => globProblem(g) === undefined && !g.includes("**/**") && !dotAfterGlobstar(g));

/**
 * `**\/.a`: picomatch matches `.a` and `x/.a`, but tinyglobby's walk does not
 * go into a dot-folder after a `**`, even one the glob names (it finds
 * `x/.a/`, not `.a/`, and nothing for `**\/.a/c`). A known gap of the walk.
 */
function dotAfterGlobstar(g: string): boolean {
  const segments = g.split("/");
  const star = segments.findIndex((s) => s.includes("**"));
  return star !== -1 && segments.slice(star).some((s) => s.startsWith("."));
}

/** The exact fragment of the symbolic patterns: literals and `*`, on paths without dotfiles. */
const plainGlob = fc
  .array(fc.array(fc.constantFrom("a", "b", "c", ".", "*"), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 })
  .map((s) => s.map((p) => p.join("")).join("/"))
  // A whole glob `*.*` is a picomatch fast path that wants a character after the `.`.
  .filter((g) => !g.includes("**") && !g.split("/").includes(".") && g !== "*.*");
const plainPath = fc.array(fc.stringMatching(/^[abc][abc.]{0,2}$/), { minLength: 1, maxLength: 4 }).map((s) => s.join("/"));

/** Files for a tree: no path may be both a file and a folder. */
function files(paths: readonly string[]): string[] {
  const sorted = [...new Set(paths)].sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const out: string[] = [];
  for (const p of sorted) if (!out.some((f) => p.startsWith(`${f}/`))) out.push(p);
  return out.filter((f) => !out.some((g) => g.startsWith(`${f}/`)));
}

/** Every file and folder of the tree, as the walk names them. */
function entries(fileList: readonly string[]): string[] {
  const all = new Set<string>();
  for (const f of fileList) {
    const parts = f.split("/");
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join("/"));
  }
  return [...all].sort();
}

const noParams = new Map<string, Param>();
const inputPattern = (g: string) => toPattern(parseTemplate(g).template, noParams, true);
const outputPattern = (p: string) => toPattern(parseTemplate(p).template, noParams, false);

describe("globMatcher (compile time and run time) = tinyglobby's walk on a real tree", () => {
  test("for random globs and trees, a path matches exactly when the walk finds it", async () => {
    await fc.assert(
      fc.asyncProperty(walkable, fc.array(path, { minLength: 1, maxLength: 8 }), async (g, paths) => {
        const dir = mkdtempSync(join(tmpdir(), "wfc-globs-"));
        try {
          const tree = files(paths);
          for (const f of tree) {
            mkdirSync(join(dir, dirname(f)), { recursive: true });
            writeFileSync(join(dir, f), "");
          }
          // The walk names a folder `a/`; the path of the folder is `a`.
          const walked = (await walkGlob(g, dir, undefined)).map((w) => w.replace(/\/$/, "")).sort();
          const matches = globMatcher(g);
          // `.`, the folder itself, is a path the walk may name too (`[!a]*` matches it).
          expect(walked).toEqual([".", ...entries(tree)].filter((e) => matches(e)));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 300 },
    );
  });

  test("turning paths away by the glob's literal start, or matching only the rest after its literal folder, never changes an answer", () => {
    // The options tinyglobby gives picomatch for walkGlob's.
    const options = { dot: false, nobrace: true, noextglob: true, posix: true };
    const start = fc.constantFrom("", "./", "a/./", "a//", "\\a/", "!", "a/b/", "a/", "a.b/c/", ".a/");
    const candidate = fc.oneof(
      path,
      path.map((p) => `a/${p}`),
      path.map((p) => `a/b/${p}`),
      path.map((p) => `a.b/c/${p}`),
      path.map((p) => `.a/${p}`),
    );
    fc.assert(
      fc.property(start, glob, candidate, (s, g, p) => {
        expect(globMatcher(s + g)(p)).toBe(picomatch(s + g, options)(p));
        expect(globMatcher(s + g)(s + g)).toBe(picomatch(s + g, options)(s + g));
      }),
      { numRuns: 5000 },
    );
  });

  test("the examples of the issue", () => {
    const m = globMatcher("a/**/c.tsv");
    expect(["a/c.tsv", "a/b/c.tsv", "a/b/d/c.tsv", "a/xc.tsv", "a/.h/c.tsv"].filter((p) => m(p))).toEqual([
      "a/c.tsv",
      "a/b/c.tsv",
      "a/b/d/c.tsv",
    ]);
    const sample = globCapture("data/**/", ".fa");
    expect(["data/a.fa", "data/x/b.fa", "data/x/y/c.fa", "data/.h.fa", "data/x.fa.gz"].map(sample)).toEqual([
      "a",
      "b",
      "c",
      undefined,
      undefined,
    ]);
  });
});

describe("globCapture: the value of a foreach placeholder", () => {
  test("is defined exactly when the glob matches, stays within a segment, and put back in its place matches the path", () => {
    fc.assert(
      fc.property(glob, fc.nat(), path, (g, at, p) => {
        // The placeholder goes at a random place of the glob, as `{x}` would in `data/**/{x}.fa`.
        const cut = at % (g.length + 1);
        const before = g.slice(0, cut);
        const after = g.slice(cut);
        const value = globCapture(before, after)(p);
        const matches = globMatcher(`${before}*${after}`)(p);
        if (!matches) expect(value).toBeUndefined();
        // Inside `[...]` the placeholder is no wildcard of its own: no value, the caller uses the path.
        if (value === undefined) return;
        expect(matches).toBe(true);
        expect(value).not.toContain("/");
        // Next to a star the split is a choice (`a*{x}`), and picomatch reads `***` its own way.
        if (before.endsWith("*") || after.startsWith("*")) return;
        const literal = value.replace(/[*?[\]\\!]/g, "\\$&");
        expect(globMatcher(`${before}${literal}${after}`)(p)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("pattern.ts (symbolic) agrees with the concrete glob", () => {
  test("no match claimed: the glob matches no such path (dependencies are never missed)", () => {
    fc.assert(
      fc.property(glob, path, (g, p) => {
        if (!intersects(inputPattern(g), outputPattern(p))) expect(globMatcher(g)(p)).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  test("no match claimed against an output template: no value of its placeholder makes a matching path", () => {
    const template = fc.array(
      fc.oneof(
        segment,
        fc.constant("{x}"),
        segment.map((s) => `${s}{x}`),
      ),
      { minLength: 1, maxLength: 3 },
    );
    fc.assert(
      fc.property(glob, template, fc.array(fc.oneof(segment, path), { minLength: 1, maxLength: 5 }), (g, parts, values) => {
        const t = parts.join("/");
        if (intersects(inputPattern(g), outputPattern(t))) return;
        const matches = globMatcher(g);
        for (const v of values) expect(matches(t.replaceAll("{x}", v))).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  test("for literals and `*` on paths without dotfiles, a claimed match is a match and a claimed miss is a miss", () => {
    fc.assert(
      fc.property(plainGlob, plainPath, (g, p) => {
        expect(intersects(inputPattern(g), outputPattern(p))).toBe(globMatcher(g)(p));
      }),
      { numRuns: 5000 },
    );
  });
});

describe("compile time and run time together: element edges, then the gathered inputs", () => {
  test("a glob input gathers exactly the producer outputs the glob matches, whatever the foreach values", async () => {
    await fc.assert(
      // `**\/**`: when no producer matches, the job walks the disk, and tinyglobby names a missing `out` as `out/.`.
      fc.asyncProperty(
        glob.filter((g) => !g.includes("**/**")),
        fc.uniqueArray(path, { minLength: 1, maxLength: 6 }),
        async (g, values) => {
          const dir = fixture({
            "wf.yaml": {
              wfc: 1,
              stages: {
                make: { foreach: { p: values }, outputs: "out/{p}", run: "true" },
                use: { inputs: `out/${g}`, outputs: "used", run: "true" },
              },
            },
          });
          try {
            const compiled = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json") });
            const plan = compiled.plan;
            fc.pre(plan !== undefined);
            const task = plan.tasks.findIndex((t) => t.steps.some((s) => s.stage === "use"));
            const step = plan.tasks[task]!.steps.find((s) => s.stage === "use")!;
            fc.pre(step.inputs[0]!.glob); // `out/a` is a plain path, not a glob
            const command = await new Expander(plan, dir).step(task, step, 0);
            const matches = globMatcher(`out/${g}`);
            expect(command.inputs[0]!.paths).toEqual(
              values
                .map((v) => `out/${v}`)
                .filter((o) => matches(o))
                .sort(),
            );
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
