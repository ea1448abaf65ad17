import { basename, dirname, extname, resolve } from "node:path";
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { suggestionFix } from "../diagnostics/fixes.js";
import { didYouMean, oneOf } from "../diagnostics/suggest.js";
import type { DataPath, ParsedDocument } from "../source/document.js";
import type {
  Action,
  ExecutorDef,
  LimitDef,
  LimitUse,
  LocatedTemplate,
  NameRef,
  Param,
  PathDecl,
  Scalar,
  SlurmOptions,
  Stage,
  StageKind,
  StageSettings,
  Workflow,
} from "./ast.js";
import { lowerDefaultEnvironment, lowerStageEnvironment, type DefaultEnvironment } from "./environment.js";
import { lowerFanOut } from "./fanout.js";
import { withLifetimes } from "./lifetimes.js";
import { readParamText } from "./param-text.js";
import type { ParamsFile, ParamValue } from "../config/params-file.js";
import type { ContainerEngine } from "../../contract/plan.js";
import { DiagnosticSink } from "./sink.js";
import { hasGlob, parseTemplate, type Template } from "./template.js";
import { intersects, toPattern, type Pattern } from "../graph/pattern.js";
import { linesReadNow } from "../graph/dynamic.js";
import { parseDuration, parseMemory } from "./units.js";
import { grouped, MAX_DURATION_SECONDS, MAX_STAGE_ELEMENTS, MAX_TIMEOUT_SECONDS, MAX_WORKFLOW_ELEMENTS } from "../../contract/limits.js";

export interface LowerOptions {
  /** `--param name=value` overrides, values as typed on the command line. */
  readonly params?: Readonly<Record<string, string>>;
  /** `--params-file`: values that replace the workflow's, replaced in turn by `params`. */
  readonly paramsFile?: ParamsFile;
  /** Executors from config files, so stages may name them. */
  readonly executors?: ReadonlyMap<string, ExecutorDef>;
  /** Stops a `glob` source's walk of the file system (Ctrl-C): lowering then rejects with its reason. */
  readonly signal?: AbortSignal;
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => typeof v === "string" || typeof v === "number" || typeof v === "boolean";
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);

/** The built-in executors, always available unless a workflow redefines the name. */
export const BUILTIN_EXECUTORS: readonly ExecutorDef[] = [
  { name: "processes", type: "processes", runs: new Set<StageKind>(["run", "fn"]) },
  { name: "threads", type: "threads", runs: new Set<StageKind>(["run", "fn"]) },
];

/**
 * Turns checked data into the workflow AST. Written defensively: the schema
 * has already reported shape errors, so anything of the wrong shape is
 * skipped here rather than reported twice.
 */
export async function lowerWorkflow(
  doc: ParsedDocument,
  options: LowerOptions = {},
): Promise<{ workflow: Workflow; diagnostics: Diagnostic[] }> {
  const sink = new DiagnosticSink(doc);
  const commandLine: Diagnostic[] = [];
  const data: Obj = isObject(doc.data) ? doc.data : {};
  const dir = dirname(resolve(doc.file.path));

  const params = lowerParams(data, options.params ?? {}, commandLine, sink, options.paramsFile);
  const limits = new Map<string, LimitDef>();
  const invalidDefinitions = new Set<string>();
  for (const [name, capacity] of Object.entries(isObject(data.limits) ? data.limits : {})) {
    if (int(capacity) !== undefined && (capacity as number) >= 1)
      limits.set(name, { name, capacity: capacity as number, path: ["limits", name] });
    else invalidDefinitions.add(`limit:${name}`);
  }
  const executors = lowerExecutors(data, invalidDefinitions);
  // Config files' executors are known names too (the compiler decides which definition wins).
  for (const [name, def] of options.executors ?? [])
    if (!executors.has(name) || executors.get(name)!.path === undefined) executors.set(name, { ...def, path: undefined });
  const defaults: Obj = isObject(data.defaults) ? data.defaults : {};

  for (const key of ["timeout", "time"]) if (key in defaults) checkDuration(key, defaults[key], ["defaults", key], sink);
  const defaultEnvironment = await lowerDefaultEnvironment(defaults, dir, sink);
  const stages = new Map<string, Stage>();
  const raws = Object.entries(isObject(data.stages) ? data.stages : {}).filter((e): e is [string, Obj] => isObject(e[1]));
  const produced = producedTest(data, params);
  // Each stage reports into its own sink, so a stage lowered again (below) reports once.
  const stageSinks = new Map<string, DiagnosticSink>();
  const lower = async (name: string, raw: Obj, isProduced: (template: Template) => boolean) => {
    const own = new DiagnosticSink(doc);
    const context = {
      sink: own,
      dir,
      params,
      produced: isProduced,
      defaultEnvironment,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    stages.set(name, await lowerStage(name, raw, defaults, context));
    stageSinks.set(name, own);
  };
  for (const [name, raw] of raws) await lower(name, raw, produced);
  // A `lines` file only an output's look-alike could name (`work/{name}.txt`
  // with `name: [all]` for `ids.txt`) is read now after all, like any file no
  // stage writes: which elements write what is known only now.
  const provisional = {
    file: doc.file.path,
    dir,
    name: "",
    params,
    limits: new Map(),
    executors: new Map(),
    invalidDefinitions: new Set<string>(),
    stages,
  };
  for (const [name, readNow] of linesReadNow(provisional)) {
    await lower(name, raws.find(([n]) => n === name)![1], (template) => !readNow.has(template.source) && produced(template));
  }
  let elements = 0;
  for (const stage of stages.values()) {
    sink.diagnostics.push(...stageSinks.get(stage.name)!.diagnostics);
    elements += stage.fanout.size <= MAX_STAGE_ELEMENTS ? stage.fanout.size : 0;
    if (elements > MAX_WORKFLOW_ELEMENTS && elements - stage.fanout.size <= MAX_WORKFLOW_ELEMENTS) {
      sink.error(
        "WFC232",
        `with this stage the workflow has ${grouped(elements)} elements, more than the ${grouped(MAX_WORKFLOW_ELEMENTS)} a workflow can have`,
        [...stage.path, "foreach"],
        { part: "key", help: "give each job a chunk of the work (fewer, larger elements)" },
      );
    }
  }

  const name = str(data.name) ?? basename(doc.file.path, extname(doc.file.path));
  const description = str(data.description);
  const jobs = int(data.jobs);
  const workflow: Workflow = {
    file: doc.file.path,
    dir,
    name,
    ...(description !== undefined ? { description } : {}),
    params,
    ...(jobs !== undefined ? { jobs } : {}),
    limits,
    executors,
    invalidDefinitions,
    stages,
  };
  return { workflow, diagnostics: [...commandLine, ...sink.diagnostics] };
}

/**
 * Whether some stage's output may name the same file as a template: a
 * `lines` file is then read at run time, after its producer, not now. Seen
 * symbolically (graph/pattern.ts), before any stage is lowered, since a
 * stage may read what a later one in the file writes.
 */
function producedTest(data: Obj, params: ReadonlyMap<string, Param>): (template: Template) => boolean {
  const patterns: Pattern[] = [];
  const add = (v: unknown) => {
    if (typeof v !== "string") return;
    const { template, errors } = parseTemplate(v);
    if (errors.length === 0) patterns.push(toPattern(template, params, false));
  };
  for (const raw of Object.values(isObject(data.stages) ? data.stages : {})) {
    const outputs = isObject(raw) ? raw.outputs : undefined;
    if (Array.isArray(outputs)) outputs.forEach(add);
    else if (isObject(outputs)) for (const v of Object.values(outputs)) (Array.isArray(v) ? v : [v]).forEach(add);
    else add(outputs);
  }
  return (template) => {
    const p = toPattern(template, params, false);
    return patterns.some((q) => intersects(p, q));
  };
}

function lowerParams(
  data: Obj,
  overrides: Readonly<Record<string, string>>,
  out: Diagnostic[],
  sink: DiagnosticSink,
  file: ParamsFile | undefined,
): Map<string, Param> {
  const params = new Map<string, Param>();
  for (const [name, value] of Object.entries(isObject(data.params) ? data.params : {})) {
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) {
      params.set(name, { name, value, path: ["params", name], overridden: false });
    }
  }
  if (file !== undefined) applyParamsFile(file, params, out, sink);
  for (const [name, text] of Object.entries(overrides).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const declared = params.get(name);
    if (declared === undefined) {
      out.push({
        severity: "error",
        code: "WFC216",
        message: `\`--param ${name}=…\` names no param of this workflow`,
        expected: `one of ${oneOf(params.keys(), "no params are defined")}`,
        ...(didYouMean(name, params.keys()) ? { help: didYouMean(name, params.keys())! } : {}),
      });
      continue;
    }
    const read = readParamText(text, declared.value);
    if (!read.ok) {
      const type = Array.isArray(declared.value) ? "a list" : `a ${typeof declared.value}`;
      out.push({
        severity: "error",
        code: "WFC247",
        message: `\`--param ${name}=${text}\`: ${read.message}`,
        expected: read.expected,
        related: [
          { location: { file: sink.doc.file.path, span: sink.span(declared.path) }, message: `\`${name}\` is declared here as ${type}` },
        ],
      });
      continue;
    }
    params.set(name, { ...declared, value: read.value, overridden: true });
  }
  return params;
}

/** A params file's values replace the declared ones, each of the type its param is declared with; problems are located in the file. */
function applyParamsFile(file: ParamsFile, params: Map<string, Param>, out: Diagnostic[], sink: DiagnosticSink): void {
  const at = (path: DataPath, part: "key" | "value" = "value") => ({
    file: file.document.file.path,
    span: file.document.locate(path, part),
  });
  for (const [name, value] of file.values) {
    const declared = params.get(name);
    if (declared === undefined) {
      const help = didYouMean(name, params.keys());
      const fixes = suggestionFix(file.document.file.text, at([name], "key").span, name, help);
      out.push({
        severity: "error",
        code: "WFC216",
        message: `the params file sets \`${name}\`, which is no param of this workflow`,
        location: at([name], "key"),
        expected: `one of ${oneOf(params.keys(), "no params are defined")}`,
        ...(help !== undefined ? { help } : {}),
        ...(fixes !== undefined ? { fixes } : {}),
      });
      continue;
    }
    const wrong = typeMismatch(declared.value, value);
    if (wrong !== undefined) {
      const type = Array.isArray(declared.value) ? "a list" : `a ${typeof declared.value}`;
      out.push({
        severity: "error",
        code: "WFC247",
        message: `the params file gives \`${name}\` ${wrong}, but it is declared as ${type}`,
        location: at([name]),
        expected: type,
        ...(typeof declared.value === "string" && !Array.isArray(value)
          ? { help: `quote it to keep it as text: \`${name}: "${written(file, [name])}"\`` }
          : {}),
        related: [
          { location: { file: sink.doc.file.path, span: sink.span(declared.path) }, message: `\`${name}\` is declared here as ${type}` },
        ],
      });
      continue;
    }
    params.set(name, { ...declared, value: value as Param["value"], overridden: true });
  }
}

/** A value as the params file writes it (`001`, not the number 1 it reads as). */
function written(file: ParamsFile, path: DataPath): string {
  const span = file.document.locate(path);
  return file.document.file.text.slice(span.start, span.end);
}

/** How `value` differs in type from the declared one (a list's items: each of the declared items' type, if it has any), or undefined. */
function typeMismatch(declared: Param["value"], value: ParamValue): string | undefined {
  const kind = (v: unknown) => (Array.isArray(v) ? "a list" : `a ${typeof v}`);
  if (Array.isArray(declared) !== Array.isArray(value)) return kind(value);
  if (!Array.isArray(declared)) return typeof declared === typeof value ? undefined : kind(value);
  const itemType = declared.length > 0 ? typeof declared[0] : undefined;
  const odd = (value as readonly unknown[]).find((v) => itemType !== undefined && typeof v !== itemType);
  return odd === undefined ? undefined : `a list with ${kind(odd)} item (\`${String(odd)}\`) where its items are ${itemType}s`;
}

function lowerExecutors(data: Obj, invalid: Set<string>): Map<string, ExecutorDef> {
  const executors = new Map<string, ExecutorDef>(BUILTIN_EXECUTORS.map((e) => [e.name, e]));
  for (const [name, raw] of Object.entries(isObject(data.executors) ? data.executors : {})) {
    const def = lowerExecutor(name, raw, ["executors", name]);
    if (def === undefined) invalid.add(`executor:${name}`);
    else executors.set(name, def);
  }
  return executors;
}

/**
 * One executor table, from a workflow or a config file (`path` is where it
 * is written; none for built-ins). Undefined for a table of the wrong shape,
 * which the schema has reported.
 */
export function lowerExecutor(name: string, raw: unknown, path: DataPath | undefined): ExecutorDef | undefined {
  const type = isObject(raw) ? raw.type : undefined;
  if (!isObject(raw) || (type !== "threads" && type !== "processes" && type !== "slurm")) return undefined;
  const runs = new Set<StageKind>(
    Array.isArray(raw.runs) ? raw.runs.filter((k): k is StageKind => k === "run" || k === "fn") : ["run", "fn"],
  );
  return {
    name,
    type,
    runs,
    ...defined({ path, max: int(raw.max), slurm: type === "slurm" ? lowerSlurm(raw) : undefined, containerEngine: containerEngine(raw) }),
  };
}

const ENGINES: readonly ContainerEngine[] = ["podman", "docker", "apptainer", "singularity"];
const containerEngine = (raw: Obj) => ENGINES.find((e) => e === raw.container_engine);

const duration = (v: unknown) => (typeof v === "number" || typeof v === "string" ? parseDuration(v) : undefined);
const memory = (v: unknown) => (typeof v === "number" || typeof v === "string" ? parseMemory(v) : undefined);

/**
 * A duration wfc can keep. A `timeout` above zero (a zero timeout would fail
 * every job before it starts) and at most MAX_TIMEOUT_SECONDS (longer ones
 * would fire at once); `time` and `expected` at most MAX_DURATION_SECONDS.
 * The schema has reported values of the wrong form.
 */
function checkDuration(key: string, raw: unknown, path: DataPath, sink: DiagnosticSink): void {
  const seconds = duration(raw);
  if (seconds === undefined) return;
  const max = key === "timeout" ? MAX_TIMEOUT_SECONDS : MAX_DURATION_SECONDS;
  const days = `${grouped(max / 86_400)} days`;
  if (key === "timeout" && seconds === 0) {
    sink.error("WFC235", "a `timeout` of 0 would stop every job as it starts", path, {
      expected: `a duration above 0 and at most ${days}`,
      help: "remove `timeout` to let jobs run as long as they need",
    });
  } else if (seconds > max) {
    sink.error("WFC235", `${key === "expected" ? "an" : "a"} \`${key}\` of ${grouped(seconds)} s is longer than wfc can time`, path, {
      expected: key === "timeout" ? `a duration above 0 and at most ${days}` : `a duration of at most ${days}`,
      help: key === "timeout" ? "remove `timeout` to let jobs run as long as they need" : undefined,
    });
  }
}

/** The object without its undefined entries (for optional fields of the AST). */
function defined<T extends object>(fields: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function lowerSlurm(raw: Obj): SlurmOptions {
  return {
    ...defined({
      partition: str(raw.partition),
      account: str(raw.account),
      qos: str(raw.qos),
      time: duration(raw.time),
      mem: memory(raw.mem),
      cpus: int(raw.cpus),
      maxArraySize: int(raw.max_array_size),
    }),
    options: Array.isArray(raw.options) ? raw.options.filter((o): o is string => typeof o === "string") : [],
    licenses: raw.licenses !== false,
  };
}

interface StageContext {
  readonly sink: DiagnosticSink;
  readonly dir: string;
  readonly params: ReadonlyMap<string, Param>;
  readonly signal?: AbortSignal;
  readonly produced?: (template: Template) => boolean;
  readonly defaultEnvironment?: DefaultEnvironment;
}

async function lowerStage(name: string, raw: Obj, defaults: Obj, ctx: StageContext): Promise<Stage> {
  const path: DataPath = ["stages", name];
  const { sink } = ctx;
  const template = (text: string, at: DataPath): LocatedTemplate => {
    const { template, errors } = parseTemplate(text);
    for (const e of errors) sink.error("WFC222", e.message, at, { within: { ...e, text }, help: "write `{{` and `}}` for literal braces" });
    return { template, path: at };
  };

  let action: Action | undefined;
  if ("run" in raw && "fn" in raw) {
    sink.error("WFC210", `stage \`${name}\` has both \`run\` and \`fn\``, [...path, "fn"], {
      part: "key",
      expected: "exactly one of them",
      help: "a stage runs either a command (`run`) or a JavaScript function (`fn`); split it into two stages",
      related: [{ path: [...path, "run"], message: "`run` is here", part: "key" }],
    });
  } else if (!("run" in raw) && !("fn" in raw)) {
    sink.error("WFC210", `stage \`${name}\` has nothing to run`, path, {
      part: "key",
      expected: "`run` (a command) or `fn` (a JavaScript function)",
      help: 'add `run: "..."` with the command each job runs',
    });
  } else if (typeof raw.run === "string") {
    action = { kind: "shell", command: template(raw.run, [...path, "run"]), path: [...path, "run"] };
  } else if (Array.isArray(raw.run) && raw.run.length > 0 && raw.run.every((a) => typeof a === "string")) {
    action = { kind: "argv", argv: raw.run.map((a: string, i) => template(a, [...path, "run", i])), path: [...path, "run"] };
  } else if (typeof raw.fn === "string" && /^[^#]+(#[A-Za-z_$][A-Za-z0-9_$]*)?$/.test(raw.fn)) {
    const [module, exportName = "default"] = raw.fn.split("#") as [string, string?];
    action = { kind: "fn", module, exportName, path: [...path, "fn"] };
  }

  const fanout = await lowerFanOut(path, raw, ctx);
  const paths = (key: "inputs" | "outputs" | "log"): PathDecl[] => {
    const value = raw[key];
    const at: DataPath = [...path, key];
    const decls: PathDecl[] = [];
    const add = (text: unknown, p: DataPath, named: string | undefined) => {
      if (typeof text !== "string") return;
      const t = template(text, p);
      decls.push({ ...t, name: named, glob: hasGlob(t.template) });
    };
    if (typeof value === "string") add(value, at, undefined);
    else if (Array.isArray(value)) value.forEach((v, i) => add(v, [...at, i], undefined));
    else if (isObject(value)) {
      for (const [n, v] of Object.entries(value)) {
        if (Array.isArray(v)) v.forEach((x, i) => add(x, [...at, n, i], n));
        else add(v, [...at, n], n);
      }
    }
    return decls;
  };
  const inputs = paths("inputs");
  const outputs = withLifetimes(raw, path, paths("outputs"), sink);
  const logs = paths("log");
  for (const o of [...outputs, ...logs]) {
    if (o.glob) {
      sink.error("WFC221", `${logs.includes(o) ? "a log" : "an output"} cannot be a glob`, o.path, {
        help: "name each output file exactly; use the stage's `foreach` variables to tell elements apart",
      });
    }
  }

  const decides: NameRef[] = [];
  if (typeof raw.decides === "string") decides.push({ name: raw.decides, path: [...path, "decides"] });
  else if (Array.isArray(raw.decides))
    raw.decides.forEach((d, i) => typeof d === "string" && decides.push({ name: d, path: [...path, "decides", i] }));

  const after: NameRef[] = [];
  if (typeof raw.after === "string") after.push({ name: raw.after, path: [...path, "after"] });
  else if (Array.isArray(raw.after))
    raw.after.forEach((a, i) => typeof a === "string" && after.push({ name: a, path: [...path, "after", i] }));

  const limits: LimitUse[] = [];
  const addLimit = (v: unknown, p: DataPath) => {
    if (typeof v === "string") limits.push({ kind: "named", name: v, weight: 1, path: p, namePath: p, weightPath: p });
    else if (int(v) !== undefined && (v as number) >= 1) limits.push({ kind: "cap", cap: v as number, path: p });
    else if (isObject(v) && typeof v.name === "string") {
      const weight = int(v.weight) ?? 1;
      limits.push({
        kind: "named",
        name: v.name,
        weight,
        path: p,
        namePath: [...p, "name"],
        weightPath: "weight" in v ? [...p, "weight"] : p,
      });
    }
  };
  if (Array.isArray(raw.limit)) raw.limit.forEach((v, i) => addLimit(v, [...path, "limit", i]));
  else addLimit(raw.limit, [...path, "limit"]);
  const caps = limits.filter((l) => l.kind === "cap");
  for (const extra of caps.slice(1)) {
    sink.error("WFC218", `stage \`${name}\` has more than one inline cap`, extra.path, {
      expected: "at most one integer in `limit`",
      help: "keep the smallest; a stage's own cap is a single number",
      related: [{ path: caps[0]!.path, message: "the first cap is here" }],
    });
  }

  const executorName = str(raw.executor) ?? str(defaults.executor);
  const executor: NameRef | undefined =
    executorName === undefined
      ? undefined
      : { name: executorName, path: typeof raw.executor === "string" ? [...path, "executor"] : ["defaults", "executor"] };

  for (const key of ["timeout", "time", "expected"]) if (key in raw) checkDuration(key, raw[key], [...path, key], sink);
  // A stage's own setting wins over `defaults`.
  const setting = (key: string): unknown => (key in raw ? raw[key] : defaults[key]);
  const env = new Map<string, LocatedTemplate>();
  for (const [source, base] of [
    [defaults.env, ["defaults", "env"]],
    [raw.env, [...path, "env"]],
  ] as const) {
    if (!isObject(source)) continue;
    for (const [k, v] of Object.entries(source)) if (isScalar(v)) env.set(k, template(String(v), [...base, k]));
  }
  const settings: StageSettings = {
    cpus: int(setting("cpus")) ?? 1,
    retries: int(setting("retries")) ?? 0,
    env,
    fuse: setting("fuse") !== false,
    shell: setting("shell") === "sh" ? "sh" : "bash",
    batch: int(raw.batch) ?? 1,
    ...defined({
      mem: memory(setting("mem")),
      time: duration(setting("time")),
      timeout: duration(setting("timeout")),
      expected: duration(raw.expected),
    }),
  };
  const description = str(raw.description);
  const environment = await lowerStageEnvironment(
    name,
    raw,
    action?.kind === "fn" || (!("run" in raw) && "fn" in raw),
    ctx.defaultEnvironment ?? {},
    ctx.dir,
    sink,
  );
  return {
    name,
    path,
    ...(description !== undefined ? { description } : {}),
    action,
    fanout,
    inputs,
    outputs,
    logs,
    decides,
    after,
    limits,
    ...(executor !== undefined ? { executor } : {}),
    labels: Array.isArray(raw.labels) ? raw.labels.filter((l): l is string => typeof l === "string") : [],
    settings,
    ...(environment !== undefined ? { environment } : {}),
  };
}
