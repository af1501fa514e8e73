import { lookup } from "node:dns/promises";
import { isIP, type Server } from "node:net";
import { findListeningProcess } from "./port-owner.js";

/**
 * Where a server listens. Every berth server takes the same targets; TCP ones are resolved to
 * concrete addresses before listening (a name listens on all its addresses).
 */
export type ListenTarget =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export type BoundAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly family: 4 | 6 }
  | { readonly kind: "unix"; readonly path: string };

/** The default: loopback only, IPv4 and (where the machine has it) IPv6. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "::1"];

/** A one-line, user-facing start-up error (the CLI prints its message without a stack). */
export class ListenError extends Error {
  override readonly name = "ListenError";
}

/** Resolves a host name or literal to the addresses to bind. */
export async function resolveListenHosts(host: string): Promise<string[]> {
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) return [literal];
  try {
    const found = await lookup(literal, { all: true, verbatim: true });
    return [...new Set(found.map((entry) => entry.address))];
  } catch {
    throw new ListenError(`Cannot listen on ${host}: unknown host`);
  }
}

export function formatAddress(address: BoundAddress): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  return address.family === 6
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Listens on one target; resolves with the bound address or rejects with a ListenError. */
export function listenOn(server: Server, target: ListenTarget): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      const where =
        target.kind === "unix" ? `unix:${target.path}` : formatHostPort(target.host, target.port);
      reject(new ListenError(`Cannot listen on ${where}: ${describeListenError(error, target)}`));
    };
    const onListening = (): void => {
      server.off("error", onError);
      const address = server.address();
      if (address === null || typeof address === "string") {
        resolve({ kind: "unix", path: target.kind === "unix" ? target.path : String(address) });
        return;
      }
      resolve({
        kind: "tcp",
        host: address.address,
        port: address.port,
        family: address.family === "IPv6" ? 6 : 4,
      });
    };
    server.once("error", onError);
    server.once("listening", onListening);
    // Not exclusive: in a `serve --workers` worker (a node:cluster worker), the primary binds
    // each address once and every worker shares that socket. Elsewhere it changes nothing.
    if (target.kind === "unix") server.listen(target.path);
    else server.listen({ host: target.host, port: target.port });
  });
}

function describeListenError(error: NodeJS.ErrnoException, target: ListenTarget): string {
  switch (error.code) {
    case "EADDRINUSE": {
      if (target.kind === "unix") return "address already in use";
      // libuv sets SO_REUSEADDR on listening sockets, so a TIME_WAIT leftover never blocks a
      // bind: the port has a live listener.
      const owner = findListeningProcess(target.port);
      const who = owner === null ? "another process" : `process ${owner.pid} (${owner.name})`;
      return `address already in use: ${who} is listening there (not a TIME_WAIT leftover: berth sets SO_REUSEADDR); pick another port, or port 0 for any free one`;
    }
    default:
      return describeBindErrno(error);
  }
}

/** The words for a bind failure that TCP and UDP share (EADDRINUSE differs and is the caller's). */
export function describeBindErrno(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "EACCES":
    case "EPERM":
      return "permission denied (ports below 1024 need privileges; use a port of 1024 or more)";
    case "EADDRNOTAVAIL":
      return "address not available (no network interface on this machine has it)";
    case "EAFNOSUPPORT":
      return "address family not supported on this machine";
    default:
      return error.code ?? error.message;
  }
}

/** True for errors meaning "this machine has no such address family/address" — used to skip
 * ::1 quietly on hosts without IPv6 when listening on the default loopback pair. */
export function isAddressUnavailable(error: unknown): boolean {
  return error instanceof ListenError && /not available|not supported/.test(error.message);
}
