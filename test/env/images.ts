/**
 * What the environment tests need on this machine (issue 15): podman with
 * images built here (no registry is reachable), and Environment Modules with
 * modulefiles a test writes. .ci/env/up.sh installs and configures both;
 * without them the tests are skipped with the reason, except on CI, where
 * they fail (as the SLURM tests do: test/slurm/cluster.ts).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "vitest";
import { onCi } from "../slurm/cluster.js";

/** The test images: busybox (`:1` and `:2` differ by one file) and one with bash. */
export const BUSYBOX = "localhost/wfc-test-busybox";
export const BASH_IMAGE = "localhost/wfc-test-bash:1";

const START_HINT = "`sudo npm run env:up` (.ci/env/up.sh) installs and configures them";

/** Why podman cannot run the tests' containers here, or undefined when it can. */
export function podmanProblem(): string | undefined {
  try {
    execFileSync("podman", ["--version"], { stdio: "ignore" });
  } catch {
    return "podman is not installed";
  }
  if (!existsSync("/bin/busybox")) return "busybox-static is not installed (the test images are made from it)";
  return undefined;
}

/** Why Environment Modules are not usable here, or undefined. */
export function modulesProblem(): string | undefined {
  return existsSync("/usr/share/modules/init/bash") ? undefined : "Environment Modules are not installed (/usr/share/modules/init/bash)";
}

/**
 * `describe` for tests that need something of this machine: skipped with
 * the reason when it is missing; on CI, one failing test with the reason.
 */
export function describeIf(problem: string | undefined, name: string, body: () => void): void {
  if (problem === undefined) describe(name, body);
  else if (onCi()) {
    describe(name, () => {
      test("needs its tools", () => {
        throw new Error(`${problem} (CI is set: ${START_HINT} before the tests)`);
      });
    });
  } else {
    console.warn(`${name}: skipped: ${problem}`);
    describe.skip(`${name} (skipped: ${problem}; ${START_HINT})`, body);
  }
}

/**
 * Builds the test images once (an image already there is kept): a busybox
 * rootfs with every applet linked, `:1` and `:2` (each with
 * /etc/wfc-test-image saying which), and busybox plus /bin/bash and the
 * libraries `ldd` lists for it (its /etc/wfc-test-image says `bash`). Test files run in parallel: a lock folder
 * makes one of them build while the others wait.
 */
export function buildTestImages(): void {
  withLock(() => {
    for (const version of ["1", "2"]) {
      const image = `${BUSYBOX}:${version}`;
      if (!imageExists(image)) importRootfs(image, (root) => writeFileSync(join(root, "etc", "wfc-test-image"), `${version}\n`));
    }
    if (!imageExists(BASH_IMAGE))
      importRootfs(BASH_IMAGE, (root) => {
        copyWithLibraries("/bin/bash", root);
        writeFileSync(join(root, "etc", "wfc-test-image"), "bash\n");
      });
  });
}

/** Imports a busybox rootfs, changed by `extra`, as `image` (replacing one of that name). */
export function importRootfs(image: string, extra: (root: string) => void = () => {}): void {
  const dir = mkdtempSync(join(tmpdir(), "wfc-image-"));
  const root = join(dir, "root");
  try {
    for (const d of ["bin", "etc", "tmp"]) mkdirSync(join(root, d), { recursive: true });
    copyFileSync("/bin/busybox", join(root, "bin", "busybox"));
    chmodSync(join(root, "bin", "busybox"), 0o755);
    const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
    for (const a of applets) if (a !== "busybox" && !existsSync(join(root, "bin", a))) symlinkSync("busybox", join(root, "bin", a));
    extra(root);
    execFileSync("tar", ["-C", root, "-cf", join(dir, "rootfs.tar"), "."]);
    execFileSync("podman", ["import", "-q", join(dir, "rootfs.tar"), image], { stdio: ["ignore", "ignore", "pipe"] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function imageExists(image: string): boolean {
  try {
    execFileSync("podman", ["image", "exists", image], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Copies a program and the shared libraries `ldd` lists into `root`, each at its own path. */
function copyWithLibraries(program: string, root: string): void {
  const libs = execFileSync("ldd", [program], { encoding: "utf8" })
    .split("\n")
    .map((l) => /(\/\S+) \(0x/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
  for (const file of [program, ...libs]) {
    const to = join(root, file);
    mkdirSync(dirname(to), { recursive: true });
    if (existsSync(to)) rmSync(to);
    copyFileSync(file, to);
    chmodSync(to, 0o755);
  }
}

function withLock(body: () => void): void {
  const lock = join(tmpdir(), "wfc-test-images.lock");
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} is held for 2 minutes: remove it if no test runs`);
      execFileSync("sleep", ["0.2"]);
    }
  }
  try {
    body();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A modulefile tree in a temp folder: each `name/version` puts a folder on
 * PATH with the given programs (shell scripts). Returns the MODULEPATH.
 */
export function writeModules(modules: Record<string, Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), "wfc-modules-"));
  for (const [name, programs] of Object.entries(modules)) {
    const bin = join(dir, "apps", name, "bin");
    mkdirSync(bin, { recursive: true });
    for (const [program, script] of Object.entries(programs)) {
      writeFileSync(join(bin, program), script);
      chmodSync(join(bin, program), 0o755);
    }
    const file = join(dir, "modulefiles", name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `#%Module1.0\nprepend-path PATH ${bin}\n`);
  }
  return join(dir, "modulefiles");
}
