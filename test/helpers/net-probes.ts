import assert from "node:assert/strict";
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

/**
 * Connects again and again until a new connection to 127.0.0.1:port is refused; returns the ms
 * elapsed since `sinceMs` (default: now), or fails once `withinMs` have passed since then.
 */
export async function waitUntilRefused(
  port: number,
  withinMs: number,
  sinceMs: number = performance.now(),
): Promise<number> {
  for (;;) {
    const outcome = await new Promise<string>((resolve) => {
      const probe = connect({ port, host: "127.0.0.1" });
      probe.once("connect", () => {
        probe.destroy();
        resolve("accepted");
      });
      probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    const elapsedMs = performance.now() - sinceMs;
    if (outcome === "ECONNREFUSED") return elapsedMs;
    if (elapsedMs > withinMs) {
      assert.fail(`new connections still ${outcome} ${Math.round(elapsedMs)} ms after the signal`);
    }
    await delay(10);
  }
}
