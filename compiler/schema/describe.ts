import { formatPath, type DataPath } from "../source/document.js";

/**
 * Names the thing at a data path the way a user thinks of it:
 * `stage \`search\``, `\`limit\` of stage \`search\``, `executor \`htex\``.
 */
export function describePath(path: DataPath): string {
  const [top, name, key, ...rest] = path;
  if (path.length === 0) return "the workflow";
  if (path.length === 1) return `\`${String(top)}\``;
  const owner =
    top === "stages"
      ? `stage \`${String(name)}\``
      : top === "executors"
        ? `executor \`${String(name)}\``
        : top === "limits"
          ? `limit \`${String(name)}\``
          : top === "params"
            ? `param \`${String(name)}\``
            : undefined;
  if (owner === undefined) return `\`${formatPath(path)}\``;
  if (key === undefined) return owner;
  if (key === "foreach" && rest.length > 0) {
    const [variable, ...more] = rest;
    const inner = more.length === 0 ? "" : `\`${formatPath(more)}\` of `;
    return `${inner}foreach variable \`${String(variable)}\` of ${owner}`;
  }
  return `\`${formatPath([key, ...rest])}\` of ${owner}`;
}
