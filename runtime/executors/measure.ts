/**
 * Whether jobs are measured (issue 16): `WFC_MEASURE=0` turns it off, for
 * bench/measure.mjs, which runs the same fan-out with and without it. Read
 * when a worker or an `fn` pool starts, so a run measures all or nothing.
 */
export function measuring(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.WFC_MEASURE !== "0";
}
