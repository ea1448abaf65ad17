/** Text or an attribute value for HTML (and inline SVG): the five characters that could end or open markup, as entities. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * JSON to embed in a `<script type="application/json">`: `<`, `>` and `&`
 * as `\u003c`…, so no value can close the script element or open a
 * comment, and U+2028/U+2029 escaped too (JSON allows them raw; older
 * JavaScript did not). JSON.parse reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
