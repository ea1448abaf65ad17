import { LineIndex } from "./line-index.js";

/** A workflow or config file's text, with its path as the user gave it. */
export class SourceFile {
  readonly lines: LineIndex;
  constructor(
    /** The path shown in diagnostics: as given on the command line. */
    readonly path: string,
    readonly text: string,
  ) {
    this.lines = new LineIndex(text);
  }
}
