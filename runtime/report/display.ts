/**
 * An identity as a person reads it: its %-encoded bytes (contract/identity.ts)
 * decoded, so `s=my%20sample` shows as `s=my sample`. For display only: the
 * decoded text may hold anything an element's value held (`<`, quotes,
 * newlines), so whatever shows it must escape it (html.ts) or set it as text.
 */
export function displayIdentity(identity: string): string {
  if (!identity.includes("%")) return identity === "" ? "(no variables)" : identity;
  return identity.replace(/(?:%[0-9A-F]{2})+|%u[0-9A-F]{4}/g, (run) =>
    run.startsWith("%u")
      ? String.fromCharCode(parseInt(run.slice(2), 16))
      : Buffer.from(
          run
            .slice(1)
            .split("%")
            .map((h) => parseInt(h, 16)),
        ).toString("utf8"),
  );
}

/** Milliseconds as a person reads them: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")} min`;
}

/** KiB as a person reads them: `900 KiB`, `12.5 MiB`, `3.20 GiB`. */
export function kib(value: number): string {
  if (value < 1024) return `${Math.round(value)} KiB`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} MiB`;
  return `${(value / 1024 / 1024).toFixed(2)} GiB`;
}

/** A time as ISO 8601 UTC with milliseconds. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "?";
}
