/**
 * The p-th percentile (0..100) of `values` by the nearest-rank method: the
 * smallest value with at least p% of the values at or below it, so it is
 * always one of the measured values. Undefined for no values. Sorts a copy.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}
