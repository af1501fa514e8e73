import type { Stats } from "node:fs";

/**
 * A strong entity tag (RFC 9110 §8.8.3) from the file's identity, size and modification time:
 * inode, size and mtime in microseconds, hex. Any rewrite of the file changes its size or mtime,
 * and a replaced file changes its inode, so two representations never share a tag; computing it
 * costs no read of the content (hashing a 3 GB file before answering is what stalls `serve`).
 */
export function formatStrongEtag(stats: Stats): string {
  const mtimeMicros = Math.round(stats.mtimeMs * 1000);
  return `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${mtimeMicros.toString(16)}"`;
}

/** Last-Modified is only worth sending for a plausible date: a file stamped at the epoch
 * (reproducible builds) or in the future would cause false 304s (RFC 9110 §8.8.2.1). */
export function hasPlausibleMtime(stats: Stats, nowMs: number): boolean {
  return stats.mtimeMs > 0 && stats.mtimeMs <= nowMs;
}
