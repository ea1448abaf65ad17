/**
 * Packs bars into rows of slots, greedily by start time: each bar goes to
 * the row that fell free earliest (the lowest-numbered such row on a tie),
 * or a new row when every row is still busy at its start. Bars in one row
 * never overlap, so a row reads as one slot's jobs one after another.
 * `order` is the bars' indices sorted by start. O(n log n): a binary heap of
 * rows by the time each frees up.
 */
export function packRows(order: readonly number[], start: readonly number[], end: readonly number[]): { row: Int32Array; rows: number } {
  const row = new Int32Array(start.length);
  // Heap of rows by (free time, row number).
  const heapFree: number[] = [];
  const heapRow: number[] = [];
  const less = (a: number, b: number) => heapFree[a]! < heapFree[b]! || (heapFree[a] === heapFree[b] && heapRow[a]! < heapRow[b]!);
  const swap = (a: number, b: number) => {
    [heapFree[a], heapFree[b]] = [heapFree[b]!, heapFree[a]!];
    [heapRow[a], heapRow[b]] = [heapRow[b]!, heapRow[a]!];
  };
  const push = (free: number, r: number) => {
    heapFree.push(free);
    heapRow.push(r);
    for (let i = heapFree.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!less(i, parent)) break;
      swap(i, parent);
      i = parent;
    }
  };
  const pop = () => {
    const last = heapFree.length - 1;
    swap(0, last);
    heapFree.pop();
    const r = heapRow.pop()!;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      let min = i;
      if (l < heapFree.length && less(l, min)) min = l;
      if (l + 1 < heapFree.length && less(l + 1, min)) min = l + 1;
      if (min === i) break;
      swap(i, min);
      i = min;
    }
    return r;
  };
  let rows = 0;
  for (const i of order) {
    const r = heapFree.length > 0 && heapFree[0]! <= start[i]! ? pop() : rows++;
    row[i] = r;
    push(Math.max(end[i]!, start[i]!), r);
  }
  return { row, rows };
}
