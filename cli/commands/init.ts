import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readFile, readdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../../contract/package-root.js";
import { shellQuote } from "../../contract/shell/quote.js";
import { didYouMean, oneOf } from "../../compiler/diagnostics/suggest.js";
import { errorLine, ExitCode, type Io } from "../io.js";
import { DEFAULT_TEMPLATE, templateNames } from "../templates.js";
import { linkNoClobber } from "./config.js";

export interface InitOptions {
  /** Where the workflow goes (default `workflow.yaml`); a `.toml` name writes the TOML form. The files it needs go next to it. */
  readonly output?: string;
  /** Replace files that exist, but only those init writes. */
  readonly force: boolean;
}

/** What a sample leaves out of a new project: its other workflow form, its own README, and what runs wrote in it. */
const NOT_COPIED = /^(workflow\.(ya?ml|toml|json)|README(\.[a-z]+)?|\.gitignore|\.wfc|work|results)$/i;

interface Planned {
  /** Shown to the user: relative to the cwd. */
  readonly shown: string;
  readonly target: string;
  readonly text: Buffer | string;
  readonly mode: number;
}

/**
 * `wfc init [TEMPLATE] [-o FILE] [--force]`: a starter workflow from a sample,
 * with the files it needs and the schema line editors read. 0 when written,
 * 2 (writing nothing) on an unknown template or a file in the way.
 */
export async function initCommand(template: string | undefined, options: InitOptions, io: Io): Promise<number> {
  const names = templateNames();
  const name = template ?? DEFAULT_TEMPLATE;
  if (!names.includes(name)) {
    const hint = didYouMean(name, names);
    io.stderr.write(
      errorLine(`unknown template \`${name}\`; expected ${oneOf(names, "a sample (none are installed)")}${hint ? `; ${hint}` : ""}`),
    );
    return ExitCode.invalid;
  }
  const sample = join(packageRoot(), "samples", name);
  const output = options.output ?? "workflow.yaml";
  const ext = extname(output).toLowerCase();
  if (ext !== ".yaml" && ext !== ".yml" && ext !== ".toml") {
    io.stderr.write(errorLine(`cannot write the workflow as \`${output}\`: init writes YAML (.yaml, .yml) or TOML (.toml)`));
    return ExitCode.invalid;
  }
  const toml = ext === ".toml";
  const workflowPath = resolve(io.cwd, output);
  const projectDir = dirname(workflowPath);
  const shown = (path: string) => {
    const r = relative(io.cwd, path);
    return r === "" || r.startsWith("..") || isAbsolute(r) ? path : r;
  };

  const source = await readFile(join(sample, toml ? "workflow.toml" : "workflow.yaml"), "utf8");
  const files: Planned[] = [
    { shown: shown(workflowPath), target: workflowPath, text: withSchemaLine(source, toml, projectDir), mode: 0o644 },
  ];
  for (const rel of await sampleFiles(sample)) {
    const from = join(sample, rel);
    const target = join(projectDir, rel);
    files.push({ shown: shown(target), target, text: await readFile(from), mode: (await stat(from)).mode & 0o777 });
  }

  const clash = files.slice(1).find((f) => f.target === workflowPath);
  if (clash !== undefined) {
    io.stderr.write(errorLine(`cannot write the workflow as \`${clash.shown}\`: the template has a file of that name`));
    return ExitCode.invalid;
  }

  // Everything in the way is named at once, before anything is written.
  const inTheWay: Planned[] = [];
  for (const file of files) {
    const existing = await lstat(file.target).catch(() => undefined);
    if (existing === undefined) continue;
    if (existing.isDirectory()) {
      io.stderr.write(errorLine(`cannot write \`${file.shown}\`: it is a directory`));
      return ExitCode.invalid;
    }
    inTheWay.push(file);
  }
  if (inTheWay.length > 0 && !options.force) {
    const list = inTheWay.map((f) => `\`${f.shown}\``).join(", ");
    io.stderr.write(
      errorLine(
        `${list} already exist${inTheWay.length === 1 ? "s" : ""}; nothing was written. ` +
          `Pass --force to replace ${inTheWay.length === 1 ? "it" : "them"} (only the files of the template), or -o to write the workflow in another folder`,
      ),
    );
    return ExitCode.invalid;
  }

  const created: string[] = [];
  for (const file of files) {
    const failure = await writeOne(file, options.force);
    if (failure === undefined) {
      created.push(file.target);
      continue;
    }
    // Take back what this run created, so a failure leaves the folder as it was (files it replaced under --force stay replaced).
    for (const path of created.filter((p) => !inTheWay.some((f) => f.target === p))) await unlink(path).catch(() => undefined);
    io.stderr.write(errorLine(failure));
    return ExitCode.invalid;
  }

  io.stdout.write(`wrote ${files.map((f) => f.shown).join(", ")} (template ${name})\n`);
  io.stdout.write(`next: wfc run ${shellQuote(shown(workflowPath))}\n`);
  return ExitCode.ok;
}

/** The files of a sample a project needs, relative, sorted: scripts, data, sample sheets. */
async function sampleFiles(sample: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(sample, rel), { withFileTypes: true })) {
      if (rel === "" && NOT_COPIED.test(entry.name)) continue;
      const path = rel === "" ? entry.name : join(rel, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.push(path);
    }
  };
  await walk("");
  return out.sort();
}

/** One file, atomically; without --force it never replaces one that appeared meanwhile. The cause on failure. */
async function writeOne(file: Planned, force: boolean): Promise<string | undefined> {
  const temp = join(dirname(file.target), `.${basename(file.target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await mkdir(dirname(file.target), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // mkdir -p says EEXIST when the folder itself is a file, ENOTDIR when one above it is.
    if (code === "EEXIST" || code === "ENOTDIR") return `cannot write \`${file.shown}\`: a folder on its path is a file`;
    return `cannot create the folder of \`${file.shown}\` (${code ?? (error as Error).message})`;
  }
  try {
    await writeFile(temp, file.text, { flag: "wx" });
    await chmod(temp, file.mode);
    if (force) await rename(temp, file.target);
    else await linkNoClobber(temp, file.target);
    return undefined;
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return `\`${file.shown}\` appeared while writing; nothing else was written`;
    return `cannot write \`${file.shown}\` (${code ?? (error as Error).message})`;
  }
}

/**
 * The sample's text with its first line the schema line editors read
 * (`# yaml-language-server: $schema=…`, taplo's `#:schema …`), pointing at the
 * schema of the wfc that runs: by a relative path when that wfc is installed
 * in the project (its node_modules is in the workflow's folder or above),
 * else by its absolute path. The samples' own line points inside the repo.
 */
export function withSchemaLine(text: string, toml: boolean, projectDir: string): string {
  const schema = join(packageRoot(), "schema", "workflow.schema.json");
  const line = toml ? `#:schema ${schemaRef(schema, projectDir)}` : `# yaml-language-server: $schema=${schemaRef(schema, projectDir)}`;
  const first = /^(# yaml-language-server: \$schema=|#:schema )[^\n]*\n/;
  return first.test(text) ? text.replace(first, `${line}\n`) : `${line}\n${text}`;
}

function schemaRef(schema: string, projectDir: string): string {
  const marker = `${sep}node_modules${sep}`;
  const at = schema.lastIndexOf(marker);
  const project = at < 0 ? undefined : schema.slice(0, at);
  if (project !== undefined && (projectDir === project || projectDir.startsWith(project + sep))) {
    const rel = relative(projectDir, schema).split(sep).join("/");
    if (SAFE.test(rel)) return rel;
  }
  // A path with spaces or stranger characters goes as a file URL: percent-encoded, one word, never a second line.
  return SAFE.test(schema) ? schema : pathToFileURL(schema).href;
}

const SAFE = /^[A-Za-z0-9._~+@/-]+$/;
