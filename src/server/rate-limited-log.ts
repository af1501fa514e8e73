/**
 * Logs a recurring condition at most once per interval, with a count of the occurrences it held
 * back, so a flood (an fd shortage, a connection storm) costs one line a second, not one a event.
 */
export const RATE_LIMITED_LOG_INTERVAL_MS = 1000;

export function createRateLimitedLog(
  write: (line: string) => void,
  intervalMs = RATE_LIMITED_LOG_INTERVAL_MS,
): (message: string, nowMs: number) => void {
  const lastByMessage = new Map<string, { atMs: number; suppressed: number }>();
  return (message, nowMs) => {
    const last = lastByMessage.get(message);
    if (last !== undefined && nowMs - last.atMs < intervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    write(suppressed === 0 ? message : `${message} (${suppressed} more since the last report)`);
    lastByMessage.set(message, { atMs: nowMs, suppressed: 0 });
  };
}
