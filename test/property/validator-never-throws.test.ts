/**
 * The validator's promise (STYLE habits 3 and 4): whatever a user writes, it
 * answers with located diagnostics and never throws. We take the sample
 * workflows, break them at random, in the text and in the data, and check
 * that every answer is either a success or a list of well-formed errors that
 * the printer can show.
 *
 * fast-check prints the seed and the shrunk counterexample on failure; rerun
 * one with `fc.assert(..., { seed, path })`.
 */
import fc from "fast-check";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { describe, expect, test } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import type { Diagnostic, Span } from "../../compiler/diagnostics/diagnostic.js";
import { formatDiagnostic } from "../../compiler/diagnostics/format.js";
import { visible, visibleSource } from "../../compiler/diagnostics/visible.js";
import type { SourceFormat } from "../../compiler/source/document.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument, type ValidateResult } from "../../compiler/validate.js";
import { loadSampleFiles, type SampleFile } from "./samples.js";

const samples = loadSampleFiles();

// ---------------------------------------------------------------------------
// The property: what every answer of the validator must look like.

/** 1-based line and column of an offset, computed independently of LineIndex. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  return { line, column };
}

function expectSpanWithin(span: Span | undefined, text: string, what: string): asserts span is Span {
  expect(span, `${what}: a diagnostic from a file must have a span`).toBeDefined();
  const { start, end } = span!;
  expect(Number.isInteger(start) && Number.isInteger(end), `${what}: integer offsets`).toBe(true);
  expect(0 <= start && start <= end && end <= text.length, `${what}: span [${start}, ${end}) within text of length ${text.length}`).toBe(
    true,
  );
}

/**
 * Success (no errors, `validated` set) or at least one error; every diagnostic
 * has a stable code, a message and a span inside the file (only command-line
 * `--param` errors have no location), and prints with `path:line:col: ` first.
 */
function expectWellFormed(result: ValidateResult, path: string, text: string): void {
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (result.validated !== undefined) expect(errors, "validated, so no errors").toEqual([]);
  else expect(errors.length, "not validated, so at least one error").toBeGreaterThan(0);

  const file = new SourceFile(path, text);
  const lookup = (p: string) => (p === path ? file : undefined);
  for (const d of result.diagnostics) {
    const what = `${d.code} ${JSON.stringify(d.message)}`;
    expect(d.code, what).toMatch(/^WFC\d{3}$/);
    expect(d.message.trim(), what).not.toBe("");
    expect(["error", "warning"], what).toContain(d.severity);
    let printed = "";
    expect(() => (printed = formatDiagnostic(d, lookup)), what).not.toThrow();
    expect(() => formatDiagnostic(d, lookup, { color: true }), what).not.toThrow();
    const lines = printed.split("\n");
    const first = lines[0] ?? "";
    // A message that quotes a user's multi-line value spans several lines (a
    // known defect, pinned in test/unit/format.test.ts); the snippet follows it.
    const headerLines = printed.startsWith(`${first.split(": ")[0]}: ${d.severity} ${d.code}: ${d.message}`)
      ? d.message.split("\n").length
      : 1;
    const [second, third] = lines.slice(headerLines);
    if (d.location === undefined) {
      expect(["WFC216", "WFC247"], `${what}: only command-line param errors have no location`).toContain(d.code);
      expect(first.startsWith(`wfc: error ${d.code}: `), `${what}: printed as\n${printed}`).toBe(true);
      continue;
    }
    expect(d.location.file, what).toBe(path);
    expectSpanWithin(d.location.span, text, what);
    const { line, column } = lineColumn(text, d.location.span.start);
    expect(first.startsWith(`${path}:${line}:${column}: ${d.severity} ${d.code}: `), `${what}: printed as\n${printed}`).toBe(true);
    // The source line under the header, then a marker of at least one caret.
    const source = visibleSource(text.split("\n")[line - 1]!.replace(/\r$/, ""));
    expect(second, `${what}: printed as\n${printed}`).toBe(`${String(line).padStart(String(line).length + 1)} | ${source}`);
    expect(third, `${what}: printed as\n${printed}`).toMatch(/^ +\| +\^+/);
    // A diagnostic about a name the user wrote points at that name.
    const match = NAMED.exec(d.message);
    const named = match?.[1] ?? match?.[2];
    const at = text.slice(d.location.span.start, d.location.span.end);
    // (A YAML block scalar, `executor: |`, is located at its indicator, and
    // so is an empty explicit key, `?`, which YAML reads as null.)
    if (named !== undefined && !/^[|>]/.test(at) && !(at === "?" && named === "null")) {
      // Messages are one line: control characters in the name are shown escaped.
      const escaped = visible(unquote(at, result.document?.format ?? "yaml"));
      expect(escaped, `${what}: the span must be the name itself, is ${JSON.stringify(at)}`).toBe(named);
    }
    // A diagnostic about a placeholder points at the placeholder when the
    // value's text has it verbatim (escapes may hide it; then the whole value).
    const placeholder = /^`(\{[^`]*\})`/.exec(d.message)?.[1];
    // (A value with a backslash may hold an escape that only looks like the message's escaped form: `{s\tage}`.)
    if (placeholder !== undefined && at.includes(placeholder) && !at.includes("\\")) {
      expect(at, `${what}: the span must be the placeholder itself`).toBe(placeholder);
    }
    for (const r of d.related ?? []) {
      expect(r.location.file, what).toBe(path);
      expectSpanWithin(r.location.span, text, `${what} (related ${JSON.stringify(r.message)})`);
      expect(r.message.trim(), what).not.toBe("");
    }
  }
}

/** Messages that name one word the user wrote (an unknown key, stage, limit or executor). */
const NAMED = /^(?:unknown key `(.*?)` in |unknown (?:stage|limit|executor) `(.*?)`(?: in `after` of stage `.*`)?$)/s;

/** A name as written (quoted, escaped or plain), read back by the format's own parser. */
function unquote(written: string, format: SourceFormat): string {
  try {
    const value: unknown =
      format === "json" ? JSON.parse(written) : format === "toml" ? (parseToml(`x = ${written}`) as { x: unknown }).x : parseYaml(written);
    return typeof value === "string" ? value : written;
  } catch {
    return written;
  }
}

async function validateText(path: string, format: SourceFormat, text: string, params?: Record<string, string>): Promise<ValidateResult> {
  const document = parseSource(new SourceFile(path, text), format);
  return validateDocument(document, params === undefined ? {} : { params });
}

// ---------------------------------------------------------------------------
// Generators shared by both kinds of mutation.

/** Strings that mean something to the parsers, the template language, globs or the schema. */
const SPECIAL_STRINGS = [
  "",
  " ",
  "{",
  "}",
  "{{",
  "}}",
  "{}",
  "{ }",
  "{params.x}",
  "{params.n_chunks}",
  "{params.micrographs}",
  "{params.sleep}",
  "{params}",
  "{params.}",
  "{inputs}",
  "{outputs}",
  "{inputs.query}",
  "{outputs.nope}",
  "{stage}",
  "{chunk}",
  "{i}",
  "{i.col}",
  "{element}",
  "{nope}",
  "{a b}",
  "x{chunk",
  "x}y",
  "*",
  "**",
  "?",
  "[",
  "[a-z]",
  "a/*.tsv",
  "work/**/x",
  "work/hits/*.tsv",
  "work/{i}.stage2",
  "work/chunks/chunk-{chunk}.fa",
  "#",
  "x#y",
  "./tasks/nope.mjs#fn",
  "./tasks/protocol.mjs#processStep",
  "90s",
  "1h30m",
  "01:30:00",
  "2-00:00:00",
  "99:99",
  "4G",
  "4GiB",
  "0M",
  "-1",
  "1e999",
  "NaN",
  "true",
  "null",
  "threads",
  "processes",
  "slurm",
  "htex",
  "protocol",
  "ftp_download_limit",
  "split",
  "search",
  "stage2",
  "processStep",
  "run",
  "fn",
  "é",
  "🎉",
  "日本語",
  "a\u0000b",
  "\t",
  "\n",
  "line\nbreak",
  "'",
  '"',
  "\\",
  "- x",
  ": y",
  "&anchor",
  "*alias",
  "!!str",
  "__proto__",
  "constructor",
];

const specialString = fc.constantFrom(...SPECIAL_STRINGS);

/**
 * No `..` and no leading `/`: a mutated `glob` or `sheet` must stay inside the
 * sample's folder, or a case could scan the whole disk or read `/dev/zero`.
 */
function confined(s: string): string {
  return s.replace(/\.\./g, "._").replace(/^[/\\]+/, "");
}

const anyString = fc
  .oneof(
    { weight: 3, arbitrary: specialString },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("{", "}", "*", "/", ".", "a", "_", "#", " ", "params"), maxLength: 10 }) },
  )
  .map(confined);

const anyNumber = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.integer(),
  fc.constantFrom(0, -0, 1, 2, -1, 0.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e21, 1e308, -1e308, 5e-324, Infinity, -Infinity, NaN),
  fc.double(),
);

const scalarValue = fc.oneof(
  { weight: 4, arbitrary: anyString },
  { weight: 3, arbitrary: anyNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

/** Keys the language knows, so a mutation often lands on a meaningful field. */
const KNOWN_KEYS = [
  "wfc",
  "name",
  "description",
  "params",
  "jobs",
  "limits",
  "executors",
  "defaults",
  "stages",
  "run",
  "fn",
  "foreach",
  "zip",
  "inputs",
  "outputs",
  "after",
  "limit",
  "labels",
  "expected",
  "batch",
  "executor",
  "cpus",
  "mem",
  "time",
  "retries",
  "timeout",
  "env",
  "fuse",
  "range",
  "glob",
  "sheet",
  "key",
  "weight",
  "type",
  "runs",
  "max",
  "partition",
  "options",
  "licenses",
  "max_array_size",
  "$schema",
];

const anyKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KNOWN_KEYS) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/) },
  { weight: 1, arbitrary: fc.constantFrom("", "bad name", "1st", "é", "a.b", "x*", "{x}", "-x", "__proto__", "constructor", "toString") },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

const { value: anyValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    { weight: 5, arbitrary: scalarValue },
    { weight: 1, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(anyKey, tie("value"), { maxKeys: 4 }) },
  ),
}));

/** `--param` overrides: known and unknown names, values of every type. */
const cliParams = fc.option(
  fc.dictionary(
    fc.constantFrom("split_size", "n_chunks", "k", "min_jaccard", "sleep", "micrographs", "nope", "K"),
    fc.constantFrom("1", "0", "-1", "3", "1.5", "abc", "", "true", "null", "[a,b]", "a,b", "[1, [2]]", "{a: 1}", "{", "1e999", "é"),
    { maxKeys: 3 },
  ),
  { nil: undefined, freq: 3 },
);

const sampleIndex = fc.nat({ max: Math.max(0, samples.length - 1) });

// ---------------------------------------------------------------------------
// (a) Text-level mutations.

const VALUE_TOKENS = [
  "1",
  "0",
  "-1",
  "1e309",
  "9999999999999999999999",
  "0.5",
  "true",
  "null",
  "~",
  '""',
  "''",
  '"{"',
  '"}"',
  '"{params.x}"',
  '"{nope}"',
  '"*"',
  '"a/**/b"',
  '"é🎉"',
  "[]",
  "{}",
  "[1, [2]]",
  "{ a = 1 }",
  "{ a: 1 }",
  '[ { name = "x" } ]',
  "1979-05-27T07:32:00Z",
  "1979-05-27",
  "07:32:00",
  "inf",
  "nan",
  "0x10",
  "|",
  ">-",
  "&a",
  "*a",
  "!!int x",
  "'unclosed",
  '"unclosed',
  "[unclosed",
  "{unclosed",
];

const textMutation = fc.oneof(
  fc.record({ kind: fc.constant("deleteLine" as const), line: fc.nat() }),
  fc.record({ kind: fc.constant("duplicateLine" as const), line: fc.nat() }),
  fc.record({ kind: fc.constant("swapLines" as const), line: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.string({
        unit: fc.constantFrom(..."{}[]()\"':=,#-*&!|>?%@`\\\n\t .0123456789abcxyz_", "\r\n"),
        minLength: 1,
        maxLength: 6,
      }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }),
      specialString,
    ),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("indent" as const),
    line: fc.nat(),
    indent: fc.constantFrom("", " ", "  ", "    ", "\t", " \t", "        "),
    keep: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("replaceValue" as const), line: fc.nat(), token: fc.constantFrom(...VALUE_TOKENS) }),
  fc.record({ kind: fc.constant("crlf" as const) }),
);
type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

/** `key: value`, `key = value` or `- value`: the value part is group 2. */
const VALUE_LINE = /^(\s*(?:-\s+)?(?:[A-Za-z0-9_"'$.-]+\s*[:=]\s+|-\s+))(\S.*)$/;

function applyTextMutation(text: string, m: TextMutation): string {
  const lines = text.split("\n");
  const pick = (n: number) => n % lines.length;
  switch (m.kind) {
    case "deleteLine":
      lines.splice(pick(m.line), 1);
      return lines.join("\n");
    case "duplicateLine": {
      const i = pick(m.line);
      lines.splice(i, 0, lines[i]!);
      return lines.join("\n");
    }
    case "swapLines": {
      const i = pick(m.line);
      const j = pick(m.other);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join("\n");
    }
    case "insert": {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case "truncate":
      return text.slice(0, m.at % (text.length + 1));
    case "indent": {
      const i = pick(m.line);
      const line = lines[i]!;
      lines[i] = m.keep ? m.indent + line : m.indent + line.trimStart();
      return lines.join("\n");
    }
    case "crlf":
      // Windows line endings: offsets shift by one per line, columns must not.
      return text.replace(/\r?\n/g, "\r\n");
    case "replaceValue": {
      // Walk from the chosen line to the next one that has a value.
      for (let k = 0; k < lines.length; k++) {
        const i = (m.line + k) % lines.length;
        const match = VALUE_LINE.exec(lines[i]!);
        if (match === null) continue;
        lines[i] = match[1]! + m.token;
        return lines.join("\n");
      }
      return text;
    }
  }
}

// ---------------------------------------------------------------------------
// (b) Data-level mutations.

type DataPath = (string | number)[];

const stageName = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", "bad name", "1st", "é", "a.b", "x*", "{x}", "-x", "__proto__", "constructor", "params", "stages"),
  },
  // Another stage's name: the rename merges two stages.
  {
    weight: 1,
    arbitrary: fc.constantFrom("split", "search", "merge", "summarize", "stage2", "make_files", "processStep", "createOutputStep"),
  },
);

/** Every key a stage may have, so a mutation often lands on one the compiler reads. */
const STAGE_KEYS = [
  "description",
  "run",
  "fn",
  "foreach",
  "zip",
  "inputs",
  "outputs",
  "after",
  "limit",
  "labels",
  "expected",
  "batch",
  "executor",
  "cpus",
  "mem",
  "time",
  "retries",
  "timeout",
  "env",
  "fuse",
] as const;

const dataMutation = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat(),
      extend: fc.option(anyKey, { nil: undefined }),
      value: anyValue,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("stageField" as const),
      stage: fc.nat(),
      key: fc.constantFrom(...STAGE_KEYS),
      value: anyValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("rename" as const), stage: fc.nat(), name: stageName }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("cycle" as const),
      stages: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
      asList: fc.boolean(),
    }),
  },
);
type DataMutation = typeof dataMutation extends fc.Arbitrary<infer T> ? T : never;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every path in a value, the root first, in document order. */
function pathsOf(value: unknown, base: DataPath = [], out: DataPath[] = []): DataPath[] {
  out.push(base);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...base, i], out));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) pathsOf(v, [...base, k], out);
  return out;
}

function getAt(root: unknown, path: DataPath): unknown {
  let node = root;
  for (const segment of path) node = (node as Record<string | number, unknown>)[segment];
  return node;
}

function setAt(root: unknown, path: DataPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  // defineProperty, so a `__proto__` key becomes data rather than a prototype.
  Object.defineProperty(parent, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

function deleteAt(root: unknown, path: DataPath): unknown {
  if (path.length === 0) return {};
  const parent = getAt(root, path.slice(0, -1));
  const last = path.at(-1)!;
  if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete (parent as Record<string, unknown>)[last];
  return root;
}

function stagesOf(data: unknown): Record<string, unknown> | undefined {
  return isObject(data) && isObject(data.stages) ? data.stages : undefined;
}

function applyDataMutation(data: unknown, m: DataMutation): unknown {
  // fast-check replays and shrinks the values it generated: copy them before
  // they join the data, where later mutations change them in place.
  if ("value" in m) m = { ...m, value: structuredClone(m.value) };
  switch (m.kind) {
    case "set": {
      const paths = pathsOf(data);
      const path = paths[m.at % paths.length]!;
      const target = getAt(data, path);
      if (m.extend !== undefined && isObject(target)) return setAt(data, [...path, m.extend], m.value);
      if (m.extend !== undefined && Array.isArray(target)) {
        target.push(m.value);
        return data;
      }
      return setAt(data, path, m.value);
    }
    case "delete": {
      const paths = pathsOf(data);
      return deleteAt(data, paths[m.at % paths.length]!);
    }
    case "stageField": {
      const stages = stagesOf(data);
      const names = stages === undefined ? [] : Object.keys(stages).filter((n) => isObject(stages[n]));
      if (names.length === 0) return data;
      return setAt(data, ["stages", names[m.stage % names.length]!, m.key], m.value);
    }
    case "rename": {
      const stages = stagesOf(data);
      if (stages === undefined) return data;
      const names = Object.keys(stages);
      if (names.length === 0) return data;
      const old = names[m.stage % names.length]!;
      // Rebuild in order, so the renamed stage keeps its place in the file.
      const renamed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(stages)) setAt(renamed, [k === old ? m.name : k], v);
      (data as Record<string, unknown>).stages = renamed;
      return data;
    }
    case "cycle": {
      // s0 after s1, s1 after s2, …, the last after s0: a cycle through `after`
      // (a self-loop for one stage), on top of whatever the data edges are.
      const stages = stagesOf(data);
      if (stages === undefined) return data;
      const names = Object.keys(stages).filter((n) => isObject(stages[n]));
      if (names.length === 0) return data;
      const chosen = m.stages.map((i) => names[i % names.length]!);
      chosen.forEach((name, i) => {
        const stage = stages[name] as Record<string, unknown>;
        const next = chosen[(i + 1) % chosen.length]!;
        const after = stage.after;
        stage.after = Array.isArray(after) ? [...after, next] : m.asList ? [next] : next;
      });
      return data;
    }
  }
}

/** TOML has no null; drop nulls, which TOML users could not write either. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map(withoutNulls);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) setAt(out, [k], withoutNulls(v));
    return out;
  }
  return value;
}

/** Serializes mutated data; TOML falls back to YAML for data TOML cannot hold (a non-table root). */
function serialize(data: unknown, format: SourceFormat): { format: SourceFormat; text: string } {
  switch (format) {
    case "yaml":
      return { format, text: stringifyYaml(data) };
    case "json":
      return { format, text: JSON.stringify(data, null, 2) ?? "null" };
    case "toml":
      try {
        return { format, text: stringifyToml(withoutNulls(data) as Record<string, unknown>) };
      } catch {
        return { format: "yaml", text: stringifyYaml(data) };
      }
  }
}

function sampleData(sample: SampleFile): unknown {
  return sample.format === "yaml" ? parseYaml(sample.text) : parseToml(sample.text);
}

// ---------------------------------------------------------------------------

describe("the validator on mutated sample workflows", () => {
  test("at least one sample workflow exists", () => {
    expect(samples.map((s) => s.label).length).toBeGreaterThan(0);
  });

  test("accepts every sample as written", async () => {
    for (const sample of samples) {
      const result = await validateText(sample.path, sample.format, sample.text);
      expect(
        result.diagnostics.filter((d: Diagnostic) => d.severity === "error"),
        sample.label,
      ).toEqual([]);
      expectWellFormed(result, sample.path, sample.text);
    }
  });

  test("never throws on text-level mutations, and every diagnostic is located and printable", async () => {
    await fc.assert(
      fc.asyncProperty(sampleIndex, fc.array(textMutation, { minLength: 1, maxLength: 3 }), cliParams, async (i, mutations, params) => {
        const sample = samples[i % samples.length]!;
        // A lone CR (not before LF) is a known defect pinned in
        // test/unit/yaml-locate.test.ts; keep it out so this finds others.
        const text = mutations.reduce(applyTextMutation, sample.text).replace(/\r(?!\n)/g, "");
        const result = await validateText(sample.path, sample.format, text, params);
        expectWellFormed(result, sample.path, text);
      }),
      { numRuns: 1000 },
    );
  });

  test("never throws on data-level mutations written back as YAML, TOML or JSON", async () => {
    await fc.assert(
      fc.asyncProperty(
        sampleIndex,
        fc.array(dataMutation, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<SourceFormat>("yaml", "toml", "json"),
        cliParams,
        async (i, mutations, wanted, params) => {
          const sample = samples[i % samples.length]!;
          const data = mutations.reduce(applyDataMutation, sampleData(sample));
          const { format, text } = serialize(data, wanted);
          // In the sample's folder, so `fn` modules and data files resolve as they would.
          const path = `${sample.dir}/mutated.${format}`;
          const result = await validateText(path, format, text, params);
          expectWellFormed(result, path, text);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

/** Inputs no mutation of a small sample reaches: sizes and depths at the edge. */
describe("the validator on extreme workflows", () => {
  const path = "/tmp/wfc-extreme/wf.yaml";
  const check = async (text: string, format: SourceFormat = "yaml") => {
    const result = await validateText(path.replace(/yaml$/, format), format, text);
    expectWellFormed(result, path.replace(/yaml$/, format), text);
    return result;
  };
  const twoStages = (output: string, input: string) =>
    `wfc: 1\nstages:\n  a:\n    outputs: "${output}"\n    run: "true"\n  b:\n    inputs: "${input}"\n    outputs: out\n    run: "true"\n`;

  test("a 10,000-character path read by another stage", async () => {
    const long = "x".repeat(10_000);
    const result = await check(twoStages(long, long));
    expect(result.validated?.edges.map((e) => `${e.from} → ${e.to} (${e.kind})`)).toEqual(["a → b (data)"]);
  });

  test("a 100,000-character path read by another stage", async () => {
    const long = "x".repeat(100_000);
    await check(twoStages(long, long));
  });

  test("a glob of 10,000 stars against a 10,000-character output", async () => {
    await check(twoStages("x".repeat(10_000), "*".repeat(10_000)));
  });

  test("lists nested 5,000 deep, in YAML, TOML and JSON", async () => {
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    await check(`wfc: 1\nstages:\n  a:\n    run: ${deep}\n`, "yaml");
    await check(`wfc = 1\n[stages.a]\nrun = ${deep}\n`, "toml");
    await check(`{"wfc": 1, "stages": {"a": {"run": ${deep}}}}`, "json");
  });

  test("a 2,000-stage chain, and a 2,000-stage `after` cycle reported with its whole trail", async () => {
    const chain = Array.from({ length: 2000 }, (_, i) => `  s${i}:\n    inputs: "f${i}"\n    outputs: "f${i + 1}"\n    run: "true"\n`);
    const ok = await check(`wfc: 1\nstages:\n${chain.join("")}`);
    expect(ok.validated?.edges).toHaveLength(1999);

    const cycle = Array.from({ length: 2000 }, (_, i) => `  s${i}:\n    after: s${(i + 1) % 2000}\n    run: "true"\n`);
    const bad = await check(`wfc: 1\nstages:\n${cycle.join("")}`);
    expect(bad.diagnostics.map((d) => d.code)).toEqual(["WFC204"]);
    // The message names all 2,000 links; the notes stop at the first 20.
    expect(bad.diagnostics[0]!.message.split(" → ")).toHaveLength(2001);
    expect(bad.diagnostics[0]!.related).toHaveLength(20);
    expect(bad.diagnostics[0]!.help).toContain("the first 20 of its 2000 links are noted");
  });
});
