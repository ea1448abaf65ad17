import type { StageEdge } from "./dependencies.js";

/**
 * Finds cycles with their whole trail by a DFS in sorted order, so the same
 * workflow always reports the same cycles (STYLE habit 8). One cycle per set
 * of stages; at most `max` of them.
 */
export function findCycles(stages: readonly string[], edges: readonly StageEdge[], max = 10): StageEdge[][] {
  const out = new Map<string, StageEdge[]>();
  for (const s of [...stages].sort()) out.set(s, []);
  for (const e of edges) out.get(e.from)?.push(e);
  for (const list of out.values()) list.sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));

  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: StageEdge[] = [];
  const onStack: string[] = [];
  const cycles: StageEdge[][] = [];
  const seen = new Set<string>();

  // Iterative, so a 10,000-stage chain does not overflow the call stack.
  const visit = (root: string) => {
    const frames: { node: string; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 1);
    onStack.push(root);
    while (frames.length > 0 && cycles.length < max) {
      const frame = frames.at(-1)!;
      const edge = out.get(frame.node)?.[frame.next++];
      if (edge === undefined) {
        frames.pop();
        onStack.pop();
        stack.pop();
        state.set(frame.node, 2);
      } else if (state.get(edge.to) === 1) {
        const cycle = [...stack.slice(onStack.indexOf(edge.to)), edge];
        const key = [...new Set(cycle.map((e) => e.from))].sort().join("\u0000");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (state.get(edge.to) === undefined) {
        stack.push(edge);
        state.set(edge.to, 1);
        onStack.push(edge.to);
        frames.push({ node: edge.to, next: 0 });
      }
    }
  };
  for (const s of out.keys()) if (state.get(s) === undefined) visit(s);
  return cycles;
}
