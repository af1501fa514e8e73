/**
 * `--duration` values: `10s`, `500ms`, `2m`, `1.5s`, or a bare number of seconds (as wrk takes
 * `-d 10`). Pure.
 */

export type ParsedDuration =
  | { readonly kind: "duration"; readonly durationMs: number }
  | { readonly kind: "error"; readonly message: string };

/** One day: longer is a typo, not a benchmark. */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/** Whole milliseconds, at least 1, at most MAX_DURATION_MS. */
export function parseDuration(text: string): ParsedDuration {
  const match = DURATION.exec(text);
  if (match === null) {
    return {
      kind: "error",
      message: `expects a duration like 10s, 500ms or 2m, got "${text}"`,
    };
  }
  const [, amount = "", unit = "s"] = match;
  const durationMs = Math.round(Number(amount) * (UNIT_MS[unit] ?? 1000));
  if (durationMs < 1 || durationMs > MAX_DURATION_MS) {
    return {
      kind: "error",
      message: `must be between 1ms and 24h, got "${text}"`,
    };
  }
  return { kind: "duration", durationMs };
}

/** "10 s", "500 ms", "1.5 s": how a duration reads in a summary header. */
export function formatDuration(durationMs: number): string {
  if (durationMs < 1000) return `${Math.round(durationMs)} ms`;
  const seconds = durationMs / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(2)} s`;
}
