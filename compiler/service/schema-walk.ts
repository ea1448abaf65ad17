import { schemaText, type SchemaName } from "../schema/assets.js";
import type { DataPath } from "../source/document.js";

/**
 * Walks a JSON Schema along a data path, the way an editor needs it: which
 * keys a map may have and what each one means. Not a validator: every branch
 * of `anyOf`/`oneOf`/`allOf`/`if`-`then` is followed, so an executor's map
 * offers the keys of every `type` and the validator says which apply.
 */
type SchemaNode = Readonly<Record<string, unknown>>;

export interface SchemaKey {
  readonly name: string;
  /** Markdown, when the schema describes it. */
  readonly description?: string;
}

const schemas = new Map<SchemaName, SchemaNode>();

function rootOf(name: SchemaName): SchemaNode {
  let root = schemas.get(name);
  if (root === undefined) {
    root = JSON.parse(schemaText(name)) as SchemaNode;
    schemas.set(name, root);
  }
  return root;
}

function isNode(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The node and every node it stands for through `$ref` and the combinators. */
function expand(root: SchemaNode, node: SchemaNode, seen = new Set<SchemaNode>()): SchemaNode[] {
  if (seen.has(node)) return [];
  seen.add(node);
  const out = [node];
  const ref = node.$ref;
  if (typeof ref === "string" && ref.startsWith("#/")) {
    let target: unknown = root;
    for (const part of ref.slice(2).split("/")) target = isNode(target) ? target[part] : undefined;
    if (isNode(target)) out.push(...expand(root, target, seen));
  }
  for (const combinator of ["allOf", "anyOf", "oneOf"]) {
    const branches = node[combinator];
    if (Array.isArray(branches)) for (const b of branches) if (isNode(b)) out.push(...expand(root, b, seen));
  }
  for (const branch of ["then", "else"]) {
    const b = node[branch];
    if (isNode(b)) out.push(...expand(root, b, seen));
  }
  return out;
}

/** The schema nodes that may describe the value at `path` (each with the nodes it expands to). */
function nodesAt(name: SchemaName, path: DataPath): { own: SchemaNode; expanded: SchemaNode[] }[] {
  const root = rootOf(name);
  let current = [{ own: root, expanded: expand(root, root) }];
  for (const segment of path) {
    const next: SchemaNode[] = [];
    for (const { expanded } of current) {
      for (const node of expanded) next.push(...childrenOf(node, segment));
    }
    current = next.map((own) => ({ own, expanded: expand(root, own) }));
    if (current.length === 0) break;
  }
  return current;
}

function childrenOf(node: SchemaNode, segment: string | number): SchemaNode[] {
  if (typeof segment === "number") return isNode(node.items) ? [node.items] : [];
  const properties = node.properties;
  if (isNode(properties) && isNode(properties[segment])) return [properties[segment]];
  const patterns = node.patternProperties;
  const out: SchemaNode[] = [];
  if (isNode(patterns)) {
    for (const [pattern, child] of Object.entries(patterns)) if (isNode(child) && matches(pattern, segment)) out.push(child);
  }
  if (out.length === 0 && isNode(node.additionalProperties)) out.push(node.additionalProperties);
  return out;
}

function describeNode(node: SchemaNode): string | undefined {
  const text = node.markdownDescription ?? node.description;
  return typeof text === "string" ? text : undefined;
}

/** What the schema says about the value at `path`: the nearest description, its own before its `$ref`'s. */
export function describeAt(name: SchemaName, path: DataPath): string | undefined {
  for (const { own, expanded } of nodesAt(name, path)) {
    const text = describeNode(own) ?? expanded.map(describeNode).find((d) => d !== undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** The keys the schema names for the map at `path`, in schema order, each once. */
export function keysAt(name: SchemaName, path: DataPath): SchemaKey[] {
  const out = new Map<string, SchemaKey>();
  for (const { expanded } of nodesAt(name, path)) {
    for (const node of expanded) {
      if (!isNode(node.properties)) continue;
      for (const key of Object.keys(node.properties)) {
        if (out.has(key)) continue;
        const description = describeAt(name, [...path, key]);
        out.set(key, description === undefined ? { name: key } : { name: key, description });
      }
    }
  }
  return [...out.values()];
}

/** The fixed values the schema allows at `path` (`enum`, `const`), as text. */
export function valuesAt(name: SchemaName, path: DataPath): string[] {
  const out = new Set<string>();
  for (const { expanded } of nodesAt(name, path)) {
    for (const node of expanded) {
      if (Array.isArray(node.enum)) for (const v of node.enum) out.add(String(v));
      if (node.const !== undefined) out.add(String(node.const));
    }
  }
  return [...out];
}

/** A schema pattern this engine cannot compile matches nothing: a hover is not worth a crash. */
function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, "u").test(text);
  } catch {
    return false;
  }
}
