import { performance } from "node:perf_hooks";

/** What a watched child process offers a bounded wait (test-only). */
export interface Watched {
  /** Re-run on every output chunk and on exit. */
  readonly watchers: Set<() => void>;
  hasEnded(): boolean;
  describe(): string;
}

/**
 * Resolves with check()'s first defined result. Rejects on timeout, and, unless `untilExit`,
 * as soon as the process has ended without check() succeeding; both errors show its output.
 */
export function waitForCheck<T>(
  watched: Watched,
  what: string,
  timeoutMs: number,
  check: () => T | undefined,
  untilExit = false,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const settle = (outcome: { value: T } | { error: Error }): void => {
      clearTimeout(timer);
      watched.watchers.delete(watcher);
      if ("value" in outcome) resolve(outcome.value);
      else reject(outcome.error);
    };
    const watcher = (): void => {
      const value = check();
      if (value !== undefined) settle({ value });
      else if (!untilExit && watched.hasEnded()) {
        settle({ error: new Error(`ended before ${what}: ${watched.describe()}`) });
      }
    };
    const timer = setTimeout(() => {
      const elapsedMs = Math.round(performance.now() - startMs);
      settle({
        error: new Error(
          `timed out after ${elapsedMs} ms waiting for ${what}: ${watched.describe()}`,
        ),
      });
    }, timeoutMs);
    watched.watchers.add(watcher);
    watcher();
  });
}
