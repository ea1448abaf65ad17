import { execa } from "execa";

export interface Svg {
  readonly svg: string;
  readonly stderr: string;
  readonly count: (cls: "node" | "edge" | "cluster") => number;
  /** Every text Graphviz drew (one per label line), entities decoded. */
  readonly texts: () => string[];
}

const ENTITIES: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x?[0-9a-fA-F]+|\w+);/g, (whole, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITIES[e] ?? whole;
  });
}

let available: Promise<boolean> | undefined;

/** Whether Graphviz's `dot` is on PATH (checked once). */
export function hasDot(): Promise<boolean> {
  available ??= execa("dot", ["-V"], { reject: false }).then((r) => r.exitCode === 0);
  return available;
}

/** Why a test that needs `dot` is skipped, or fails on CI, where .ci/run installs it. */
export const NO_DOT = "graphviz `dot` is not installed (apt-get install graphviz); the DOT output was not checked by a real parser";

/** Lays a DOT text out with Graphviz; rejects with dot's own message when it does not parse. */
export async function dotToSvg(text: string): Promise<Svg> {
  const r = await execa("dot", ["-Tsvg"], { input: text, reject: false });
  if (r.exitCode !== 0) throw new Error(`dot -Tsvg failed (${r.exitCode}): ${r.stderr}`);
  const svg = r.stdout;
  return {
    svg,
    stderr: r.stderr,
    count: (cls) => svg.split(`class="${cls}"`).length - 1,
    texts: () => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => decodeXml(m[1]!)),
  };
}
