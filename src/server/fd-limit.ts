import { readFileSync } from "node:fs";

/** Descriptors one connection can hold: its socket and the file it streams (sidecar probes and
 * index lookups hold more only for an instant). */
export const FDS_PER_CONNECTION = 2;

/** Descriptors kept for everything else: stdio, listeners, logs, libuv's own (epoll, eventfd,
 * signal pipes), up to a quarter of a small limit. */
const RESERVED_FDS = 64;

/** Used when the limit cannot be read (not Linux): a conservative default. */
const FALLBACK_MAX_CONNECTIONS = 1024;

/** The soft RLIMIT_NOFILE of this process from /proc/self/limits, or null when unavailable
 * (Node has no getrlimit). */
export function readOpenFileLimit(): number | null {
  try {
    const limits = readFileSync("/proc/self/limits", "latin1");
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
    if (match === null || match[1] === undefined) return null;
    return match[1] === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(match[1]);
  } catch {
    return null;
  }
}

/** Default --max-connections: as many connections as the descriptor limit can hold with each
 * streaming a file, so berth refuses politely before the kernel refuses it. */
export function defaultMaxConnections(openFileLimit = readOpenFileLimit()): number {
  if (openFileLimit === null) return FALLBACK_MAX_CONNECTIONS;
  const reserved = Math.min(RESERVED_FDS, Math.floor(openFileLimit / 4));
  return Math.max(1, Math.floor((openFileLimit - reserved) / FDS_PER_CONNECTION));
}
