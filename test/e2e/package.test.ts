import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { execa } from "execa";
import ts from "typescript";
import { beforeAll, describe, expect, test } from "vitest";
import { copySample, repoRoot } from "./helpers.js";

/**
 * The npm package as a user gets it: `npm pack` of this checkout (the built
 * dist/, without running `prepare` again: the tests share dist/), unpacked by
 * tar, installed by npm into an empty folder, and its `wfc` run there.
 */

interface PackedFile {
  readonly path: string;
  readonly mode: number;
}

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  name: string;
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
  repository?: { type: string; url: string };
  homepage?: string;
  bugs?: { url: string };
};

let work: string;
let tarball: string;
let files: PackedFile[];
let paths: Set<string>;
/** The tarball unpacked by tar (its top folder is `package/`). */
let unpacked: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "wfc-pack-"));
  const packed = await execa("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], { cwd: repoRoot });
  const [report] = JSON.parse(packed.stdout) as [{ filename: string; files: PackedFile[] }];
  tarball = join(work, report.filename);
  files = report.files;
  paths = new Set(files.map((f) => f.path));
  mkdirSync(join(work, "unpacked"));
  await execa("tar", ["-xzf", tarball, "-C", join(work, "unpacked")]);
  unpacked = join(work, "unpacked", "package");
}, 120_000);

describe("npm pack", () => {
  test("ships the licence, the readme, the built code, the schemas, the docs and the samples", () => {
    expect(readFileSync(join(unpacked, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the wfc authors\n/);
    for (const path of ["LICENSE", "README.md", "package.json", "dist/cli/bin.js", "dist/index.js", "dist/index.d.ts"]) {
      expect(paths, path).toContain(path);
    }
    // The bin is executable as installed.
    expect(files.find((f) => f.path === "dist/cli/bin.js")!.mode & 0o111).not.toBe(0);
    for (const name of readdirSync(join(repoRoot, "schema"))) expect(paths).toContain(`schema/${name}`);
    for (const name of readdirSync(join(repoRoot, "docs"))) expect(paths).toContain(`docs/${name}`);
    // `wfc init` copies its templates from the installed package.
    for (const sample of ["scipion-steps", "ruffus-jobs-limit", "qiime-search", "reads-split", "environments"]) {
      expect(paths).toContain(`samples/${sample}/workflow.yaml`);
    }
  });

  test("no source maps, no tests, nothing a run or a build left behind", () => {
    const stray = [...paths].filter(
      (p) =>
        p.endsWith(".map") ||
        p.startsWith("test/") ||
        /(^|\/)(test|tests|__tests__)\//.test(p) ||
        /\.test\.[cm]?[jt]s$/.test(p) ||
        /(^|\/)(\.wfc|work|results|node_modules)\//.test(p) ||
        p.endsWith(".tsbuildinfo") ||
        p.startsWith("samples/invalid/"),
    );
    expect(stray).toEqual([]);
    // No source text that mentions a map either.
    const mentions = [...paths].filter((p) => p.endsWith(".js") && readFileSync(join(unpacked, p), "utf8").includes("sourceMappingURL"));
    expect(mentions).toEqual([]);
  });

  test("package.json says where the project lives", () => {
    expect(pkg.repository).toEqual({ type: "git", url: "git+https://github.com/wfc-dev/wfc.git" });
    expect(pkg.homepage).toBe("https://wfc.dev");
    expect(pkg.bugs?.url).toBe("https://github.com/wfc-dev/wfc/issues");
    // The schemas' $id use the same domain.
    const schema = JSON.parse(readFileSync(join(unpacked, "schema/workflow.schema.json"), "utf8")) as { $id: string };
    expect(new URL(schema.$id).host).toBe(new URL(pkg.homepage!).host);
  });

  test("every relative link in the packed markdown resolves to a packed file (and a heading for #anchors)", () => {
    const broken: string[] = [];
    for (const file of [...paths].filter((p) => p.endsWith(".md")).sort()) {
      for (const link of markdownLinks(readFileSync(join(unpacked, file), "utf8"))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
        const [target = "", anchor] = link.split("#", 2) as [string, string | undefined];
        const path = target === "" ? file : posix.normalize(posix.join(posix.dirname(file), decodeURIComponent(target)));
        const isFile = paths.has(path);
        const isDir = [...paths].some((p) => p.startsWith(path.replace(/\/$/, "") + "/"));
        if (!isFile && !isDir) {
          broken.push(`${file}: ${link} (not in the package)`);
          continue;
        }
        if (
          anchor !== undefined &&
          isFile &&
          path.endsWith(".md") &&
          !headingAnchors(readFileSync(join(unpacked, path), "utf8")).has(anchor)
        ) {
          broken.push(`${file}: ${link} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  test("the code imports only node's own modules and declared dependencies; @types/* are dev-only", () => {
    const declared = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const undeclared = new Set<string>();
    for (const path of [...paths].filter((p) => /\.(js|d\.ts)$/.test(p))) {
      const text = readFileSync(join(unpacked, path), "utf8");
      // TypeScript's own scanner: static, dynamic and type-only imports, not look-alikes inside strings.
      for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
        if (spec.startsWith(".")) continue;
        if (builtins.has(spec) || builtins.has(spec.split("/")[0]!)) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        if (!declared.has(name)) undeclared.add(`${path}: ${spec}`);
      }
    }
    expect([...undeclared]).toEqual([]);
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@types/"))).toEqual([]);
    expect(Object.keys(pkg.devDependencies)).toContain("@types/js-yaml");
  });

  test("engines.node allows exactly the versions every installed runtime dependency allows", () => {
    // The packages `npm ci` installed for production (the lock file marks the rest `dev`), as installed.
    const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const ranges = new Map<string, string>();
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === "" || entry.dev === true) continue;
      const installed = join(repoRoot, path, "package.json");
      expect(existsSync(installed), `${path} is not installed`).toBe(true);
      const engines = (JSON.parse(readFileSync(installed, "utf8")) as { engines?: { node?: string } }).engines;
      if (engines?.node !== undefined) ranges.set(path.replace(/^.*node_modules\//, ""), engines.node);
    }
    expect(ranges.size).toBeGreaterThan(10);
    // Every version where some range starts or ends, and its neighbours: where any answer can change.
    const probes = new Set<string>();
    for (const major of [...Array(30).keys()]) for (const minor of [0, 1, 5, 12, 13, 17, 18, 19, 20, 99]) probes.add(`${major}.${minor}.0`);
    const wrong: string[] = [];
    for (const probe of [...probes]) {
      const all = [...ranges.values()].every((r) => satisfies(probe, r));
      if (satisfies(probe, pkg.engines.node) !== all) {
        const against = [...ranges].filter(([, r]) => !satisfies(probe, r)).map(([n, r]) => `${n} ${r}`);
        wrong.push(`${probe}: engines says ${!all}, the dependencies ${all}${against.length > 0 ? ` (${against.join("; ")})` : ""}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  test("installed from the tarball into an empty folder, `wfc run` runs a sample copied there", async () => {
    const app = join(work, "app");
    mkdirSync(app);
    // The registry only for what the cache lacks: the dependencies are the lock file's, already fetched once by `npm ci`.
    const install = await execa("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock", tarball], {
      cwd: app,
      reject: false,
    });
    expect(install.exitCode, install.stderr).toBe(0);
    const bin = join(app, "node_modules/.bin/wfc");
    expect(existsSync(bin)).toBe(true);

    const sample = copySample("scipion-steps");
    const run = await execa(bin, ["run", "workflow.yaml"], { cwd: sample, reject: false, env: { NO_COLOR: "1", WFC_CONFIG: "" } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^ok: 7 done, 0 up to date, 0 failed, 0 not run in /m);
    const table = readFileSync(join(sample, "results/output.txt"), "utf8").trim().split("\n");
    expect(table[0]).toBe("micrograph\tmean\tsd\tparticles_simulated\tparticles_picked");
    expect(table.slice(1, -1).map((l) => l.split("\t")[0])).toEqual(["mic001", "mic002", "mic003", "mic004", "mic005", "mic006"]);
    expect(table.at(-1)).toMatch(/^# 6 micrographs, \d+ particles picked$/);
    // It ran the installed copy, not this checkout.
    const version = await execa(bin, ["--version"], { cwd: sample });
    expect(version.stdout).toBe(pkg.version);
    expect(statSync(join(app, "node_modules/wfc/dist/cli/bin.js")).isFile()).toBe(true);

    // `wfc init` in the project that installed it: the schema line points into its node_modules by a relative path, and the workflow runs.
    const init = await execa(bin, ["init", "-o", "flows/workflow.yaml"], { cwd: app, reject: false });
    expect(init.exitCode, init.stderr).toBe(0);
    const written = readFileSync(join(app, "flows/workflow.yaml"), "utf8");
    expect(written.split("\n")[0]).toBe("# yaml-language-server: $schema=../node_modules/wfc/schema/workflow.schema.json");
    expect(existsSync(join(app, "flows", "../node_modules/wfc/schema/workflow.schema.json"))).toBe(true);
    const started = await execa(bin, ["run", "flows/workflow.yaml"], { cwd: app, reject: false, env: { NO_COLOR: "1", WFC_CONFIG: "" } });
    expect(started.exitCode, started.stderr).toBe(0);
    expect(existsSync(join(app, "flows/results/output.txt"))).toBe(true);
  }, 180_000);
});

/** The targets of inline links and link definitions, outside code blocks and code spans. */
function markdownLinks(text: string): string[] {
  const prose = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const definitions = [...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...definitions];
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(text: string): Set<string> {
  const prose = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/**
 * Whether a node version satisfies an `engines` range, for the forms the
 * dependencies use (`>=X[.Y[.Z]]`, `^X.Y.Z`, `X`, alternatives with `||`).
 * Any other form fails the test rather than being guessed at.
 */
function satisfies(version: string, range: string): boolean {
  const v = triple(version);
  return range.split("||").some((alternative) => {
    const m = /^\s*(>=|\^)?\s*(\d+(?:\.\d+){0,2})\s*$/.exec(alternative);
    if (m === null) throw new Error(`engines range form not handled by this test: \`${range}\``);
    const low = triple(m[2]!);
    if (compare(v, low) < 0) return false;
    if (m[1] === ">=") return true;
    // `^X.Y.Z` (X > 0) and a bare `X` both stay within major X.
    return v[0] === low[0];
  });
}

function triple(version: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = version.split(".").map(Number);
  return [a, b, c];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
