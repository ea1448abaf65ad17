import type { DiagnosticCode } from "../diagnostics/codes.js";
import type { Diagnostic, Related, Severity, Span } from "../diagnostics/diagnostic.js";
import { suggestionFix } from "../diagnostics/fixes.js";
import type { DataPath, ParsedDocument, SpanPart } from "../source/document.js";

export interface ReportOptions {
  readonly part?: SpanPart;
  /** Point inside a string value at this substring (a placeholder), if found there. */
  readonly within?: { readonly offset: number; readonly length: number; readonly text: string };
  readonly expected?: string | undefined;
  readonly help?: string | undefined;
  readonly related?: readonly { readonly path: DataPath; readonly message: string; readonly part?: SpanPart }[];
  /** The misspelled word a "did you mean" `help` is about: it becomes a quick fix (`Diagnostic.fixes`). */
  readonly typo?: string;
}

/** Collects located diagnostics for one document (STYLE habit 3: collect, don't throw). */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly doc: ParsedDocument) {}

  span(path: DataPath, options: Pick<ReportOptions, "part" | "within"> = {}): Span {
    const span = this.doc.locate(path, options.part ?? "value");
    const within = options.within;
    if (within === undefined) return span;
    const source = this.doc.file.text.slice(span.start, span.end);
    const needle = within.text.slice(within.offset, within.offset + within.length);
    // Quoted or escaped scalars shift offsets: find the placeholder's own text,
    // the same occurrence of it (escapes never produce or hide a brace).
    const nth = occurrences(within.text, needle, within.offset);
    let found = -1;
    for (let k = 0; k <= nth; k++) {
      found = source.indexOf(needle, found + 1);
      if (found === -1) break;
    }
    return found === -1 ? span : { start: span.start + found, end: span.start + found + needle.length };
  }

  report(severity: Severity, code: DiagnosticCode, message: string, path: DataPath, options: ReportOptions = {}): void {
    const related: Related[] | undefined = options.related?.map((r) => ({
      location: { file: this.doc.file.path, span: this.span(r.path, { part: r.part ?? "value" }) },
      message: r.message,
    }));
    const span = this.span(path, options);
    const fixes = options.typo === undefined ? undefined : suggestionFix(this.doc.file.text, span, options.typo, options.help);
    this.diagnostics.push({
      severity,
      code,
      message,
      location: { file: this.doc.file.path, span },
      ...(options.expected !== undefined ? { expected: options.expected } : {}),
      ...(options.help !== undefined ? { help: options.help } : {}),
      ...(related !== undefined && related.length > 0 ? { related } : {}),
      ...(fixes !== undefined ? { fixes } : {}),
    });
  }

  error(code: DiagnosticCode, message: string, path: DataPath, options?: ReportOptions): void {
    this.report("error", code, message, path, options);
  }

  warning(code: DiagnosticCode, message: string, path: DataPath, options?: ReportOptions): void {
    this.report("warning", code, message, path, options);
  }
}

/** How many times `needle` occurs in `text` before `end`. */
function occurrences(text: string, needle: string, end: number): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1 && at < end; at = text.indexOf(needle, at + 1)) n++;
  return n;
}
