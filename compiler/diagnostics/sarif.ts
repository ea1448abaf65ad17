/**
 * `wfc validate --format sarif`: the diagnostics as one SARIF 2.1.0 log
 * (https://docs.oasis-open.org/sarif/sarif/v2.1.0/), the format code-scanning
 * services read (GitHub's `upload-sarif`, GitLab, Azure DevOps). Deterministic:
 * no timestamps, no machine paths unless a file lies outside the working
 * directory, rules sorted by code.
 */
import type { Diagnostic, Fix, Location, Span } from "./diagnostic.js";
import { CODES, type DiagnosticCode } from "./codes.js";
import { messageLines, type FileLookup } from "./format.js";
import { ciPath } from "./ci-path.js";
import { visible } from "./visible.js";

/** Where the tool's documentation lives (the schemas' `$id`s use this domain). */
export const WFC_HOME = "https://wfc.dev";

/** The subset of SARIF 2.1.0 wfc writes. */
export interface SarifLog {
  $schema: string;
  version: "2.1.0";
  runs: [SarifRun];
}

interface SarifRun {
  tool: { driver: { name: "wfc"; version: string; semanticVersion: string; informationUri: string; rules: SarifRule[] } };
  /** Regions count UTF-16 code units, as wfc's spans (and LSP) do. */
  columnKind: "utf16CodeUnits";
  artifacts: { location: SarifArtifactLocation }[];
  results: SarifResult[];
}

interface SarifRule {
  id: string;
  shortDescription: { text: string };
}

interface SarifArtifactLocation {
  uri: string;
  index?: number;
}

interface SarifRegion {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  charOffset: number;
  charLength: number;
}

interface SarifPhysicalLocation {
  artifactLocation: SarifArtifactLocation;
  region?: SarifRegion;
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: "error" | "warning";
  message: { text: string };
  locations: { physicalLocation: SarifPhysicalLocation }[];
  relatedLocations?: { id: number; physicalLocation: SarifPhysicalLocation; message: { text: string } }[];
  fixes?: {
    description: { text: string };
    artifactChanges: {
      artifactLocation: SarifArtifactLocation;
      replacements: { deletedRegion: SarifRegion; insertedContent: { text: string } }[];
    }[];
  }[];
}

/** A file named in a diagnostic, relative to the working directory (a `file:` URI when outside it). */
function uriOf(file: string, cwd: string): string {
  const { path, outside } = ciPath(file, cwd);
  // Percent-encode what a URI reference cannot hold; `/` separates segments.
  const encoded = path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
  return outside ? `file://${encoded}` : encoded;
}

/** A span as a SARIF region: 1-based lines and columns, the end column just after the span. */
function region(file: string, span: Span, files: FileLookup): SarifRegion | undefined {
  const source = files(file);
  if (source === undefined) return undefined;
  const start = source.lines.position(span.start);
  const end = source.lines.position(span.end);
  return {
    startLine: start.line,
    startColumn: start.column,
    endLine: end.line,
    endColumn: end.column,
    charOffset: span.start,
    charLength: span.end - span.start,
  };
}

/** The diagnostics of one `wfc validate` as a SARIF log; `files` gives line/column, `cwd` makes paths relative. */
export function toSarif(diagnostics: readonly Diagnostic[], files: FileLookup, cwd: string, version: string): SarifLog {
  const codes = [...new Set(diagnostics.map((d) => d.code))].sort();
  const ruleIndex = new Map(codes.map((code, i) => [code, i]));
  const artifacts: string[] = [];
  const artifact = (file: string): SarifArtifactLocation => {
    const uri = uriOf(file, cwd);
    let index = artifacts.indexOf(uri);
    if (index === -1) index = artifacts.push(uri) - 1;
    return { uri, index };
  };
  const physical = (location: Location): SarifPhysicalLocation => {
    const r = location.span === undefined ? undefined : region(location.file, location.span, files);
    return { artifactLocation: artifact(location.file), ...(r !== undefined ? { region: r } : {}) };
  };
  const fix = (f: Fix, file: string): NonNullable<SarifResult["fixes"]>[number] => ({
    description: { text: visible(f.title) },
    artifactChanges: [
      {
        artifactLocation: artifact(file),
        replacements: f.edits.flatMap((e) => {
          const deleted = region(file, e.span, files);
          return deleted === undefined ? [] : [{ deletedRegion: deleted, insertedContent: { text: e.newText } }];
        }),
      },
    ],
  });

  const results = diagnostics.map((d): SarifResult => {
    const related = (d.related ?? []).map((r, i) => ({
      id: i + 1,
      physicalLocation: physical(r.location),
      message: { text: visible(r.message) },
    }));
    const location = d.location;
    // A fix needs positions in its file; without them (an unread file) it is left out rather than half-written.
    const fixes =
      location === undefined || files(location.file) === undefined
        ? []
        : (d.fixes ?? []).map((f) => fix(f, location.file)).filter((f) => f.artifactChanges[0]!.replacements.length > 0);
    return {
      ruleId: d.code,
      ruleIndex: ruleIndex.get(d.code)!,
      level: d.severity,
      message: { text: messageLines(d).join("\n") },
      locations: location === undefined ? [] : [{ physicalLocation: physical(location) }],
      ...(related.length > 0 ? { relatedLocations: related } : {}),
      ...(fixes.length > 0 ? { fixes } : {}),
    };
  });

  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "wfc",
            version,
            semanticVersion: version,
            informationUri: WFC_HOME,
            rules: codes.map((code) => ({ id: code, shortDescription: { text: CODES[code as DiagnosticCode] } })),
          },
        },
        columnKind: "utf16CodeUnits",
        artifacts: artifacts.map((uri) => ({ location: { uri } })),
        results,
      },
    ],
  };
}
