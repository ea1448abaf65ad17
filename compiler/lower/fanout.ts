import { extname, relative, resolve } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { unreachable } from "../../contract/unreachable.js";
import { globCapture, walkGlob } from "../../contract/glob.js";
import { globProblem } from "../../contract/paths.js";
import { didYouMean, oneOf } from "../diagnostics/suggest.js";
import type { DataPath } from "../source/document.js";
import type { DynamicVar, FanOut, FanVar, Param, Scalar, VarValues } from "./ast.js";
import { isDynamicVar, varSize } from "./ast.js";
import { spaceSize } from "../../contract/elements.js";
import { grouped, MAX_SHEET_BYTES, MAX_STAGE_ELEMENTS } from "../../contract/limits.js";
import { readSheetFile } from "./sheet-file.js";
import { globOutside } from "./outside.js";
import type { DiagnosticSink } from "./sink.js";
import { parseTemplate, wholeParamRef, type Template } from "./template.js";
import { parseLines } from "../../contract/expansion.js";

export interface FanOutContext {
  readonly sink: DiagnosticSink;
  readonly dir: string;
  readonly params: ReadonlyMap<string, Param>;
  /** Stops a glob's walk (Ctrl-C): lowering then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Whether some stage's output may be this path (a `lines` file read at run time, not now); none: never. */
  readonly produced?: (template: Template) => boolean;
}

/** Names a template means something else by: no variable, foreach or decided, may have them. */
export const RESERVED_NAMES: readonly string[] = ["params", "inputs", "outputs", "log", "stage", "cpus"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/**
 * Resolves a stage's `foreach` (and `zip`) to variables with concrete values.
 * Ranges stay symbolic, so a million-element range costs nothing here.
 */
export async function lowerFanOut(stagePath: DataPath, raw: Record<string, unknown>, ctx: FanOutContext): Promise<FanOut> {
  const vars: FanVar[] = [];
  const dynamic: DynamicVar[] = [];
  const unresolved: string[] = [];
  const foreach = raw.foreach;
  if (isObject(foreach)) {
    for (const [name, source] of Object.entries(foreach)) {
      const path = [...stagePath, "foreach", name];
      if (RESERVED_NAMES.includes(name)) {
        ctx.sink.error("WFC220", `\`${name}\` is reserved and cannot be a foreach variable`, path, {
          part: "key",
          help: `rename the variable; \`{${name}...}\` already means something in templates`,
        });
        // Its `{cpus}` uses meant the variable: reported here, not again as `{cpus}` in a path.
        if (name === "cpus") unresolved.push(name);
        continue;
      }
      const v = await lowerVar(name, path, source, ctx);
      if (v === undefined) unresolved.push(name);
      else if (isDynamicVar(v)) dynamic.push(v);
      else vars.push(v);
    }
  }

  const zip: string[] = [];
  if (Array.isArray(raw.zip)) {
    const zipPath = [...stagePath, "zip"];
    let length: number | undefined;
    let first: string | undefined;
    raw.zip.forEach((name, i) => {
      if (typeof name !== "string") return;
      const v = vars.find((x) => x.name === name);
      const late = dynamic.find((x) => x.name === name);
      if (late !== undefined) {
        ctx.sink.error(
          "WFC276",
          `\`zip\` names \`${name}\`, whose values are known only at run time (${late.source.kind === "from" ? `\`from: ${late.source.stage.name}\`` : "a `lines` file a stage writes"})`,
          [...zipPath, i],
          {
            expected: "foreach variables whose values are known now",
            help: "zip pairs values by position, and a run-time variable has its own values per element; remove it from `zip`",
            related: [{ path: late.path, message: `\`${name}\` is defined here`, part: "key" }],
          },
        );
        return;
      }
      if (!v) {
        const declared = isObject(foreach) && name in foreach;
        if (!declared) {
          ctx.sink.error("WFC211", `\`zip\` names \`${name}\`, which is not a foreach variable of this stage`, [...zipPath, i], {
            expected: vars.length > 0 ? `one of ${oneOf(vars.map((x) => x.name))}` : "a foreach variable",
            help: didYouMean(
              name,
              vars.map((x) => x.name),
            ),
            typo: name,
          });
        }
        return;
      }
      const size = varSize(v.values);
      if (length === undefined) {
        length = size;
        first = name;
      } else if (size !== length) {
        ctx.sink.error("WFC246", `cannot zip \`${first}\` (${length} values) with \`${name}\` (${size} values)`, [...zipPath, i], {
          expected: "variables with the same number of values",
          help: "zip pairs values by position; remove a variable from `zip` to cross it instead",
          related: [
            { path: v.path, message: `\`${name}\` is defined here`, part: "key" },
            { path: vars.find((x) => x.name === first)!.path, message: `\`${first}\` is defined here`, part: "key" },
          ],
        });
      }
      zip.push(name);
    });
  }

  const size = spaceSize(vars, zip, (v) => varSize(v.values));
  const factors: string[] = [];
  let zipped = false;
  for (const v of vars) {
    if (zip.includes(v.name)) {
      if (zipped) continue;
      zipped = true;
    }
    factors.push(`\`${zip.includes(v.name) ? zip.join("`+`") : v.name}\` ${grouped(varSize(v.values))}`);
  }
  if (size > MAX_STAGE_ELEMENTS) {
    ctx.sink.error(
      "WFC232",
      `this \`foreach\` makes ${grouped(size)} elements (${factors.join(" × ")}), more than the ${grouped(MAX_STAGE_ELEMENTS)} a stage can have`,
      [...stagePath, "foreach"],
      {
        part: "key",
        help: "give each job a chunk of the work (fewer, larger elements), or split the stage",
      },
    );
  }
  return { vars, dynamic, zip, size, unresolved };
}

async function lowerVar(name: string, path: DataPath, source: unknown, ctx: FanOutContext): Promise<FanVar | DynamicVar | undefined> {
  const { sink } = ctx;
  if (Array.isArray(source)) {
    if (!source.every(isScalar)) return undefined; // schema reported it
    warnEmpty(name, path, source.length, ctx);
    return { name, path, source: "list", values: { kind: "list", items: source } };
  }
  if (typeof source === "string") {
    const param = paramRef(source, path, ctx, "list");
    if (param === undefined) return undefined;
    const items = Array.isArray(param.value) ? param.value : [param.value as Scalar];
    warnEmpty(name, path, items.length, ctx);
    return { name, path, source: "param", values: { kind: "list", items } };
  }
  if (!isObject(source)) return undefined;
  const kinds = ["range", "glob", "sheet", "lines", "from"].filter((k) => k in source);
  // An unknown key (`values:`) is the schema's to report; "needs a source" would repeat it.
  if (kinds.length === 0 && Object.keys(source).some((k) => k !== "key")) return undefined;
  if (kinds.length !== 1) {
    sink.error(
      "WFC212",
      kinds.length === 0
        ? `foreach variable \`${name}\` needs a source`
        : `foreach variable \`${name}\` has ${kinds.map((k) => `\`${k}\``).join(" and ")}; it can have only one`,
      path,
      {
        part: kinds.length === 0 ? "value" : "key",
        expected: "exactly one of `range`, `glob`, `sheet`, `lines` or `from` (or a list, or a `{params.name}` reference)",
      },
    );
    return undefined;
  }
  if ("key" in source && !("sheet" in source)) {
    sink.error("WFC236", "`key` applies only to a `sheet` source", [...path, "key"], { part: "key", help: "remove `key`" });
  }
  if ("from" in source) {
    if (typeof source.from !== "string") return undefined; // schema reported it
    return { name, path, source: { kind: "from", stage: { name: source.from, path: [...path, "from"] } } };
  }
  if ("lines" in source) return typeof source.lines === "string" ? lowerLines(name, path, source.lines, ctx) : undefined;
  if ("range" in source) return lowerRange(name, path, source.range, ctx);
  if ("glob" in source && typeof source.glob === "string") return lowerGlob(name, path, source.glob, ctx);
  if ("sheet" in source && typeof source.sheet === "string") {
    return lowerSheet(name, path, source.sheet, typeof source.key === "string" ? source.key : undefined, ctx);
  }
  return undefined;
}

function warnEmpty(name: string, path: DataPath, size: number, ctx: FanOutContext): void {
  if (size === 0) {
    ctx.sink.warning("WFC217", `foreach variable \`${name}\` has no values, so this stage runs no jobs`, path, {
      help: "give it at least one value, or remove the stage",
    });
  }
}

/** Resolves a `{params.x}` string, reporting every way it can go wrong. */
function paramRef(text: string, path: DataPath, ctx: FanOutContext, want: "list" | "integer"): Param | undefined {
  const { template, errors } = parseTemplate(text);
  const name = errors.length === 0 ? wholeParamRef(template) : undefined;
  if (name === undefined) {
    ctx.sink.error(
      "WFC237",
      want === "list"
        ? `a foreach source string must be a whole \`{params.name}\` reference, not ${JSON.stringify(text)}`
        : `a range bound must be an integer or a \`{params.name}\` reference, not ${JSON.stringify(text)}`,
      path,
      { help: want === "list" ? "write the values as a list, or reference a list parameter" : undefined },
    );
    return undefined;
  }
  const param = ctx.params.get(name);
  if (param === undefined) {
    const ref = template.parts[0] as { offset: number; length: number };
    ctx.sink.error("WFC205", `unknown param \`${name}\``, path, {
      within: { ...ref, text },
      expected:
        ctx.params.size > 0
          ? `one of ${[...ctx.params.keys()]
              .sort()
              .map((p) => `\`${p}\``)
              .join(", ")}`
          : "a name defined under `params`",
      help: didYouMean(name, ctx.params.keys()) ?? `define \`${name}\` under \`params\``,
      typo: name,
    });
    return undefined;
  }
  if (want === "list" && !Array.isArray(param.value)) {
    ctx.sink.error("WFC238", `param \`${name}\` is ${JSON.stringify(param.value)}, not a list, so it cannot be a foreach source`, path, {
      expected: "a list param, like `samples: [a, b, c]`",
      help: `make \`${name}\` a list (a single value is \`[${JSON.stringify(param.value)}]\`), or write the values here as a list`,
      related: [{ path: param.path, message: `\`${name}\` is defined here`, part: "key" }],
    });
    return undefined;
  }
  if (want === "integer" && !Number.isInteger(param.value)) {
    ctx.sink.error("WFC238", `param \`${name}\` is ${JSON.stringify(param.value)}, not an integer, so it cannot bound a range`, path, {
      related: [{ path: param.path, message: `\`${name}\` is defined here`, part: "key" }],
    });
    return undefined;
  }
  return param;
}

function lowerRange(name: string, path: DataPath, raw: unknown, ctx: FanOutContext): FanVar | undefined {
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 3) return undefined; // schema reported it
  const bounds: number[] = [];
  for (const [i, b] of raw.entries()) {
    if (typeof b === "number" && Number.isInteger(b)) bounds.push(b);
    else if (typeof b === "string") {
      const p = paramRef(b, [...path, "range", i], ctx, "integer");
      if (p === undefined) return undefined;
      bounds.push(p.value as number);
    } else return undefined;
  }
  // Beyond 2^53 integers are rounded: `[1e20, 1e20 + 3]` would be silently empty or wrong.
  const unsafe = bounds.findIndex((b) => !Number.isSafeInteger(b));
  if (unsafe !== -1) {
    ctx.sink.error(
      "WFC233",
      `range bound ${grouped(bounds[unsafe]!)} cannot be counted exactly (integers beyond 2^53 are rounded)`,
      [...path, "range", unsafe],
      {
        expected: `an integer from ${grouped(-Number.MAX_SAFE_INTEGER)} to ${grouped(Number.MAX_SAFE_INTEGER)}`,
      },
    );
    return undefined;
  }
  const [start, stop, step = 1] = bounds as [number, number, number?];
  if (step === 0) {
    ctx.sink.error("WFC239", "a range step cannot be 0", [...path, "range", 2], {
      help: "use a positive step to count up or a negative one to count down",
    });
    return undefined;
  }
  const values: VarValues = { kind: "range", start, stop, step };
  const size = varSize(values);
  if (size > MAX_STAGE_ELEMENTS) {
    ctx.sink.error(
      "WFC232",
      `range \`${name}\` has ${grouped(size)} values, more than the ${grouped(MAX_STAGE_ELEMENTS)} a stage can have`,
      [...path, "range"],
      {
        help: "give each job a chunk of the values (a range over chunks, a larger `step`) instead of one value each",
      },
    );
    return undefined;
  }
  warnEmpty(name, path, size, ctx);
  return { name, path, source: "range", values };
}

/** `data/{sample}.fa` → glob `data/*.fa`, and the value of `{sample}` in each path it matches. */
async function lowerGlob(name: string, path: DataPath, pattern: string, ctx: FanOutContext): Promise<FanVar | undefined> {
  const globPath = [...path, "glob"];
  const { template, errors } = parseTemplate(pattern);
  if (errors.length > 0) {
    for (const e of errors) ctx.sink.error("WFC222", e.message, globPath, { within: { ...e, text: pattern } });
    return undefined;
  }
  let globText = "";
  // The glob text before `{name}`, once it appears: the value is what the `*` in its place matches.
  let before: string | undefined;
  let captures = 0;
  for (const part of template.parts) {
    if (part.kind === "text") {
      globText += part.text;
    } else if (part.root === name && part.field === undefined) {
      before = globText;
      globText += "*";
      captures++;
    } else if (part.root === "params" && part.field !== undefined && ctx.params.has(part.field)) {
      const value = String(ctx.params.get(part.field)!.value);
      globText += value.replace(/[*?[\]{}()!]/g, "\\$&");
    } else {
      // An unknown param resolves to nothing (WFC205); anything else may not be used in a glob.
      const code = part.root === "params" ? "WFC205" : "WFC241";
      ctx.sink.error(code, `\`{${part.field ? `${part.root}.${part.field}` : part.root}}\` cannot be used in this glob`, globPath, {
        within: { ...part, text: pattern },
        expected: `\`{${name}}\` (the part that becomes the value) or a \`{params.name}\` reference`,
        help: part.root === "params" ? didYouMean(part.field ?? "", ctx.params.keys()) : undefined,
        ...(part.field !== undefined ? { typo: part.field } : {}),
      });
      return undefined;
    }
  }
  if (captures > 1) {
    ctx.sink.error("WFC240", `\`{${name}}\` may appear only once in its glob`, globPath);
    return undefined;
  }
  const problem = globProblem(globText);
  if (problem !== undefined) {
    globOutside(`glob \`${pattern}\``, problem, pattern, globPath, ctx.sink, { input: false });
    return undefined;
  }
  const matches = await walkGlob(globText, ctx.dir, ctx.signal);
  const capture = before === undefined ? undefined : globCapture(before, globText.slice(before.length + 1));
  const items = [...new Set(matches.map((m) => (capture === undefined ? m : (capture(m) ?? m))))].sort();
  if (items.length === 0) {
    ctx.sink.warning("WFC217", `glob \`${pattern}\` matches no files, so this stage runs no jobs`, globPath, {
      help: `paths are relative to the workflow's folder, ${shownDir(ctx.dir)}`,
    });
  }
  return { name, path, source: "glob", values: { kind: "list", items } };
}

async function lowerSheet(
  name: string,
  path: DataPath,
  file: string,
  key: string | undefined,
  ctx: FanOutContext,
): Promise<FanVar | undefined> {
  const sheetPath = [...path, "sheet"];
  const read = await readSheetFile(resolve(ctx.dir, file), ctx.dir);
  switch (read.kind) {
    case "text":
      break;
    case "unreadable":
      ctx.sink.error("WFC213", `cannot read sample sheet \`${file}\` (${read.code === "ENOENT" ? "no such file" : read.code})`, sheetPath, {
        help: `paths are relative to the workflow's folder, ${shownDir(ctx.dir)}`,
      });
      return undefined;
    case "not-a-file":
      ctx.sink.error("WFC234", `sample sheet \`${file}\` is ${read.what}, not a file`, sheetPath, {
        expected: "a .tsv or .csv file",
      });
      return undefined;
    case "too-large":
      ctx.sink.error(
        "WFC245",
        `sample sheet \`${file}\` is ${grouped(read.bytes)} bytes, more than the ${grouped(MAX_SHEET_BYTES)} a sheet can have`,
        sheetPath,
        { help: "a sheet lists samples, not data: keep the data in files and name them in a column" },
      );
      return undefined;
    default:
      return unreachable(read);
  }
  // A sheet outside the workflow's folder may be any file on the machine
  // (`../../etc/shadow`): say what is wrong with it without quoting it.
  const { text, outside } = read;
  const unquoted = "(not quoted: the file is outside the workflow's folder)";
  const delimiter = extname(file).toLowerCase() === ".csv" ? "," : "\t";
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter, skip_empty_lines: true, relax_column_count: false, bom: true, comment: "#" }) as string[][];
  } catch (error) {
    const e = error as { message: string; lines?: number };
    const why = outside
      ? `${e.lines === undefined ? "" : ` at line ${e.lines}`} ${unquoted}`
      : `: ${e.message.replace(/^Invalid Record Length: /, "")}`;
    ctx.sink.error("WFC242", `sample sheet \`${file}\` is malformed${why}`, sheetPath, {
      help: delimiter === "," ? "a .csv sheet is comma-separated with a header row" : "a .tsv sheet is tab-separated with a header row",
    });
    return undefined;
  }
  const [header, ...rows] = records;
  if (header === undefined || header.length === 0) {
    ctx.sink.error("WFC242", `sample sheet \`${file}\` is empty`, sheetPath, { expected: "a header row, then one row per element" });
    return undefined;
  }
  const keyColumn = key ?? header[0]!;
  const keyIndex = header.indexOf(keyColumn);
  if (keyIndex === -1) {
    ctx.sink.error("WFC243", `sample sheet \`${file}\` has no column \`${keyColumn}\``, [...path, "key"], {
      expected: outside ? `a column of its header row ${unquoted}` : `one of ${oneOf(header)}`,
      help: outside ? undefined : didYouMean(keyColumn, header),
      typo: keyColumn,
    });
    return undefined;
  }
  if (rows.length > MAX_STAGE_ELEMENTS) {
    ctx.sink.error(
      "WFC232",
      `sample sheet \`${file}\` has ${grouped(rows.length)} rows, more than the ${grouped(MAX_STAGE_ELEMENTS)} elements a stage can have`,
      sheetPath,
    );
    return undefined;
  }
  const seen = new Map<string, number>();
  for (const [i, row] of rows.entries()) {
    const k = row[keyIndex]!;
    if (seen.has(k)) {
      ctx.sink.error(
        "WFC244",
        `sample sheet \`${file}\` has ${outside ? "a key" : `the key \`${k}\``} twice (data rows ${seen.get(k)! + 1} and ${i + 1})`,
        sheetPath,
        {
          help: `values of the key column \`${keyColumn}\` name the elements and must be unique`,
        },
      );
      return undefined;
    }
    seen.set(k, i);
  }
  warnEmpty(name, path, rows.length, ctx);
  return {
    name,
    path,
    source: "sheet",
    values: { kind: "list", items: rows.map((r) => r[keyIndex]!) },
    sheet: { columns: header, rows, key: keyColumn, outside },
  };
}

/**
 * `{ lines: FILE }`: a file a stage writes is read at run time, after that
 * stage's element (a dynamic variable); any other file is read now, like a
 * sample sheet, into a static list (contract/expansion.ts parseLines rules).
 */
async function lowerLines(name: string, path: DataPath, text: string, ctx: FanOutContext): Promise<FanVar | DynamicVar | undefined> {
  const linesPath = [...path, "lines"];
  const { template, errors } = parseTemplate(text);
  if (errors.length > 0) {
    for (const e of errors) ctx.sink.error("WFC222", e.message, linesPath, { within: { ...e, text } });
    return undefined;
  }
  if (ctx.produced?.(template) === true) return { name, path, source: { kind: "lines", template: { template, path: linesPath } } };
  let file = "";
  for (const part of template.parts) {
    if (part.kind === "text") file += part.text;
    else if (
      part.root === "params" &&
      part.field !== undefined &&
      ctx.params.has(part.field) &&
      !Array.isArray(ctx.params.get(part.field)!.value)
    )
      file += String(ctx.params.get(part.field)!.value);
    else {
      const shown = `{${part.field === undefined ? part.root : `${part.root}.${part.field}`}}`;
      const param = part.root === "params";
      ctx.sink.error(
        param ? "WFC205" : "WFC282",
        param
          ? `\`${shown}\` in the \`lines\` file of \`${name}\` names no scalar param`
          : `the \`lines\` file of \`${name}\` uses \`${shown}\`, but no stage writes it, so it is read now, once, for every element`,
        linesPath,
        {
          within: { offset: part.offset, length: part.length, text },
          expected: param ? "a scalar param" : "a file name with only `{params.name}` placeholders",
          help: param
            ? didYouMean(part.field ?? "", ctx.params.keys())
            : "a file read at run time must be an output of a stage (check the path against that stage's `outputs`); a file read now is one file",
          ...(part.field !== undefined ? { typo: part.field } : {}),
        },
      );
      return undefined;
    }
  }
  const read = await readSheetFile(resolve(ctx.dir, file), ctx.dir);
  const what = `\`lines\` file \`${file}\` of \`${name}\``;
  switch (read.kind) {
    case "text":
      break;
    case "unreadable":
      ctx.sink.error("WFC280", `cannot read ${what} (${read.code === "ENOENT" ? "no such file" : read.code})`, linesPath, {
        help: `no stage writes it, so it is read now; paths are relative to the workflow's folder, ${shownDir(ctx.dir)}`,
      });
      return undefined;
    case "not-a-file":
      ctx.sink.error("WFC280", `${what} is ${read.what}, not a file`, linesPath, { expected: "a text file, one value per line" });
      return undefined;
    case "too-large":
      ctx.sink.error(
        "WFC280",
        `${what} is ${grouped(read.bytes)} bytes, more than the ${grouped(MAX_SHEET_BYTES)} it can have`,
        linesPath,
        {
          help: "a lines file lists names, not data",
        },
      );
      return undefined;
    default:
      return unreachable(read);
  }
  const parsed = parseLines(read.text);
  if ("problem" in parsed) {
    const p = parsed.problem;
    ctx.sink.error(
      "WFC281",
      p.kind === "nul"
        ? `${what} has a NUL character on line ${p.line}`
        : `${what} has ${read.outside ? "a value" : `the value \`${p.value}\``} twice (lines ${p.first} and ${p.line})`,
      linesPath,
      {
        help:
          p.kind === "nul"
            ? "a lines file is text, one value per line"
            : "each line names one element, and two elements with one value would share their outputs; remove the repeated line",
      },
    );
    return undefined;
  }
  if (parsed.rows.length > MAX_STAGE_ELEMENTS) {
    ctx.sink.error(
      "WFC232",
      `${what} has ${grouped(parsed.rows.length)} lines, more than the ${grouped(MAX_STAGE_ELEMENTS)} elements a stage can have`,
      linesPath,
    );
    return undefined;
  }
  warnEmpty(name, path, parsed.rows.length, ctx);
  return { name, path, source: "lines", values: { kind: "list", items: parsed.rows.map((r) => r[0]!) } };
}

/** A folder as the user would type it: relative to the current directory. */
export function shownDir(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === "" ? "the current directory" : rel.startsWith("..") && rel.split("/").filter((s) => s === "..").length > 2 ? dir : rel;
}
