/**
 * What `berth connect` connects to, how a name becomes addresses, and how a failure reads.
 * Parsing and formatting are pure; resolveConnectAddresses takes the resolver as a parameter.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { formatHostPort } from "../net/listen.js";
import type { ConnectAddress, HappyEyeballsResult } from "./happy-eyeballs.js";

/** `HOST PORT` (a name or an IP literal, IPv6 with or without brackets) or `unix:/PATH`. */
export type ConnectTarget =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export type ParsedConnectTarget =
  | { readonly kind: "target"; readonly target: ConnectTarget }
  | { readonly kind: "error"; readonly message: string };

export const CONNECT_TARGET_SYNTAX = "HOST PORT or unix:/PATH";

/** The positional arguments of `berth connect`. */
export function parseConnectTarget(positionals: readonly string[]): ParsedConnectTarget {
  const [first, second, ...rest] = positionals;
  if (first === undefined || rest.length > 0) {
    return { kind: "error", message: `expected ${CONNECT_TARGET_SYNTAX}` };
  }
  if (first.startsWith("unix:")) {
    const path = first.slice("unix:".length);
    if (second !== undefined) return { kind: "error", message: `${first} takes no PORT` };
    if (path.length === 0) return { kind: "error", message: "unix: needs a socket path" };
    if (path.includes("\0")) return { kind: "error", message: "the socket path holds a NUL byte" };
    return { kind: "target", target: { kind: "unix", path } };
  }
  if (second === undefined) {
    return { kind: "error", message: `expected ${CONNECT_TARGET_SYNTAX}, got no PORT` };
  }
  const host = first.startsWith("[") && first.endsWith("]") ? first.slice(1, -1) : first;
  if (host.length === 0) return { kind: "error", message: "the host is empty" };
  if (!/^\d{1,5}$/.test(second) || Number(second) < 1 || Number(second) > 65535) {
    return { kind: "error", message: `PORT must be a number from 1 to 65535, got "${second}"` };
  }
  return { kind: "target", target: { kind: "tcp", host, port: Number(second) } };
}

/** `example:80`, `[::1]:80` or `unix:/run/app.sock`: how messages name the target. */
export function formatConnectTarget(target: ConnectTarget): string {
  return target.kind === "unix" ? `unix:${target.path}` : formatHostPort(target.host, target.port);
}

export function formatConnectAddress(address: ConnectAddress): string {
  return address.kind === "unix"
    ? `unix:${address.path}`
    : formatHostPort(address.host, address.port);
}

/** The resolver's answer, as dns.lookup({ all: true }) gives it. */
export type LookupAll = (
  host: string,
) => Promise<readonly { readonly address: string; readonly family: number }[]>;

export const systemLookup: LookupAll = (host) => dnsLookup(host, { all: true, verbatim: true });

export type ResolveResult =
  | { readonly kind: "addresses"; readonly addresses: readonly ConnectAddress[] }
  | { readonly kind: "error"; readonly reason: string };

/** Every address of the target, in the resolver's order (verbatim), duplicates dropped. IP
 * literals and Unix paths need no resolver. */
export async function resolveConnectAddresses(
  target: ConnectTarget,
  lookup: LookupAll = systemLookup,
): Promise<ResolveResult> {
  if (target.kind === "unix") {
    return { kind: "addresses", addresses: [{ kind: "unix", path: target.path }] };
  }
  const literalFamily = isIP(target.host);
  if (literalFamily === 4 || literalFamily === 6) {
    const address: ConnectAddress = {
      kind: "tcp",
      host: target.host,
      port: target.port,
      family: literalFamily,
    };
    return { kind: "addresses", addresses: [address] };
  }
  let found: readonly { readonly address: string; readonly family: number }[];
  try {
    found = await lookup(target.host);
  } catch (error) {
    return { kind: "error", reason: describeResolveError(error) };
  }
  const seen = new Set<string>();
  const addresses: ConnectAddress[] = [];
  for (const entry of found) {
    if (seen.has(entry.address)) continue;
    seen.add(entry.address);
    const family = entry.family === 6 ? 6 : 4;
    addresses.push({ kind: "tcp", host: entry.address, port: target.port, family });
  }
  if (addresses.length === 0) return { kind: "error", reason: "unknown host" };
  return { kind: "addresses", addresses };
}

function describeResolveError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOTFOUND":
    case "ENODATA":
      return "unknown host";
    case "EAI_AGAIN":
      return "name resolution failed for now (EAI_AGAIN: try again)";
    default:
      return `name resolution failed (${code ?? String(error)})`;
  }
}

/** A socket error code in words, for one-line messages. */
export function describeSocketError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
      return "connection reset by peer";
    case "EPIPE":
      return "connection closed by peer while sending (broken pipe)";
    case "ETIMEDOUT":
      return "timed out";
    case "EHOSTUNREACH":
      return "host unreachable";
    case "ENETUNREACH":
      return "network unreachable";
    case "EADDRNOTAVAIL":
      return "address not available";
    case "EAFNOSUPPORT":
      return "address family not supported on this machine";
    case "ENOENT":
      return "no such socket file";
    case "ENOTSOCK":
      return "not a socket";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EMSGSIZE":
      return "message too long for one datagram";
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** The reason part of `Cannot connect to T: REASON` for a race that did not connect.
 * Addresses that failed for the same reason are grouped: `connection refused (tried A, B)`. */
export function formatRaceFailure(
  target: ConnectTarget,
  result: Exclude<HappyEyeballsResult<unknown>, { kind: "connected" }>,
): string {
  if (result.kind === "timed-out") {
    return `timed out after ${result.timeoutMs} ms${formatTried(target, result.tried)}`;
  }
  const groups = new Map<string, ConnectAddress[]>();
  for (const failure of result.failures) {
    const reason = describeSocketError(failure.error);
    const group = groups.get(reason);
    if (group === undefined) groups.set(reason, [failure.address]);
    else group.push(failure.address);
  }
  return [...groups]
    .map(([reason, addresses]) => `${reason}${formatTried(target, addresses)}`)
    .join("; ");
}

/** ` (tried A, B)`, or nothing when the one address tried is what the user typed. */
function formatTried(target: ConnectTarget, addresses: readonly ConnectAddress[]): string {
  const [only, ...more] = addresses;
  if (only === undefined) return "";
  const typed = formatConnectTarget(target);
  if (more.length === 0 && formatConnectAddress(only) === typed) return "";
  return ` (tried ${addresses.map(formatConnectAddress).join(", ")})`;
}
