/** Seconds in a duration: a number, `90s`, `1h30m`, `250ms`, `2d`, or `[D-]HH:MM:SS` / `MM:SS`. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === "number") return value >= 0 ? value : undefined;
  const clock = /^(?:(\d+)-)?(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (clock) {
    const [, days, a, b, c] = clock;
    // SLURM reads `MM:SS` and `HH:MM:SS` (and `D-HH[:MM[:SS]]`).
    // With a day prefix, two fields are `D-HH:MM`; without, `MM:SS`.
    const [h, m, s] =
      c !== undefined ? [Number(a), Number(b), Number(c)] : days !== undefined ? [Number(a), Number(b), 0] : [0, Number(a), Number(b)];
    return Number(days ?? 0) * 86400 + h * 3600 + m * 60 + s;
  }
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === value.length && matched > 0 ? total : undefined;
}

/** Megabytes in a memory size: an integer (MB) or `512M`, `4G`, `4GiB`, `1T`. */
export function parseMemory(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([KkMmGgTt])(?:i?[Bb])?$/.exec(value);
  if (!m) return undefined;
  const factor: Record<string, number> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };
  return Math.ceil(Number(m[1]) * factor[m[2]!.toLowerCase()]!);
}
