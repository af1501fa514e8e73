/**
 * HTTP-date formatting (RFC 9110 §5.6.7) and a per-second cache of the Date header value, so a
 * busy server formats the date once a second instead of once a request.
 */

/** IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Date#toUTCString produces exactly it. */
export function formatHttpDate(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Common Log Format time, "10/Oct/2000:13:55:36 +0000" (always UTC). */
export function formatLogDate(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Caches a formatted date per whole second of the clock it is given. */
export class SecondCache {
  private second = -1;
  private value = "";
  constructor(private readonly format: (epochMs: number) => string) {}

  at(nowMs: number): string {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.value = this.format(second * 1000);
    }
    return this.value;
  }
}
