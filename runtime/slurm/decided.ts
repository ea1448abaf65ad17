/**
 * What a producer's elements decided, read back from the disk after they
 * ran, for the SLURM export's expansion job (expand-job.ts): a pattern
 * output listed per segment, or a `lines` file read, by the rules of
 * contract/expansion.ts; and a dynamic space's elements once every block's
 * rows are known.
 */
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ElementSpace, type Binding, type Elements } from "../../contract/elements.js";
import { decidedPattern, matchDecided, parseLines, sortRows, type DecidedPattern } from "../../contract/expansion.js";
import { ElementIdentities, encodeValue } from "../../contract/identity.js";
import type { Plan, PlanTask } from "../../contract/plan.js";
import { expandPath } from "../../contract/template.js";

/** A reason the rows cannot be known: the expansion fails with it, and nothing after it is submitted. */
export class DecidedError extends Error {}

/**
 * Each block's rows of a dynamic task: block b's are those its producer
 * element (the one whose `per` values equal b's) decided. Blocks in order,
 * rows in the one order (sortRows for files, file order for lines).
 */
export async function decidedRows(
  plan: Plan,
  task: PlanTask,
  workdir: string,
  exportDir: string,
): Promise<{ blocks: string[][][]; leftAlone: string[] }> {
  const leftAlone: string[] = [];
  const dynamic = task.space.dynamic!;
  const producer = plan.tasks.find((t) => t.id === dynamic.from.task)!;
  const step = producer.steps.find((s) => s.stage === dynamic.from.step)!;
  const template = step.outputs[dynamic.from.output]!.template;
  const params = (name: string) => plan.params[name];
  const ps = new ElementSpace(producer.space);
  const key = (values: readonly (string | undefined)[]) => JSON.stringify(values);
  const producerOf = new Map<string, number>();
  for (let k = 0; k < ps.size; k++) producerOf.set(key(dynamic.per.map((v) => ps.value(k, v))), k);
  const blocks = new ElementSpace(task.space);
  const out: string[][][] = [];
  for (let b = 0; b < blocks.size; b++) {
    const k = producerOf.get(key(dynamic.per.map((v) => blocks.value(b, v))));
    const what = () => `\`${producer.id}\`${dynamic.per.length > 0 ? ` for ${dynamic.per.map((v) => `${v}=${blocks.value(b, v)}`).join(",")}` : ""}`;
    if (k === undefined) throw new DecidedError(`task \`${task.id}\`: no element of ${what()} decides its block ${b}`);
    const bindings = ps.bindings(k);
    if (dynamic.from.kind === "files") {
      const pattern = decidedPattern(template, bindings, params, step.decides ?? []);
      if (pattern === undefined) throw new DecidedError(`task \`${task.id}\`: the pattern of ${what()} has a placeholder with no value`);
      // The job's start mark (export.ts): what it did not make or change since is an earlier run's, never used.
      const job = Math.floor(k / producer.batch);
      const mark = await stat(join(exportDir, "started", `${producer.id}.${job}`), { bigint: true }).catch(() => undefined);
      if (mark === undefined) throw new DecidedError(`${what()} left no start mark (started/${producer.id}.${job}): did its job run from this export?`);
      const rows: string[][] = [];
      for (const { path, row } of await listPattern(pattern, workdir)) {
        const made = await lstat(join(workdir, path), { bigint: true }).catch(() => undefined);
        if (made !== undefined && made.ctimeNs >= mark.mtimeNs) rows.push(row);
        else leftAlone.push(path);
      }
      out.push(sortRows(rows));
    } else {
      const path = expandPath(template, bindings, params);
      if (path === undefined) throw new DecidedError(`task \`${task.id}\`: the lines file of ${what()} has a placeholder with no value`);
      let text: string;
      try {
        text = await readFile(join(workdir, path), "utf8");
      } catch (error) {
        throw new DecidedError(`cannot read ${JSON.stringify(path)}, which ${what()} wrote: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
      const parsed = parseLines(text);
      if ("problem" in parsed) {
        const p = parsed.problem;
        throw new DecidedError(
          p.kind === "repeated"
            ? `${JSON.stringify(path)} line ${p.line} repeats ${JSON.stringify(p.value)} (first on line ${p.first}): one element per value`
            : `${JSON.stringify(path)} line ${p.line} holds a NUL byte`,
        );
      }
      out.push(parsed.rows);
    }
  }
  return { blocks: out, leftAlone };
}

/** The rows of every path under `workdir` the pattern matches, walking exactly its folders, one segment at a time. */
async function listPattern(pattern: DecidedPattern, workdir: string): Promise<{ path: string; row: string[] }[]> {
  let found = [""];
  const last = pattern.segments.length - 1;
  for (const [i, seg] of pattern.segments.entries()) {
    const next: string[] = [];
    for (const dir of found) {
      const names = seg.kind === "literal" ? [seg.text] : await namesIn(join(workdir, dir));
      for (const name of names) {
        if (seg.kind === "holes" && !seg.regex.test(name)) continue;
        const path = dir === "" ? name : `${dir}/${name}`;
        const stat = await lstat(join(workdir, path)).catch(() => undefined);
        if (stat === undefined || (i < last && !stat.isDirectory())) continue;
        next.push(path);
      }
    }
    found = next;
  }
  return found.flatMap((path) => {
    const row = matchDecided(pattern, path);
    return row === undefined ? [] : [{ path, row }];
  });
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
}

/**
 * A dynamic space's elements once its blocks' rows are known: block by
 * block, each block's rows in order. An element's variables are its
 * block's, then the decided ones (their values are text).
 */
export class DynamicElements implements Elements {
  readonly size: number;
  readonly #blocks: ElementSpace;
  readonly #identities: ElementIdentities;
  readonly #vars: readonly string[];
  /** Per element: its block and its row. */
  readonly #at: (readonly [number, readonly string[]])[] = [];

  constructor(space: PlanTask["space"], rows: readonly (readonly (readonly string[])[])[]) {
    this.#blocks = new ElementSpace(space);
    this.#identities = new ElementIdentities(space);
    this.#vars = space.dynamic!.vars;
    rows.forEach((block, b) => {
      for (const row of block) this.#at.push([b, row]);
    });
    this.size = this.#at.length;
  }

  bindings(i: number): Map<string, Binding> {
    const [b, row] = this.#at[i]!;
    const out = this.#blocks.bindings(b);
    this.#vars.forEach((v, k) => out.set(v, { value: row[k]! }));
    return out;
  }

  value(i: number, key: string): string | undefined {
    const dot = key.indexOf(".");
    const b = this.bindings(i).get(dot === -1 ? key : key.slice(0, dot));
    if (b === undefined) return undefined;
    return dot === -1 ? String(b.value) : b.row?.get(key.slice(dot + 1));
  }

  /** Element i's identity (contract/identity.ts): its static variables' values, then the decided ones. */
  identity(i: number): string {
    const [b, row] = this.#at[i]!;
    const own = this.#vars.map((v, k) => `${v}=${encodeValue(row[k]!)}`).join(",");
    const block = this.#identities.of(b);
    return block === "" ? own : `${block},${own}`;
  }
}
