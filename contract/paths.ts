/**
 * Which paths wfc may write, check and (after a failure) remove: outputs
 * stay inside the workflow's folder, and globs search only inside it. The
 * compiler reports these at validation (WFC223–WFC225); the runtime checks
 * them again before a job starts, so a hand-edited plan.json cannot make wfc
 * write or delete elsewhere either. Inputs may be anywhere (a reference
 * genome in /data): they are only read.
 *
 * The rules are lexical, on the path as written: `a/../b` is refused even
 * though it names `b`, since `a` may be a link to another folder.
 */

/** Why a path cannot be an output. */
export type OutputPathProblem =
  /** `""`: names nothing. */
  | "empty"
  /** `/tmp/out`: outside the folder by construction. */
  | "absolute"
  /** A `..` segment: may leave the folder. */
  | "parent"
  /** `.`, `./`: the workflow's folder itself. */
  | "folder"
  /** Inside `.wfc/`, wfc's journal, logs and lock. */
  | "state"
  /** A NUL byte, which no file name can hold. */
  | "nul";

/** Why a glob cannot be searched. */
export type GlobProblem = "absolute" | "parent";

/** The problem with `path` as an output, or undefined when it names something inside the workflow's folder. */
export function outputPathProblem(path: string): OutputPathProblem | undefined {
  if (path === "") return "empty";
  if (path.includes("\0")) return "nul";
  if (path.startsWith("/")) return "absolute";
  let first: string | undefined;
  for (let start = 0; start <= path.length;) {
    let end = path.indexOf("/", start);
    if (end === -1) end = path.length;
    const length = end - start;
    // Segments are compared in place: this runs once per output of every job.
    if (length === 2 && path.startsWith("..", start)) return "parent";
    if (first === undefined && length > 0 && !(length === 1 && path[start] === ".")) first = path.slice(start, end);
    start = end + 1;
  }
  if (first === undefined) return "folder";
  return first === ".wfc" ? "state" : undefined;
}

/** The problem with `pattern` as a glob, or undefined when it searches inside the workflow's folder. */
export function globProblem(pattern: string): GlobProblem | undefined {
  if (pattern.startsWith("/")) return "absolute";
  const segments = pattern.split("/");
  if (segments.includes("..")) return "parent";
  // tinyglobby walks from the parent folder for a glob that starts with `..` (`..*/x`, `./..**`), and `..*` matches `..`.
  return segments.find((s) => s !== "" && s !== ".")?.startsWith("..") ? "parent" : undefined;
}

/** The problem in words, after "`out/x` …" or "which …". */
export function describePathProblem(problem: OutputPathProblem | GlobProblem): string {
  switch (problem) {
    case "empty":
      return "is empty";
    case "nul":
      return "has a NUL byte in it";
    case "absolute":
      return "is absolute";
    case "parent":
      return "uses `..`";
    case "folder":
      return "is the workflow's folder itself";
    case "state":
      return "is inside `.wfc/`, where wfc keeps its journal and logs";
  }
}
