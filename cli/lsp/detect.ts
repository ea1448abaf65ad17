/**
 * Which open files are wfc's. An editor sends every YAML (or TOML, JSON) file
 * to a server registered for the language, so a docker-compose file or a CI
 * config must get no diagnostics at all: a file is a workflow only when its
 * text says so, and a config file only by its name or its schema line.
 */
import { basename } from "node:path";
import type { ServiceFileKind } from "../../compiler/service/service.js";
import { PROJECT_CONFIG } from "../../compiler/config/locations.js";
import { formatOf } from "../../compiler/source/parse.js";

/** `# yaml-language-server: $schema=…/NAME`, `#:schema …/NAME` (taplo) or JSON's `"$schema": "…/NAME"`. */
function schemaLine(text: string): "workflow" | "config" | undefined {
  const match =
    /^#\s*yaml-language-server:\s*\$schema=\s*(\S+)/m.exec(text) ??
    /^#:schema\s+(\S+)/m.exec(text) ??
    /^\s*\{?\s*"\$schema"\s*:\s*"([^"]*)"/m.exec(text);
  const target = match?.[1];
  if (target === undefined) return undefined;
  if (/(^|[/\\])workflow\.schema\.json$/.test(target)) return "workflow";
  if (/(^|[/\\])config\.schema\.json$/.test(target)) return "config";
  return undefined;
}

/**
 * A top-level `wfc` key, or `stages` holding a map, found in the text rather
 * than the data so that a half-typed file that does not parse is still
 * recognised. `stages` alone is not enough: GitLab CI and Azure Pipelines
 * files have a top-level `stages` too, but a list.
 */
function hasWorkflowKey(text: string, format: "yaml" | "toml" | "json"): boolean {
  switch (format) {
    case "yaml":
      // `stages: {…}`, or `stages:` then an indented line that is not a list item.
      return (
        /^["']?wfc["']?[ \t]*:/m.test(text) ||
        /^["']?stages["']?[ \t]*:[ \t]*(\{|(#.*)?\r?\n(([ \t]*(#.*)?)?\r?\n)*[ \t]+[^-\s#])/m.test(text)
      );
    case "toml":
      return /^[ \t]*(["']?wfc["']?[ \t]*=|["']?stages["']?[ \t]*(=[ \t]*\{|\.)|\[\[?[ \t]*["']?stages["']?[ \t]*[.\]])/m.test(text);
    case "json":
      return /"wfc"\s*:/.test(text) || /"stages"\s*:\s*\{/.test(text);
  }
}

/** A config file by name: `wfc.config.toml`, or `…/wfc/config.toml` (the user and site configs). */
function isConfigName(path: string): boolean {
  return basename(path) === PROJECT_CONFIG || /[/\\]wfc[/\\]config\.toml$/.test(path);
}

/** What kind of wfc file `path` with `text` is, or undefined for a file that is none of wfc's business. */
export function fileKind(path: string, text: string): ServiceFileKind | undefined {
  const format = formatOf(path);
  if (format === undefined) return undefined;
  const declared = schemaLine(text);
  if (declared !== undefined) return declared;
  if (isConfigName(path)) return "config";
  return hasWorkflowKey(text, format) ? "workflow" : undefined;
}
