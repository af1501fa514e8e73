import { rmSync } from "node:fs";
import type { Server } from "node:net";
import {
  type BoundAddress,
  isAddressUnavailable,
  ListenError,
  type ListenTarget,
  listenOn,
  resolveListenHosts,
} from "./listen.js";
import type { ListenSpec } from "./listen-target.js";
import { prepareUnixSocketPath, setUnixSocketMode } from "./unix-socket.js";

/**
 * Binds every --listen spec of a stream server (serve, echo, chat), one net.Server per address,
 * so each tool listens the same way: names on all their addresses sharing one port, Unix sockets
 * prepared safely, everything undone if any bind fails.
 */
export interface BoundListeners {
  readonly servers: readonly Server[];
  readonly addresses: readonly BoundAddress[];
  /** Stops accepting on every listener and removes the Unix socket files we created. */
  close(): void;
}

export interface BindOptions {
  /** Makes one server per address; the caller has wired its connection handler. */
  readonly createServer: () => Server;
  /** Permission bits for Unix socket files. */
  readonly socketMode?: number;
  /** Quietly skip addresses the machine lacks (the default loopback pair's ::1), as long as
   * another address of the same spec was bound. */
  readonly skipUnavailable?: boolean;
  /** --workers: the listeners are shared with an earlier worker (node:cluster hands out the same
   * sockets), so Unix socket paths are neither prepared (the first worker's live socket would
   * look taken) nor removed here. */
  readonly shared?: boolean;
  /** Errors a listener reports after start-up (EMFILE/ENFILE on accept): never left unhandled. */
  readonly onListenerError: (error: NodeJS.ErrnoException) => void;
}

export async function bindListeners(
  specs: readonly ListenSpec[],
  options: BindOptions,
): Promise<BoundListeners> {
  const servers: Server[] = [];
  const addresses: BoundAddress[] = [];
  const unixPaths: string[] = [];
  const close = (): void => {
    for (const server of servers.splice(0)) server.close();
    // Our socket files go with the listeners (a later run would find them stale anyway).
    for (const path of unixPaths.splice(0)) rmSync(path, { force: true });
  };
  const bindOne = async (target: ListenTarget): Promise<BoundAddress> => {
    const server = options.createServer();
    const bound = await listenOn(server, target);
    server.on("error", options.onListenerError);
    servers.push(server);
    return bound;
  };
  try {
    for (const spec of specs) {
      if (spec.kind === "unix") {
        if (options.shared !== true) await prepareUnixSocketPath(spec.path);
        addresses.push(await bindOne({ kind: "unix", path: spec.path }));
        if (options.shared !== true) unixPaths.push(spec.path);
        if (options.socketMode !== undefined)
          await setUnixSocketMode(spec.path, options.socketMode);
      } else {
        addresses.push(...(await bindTcpGroup(spec.hosts, spec.port, options, bindOne, servers)));
      }
    }
    if (addresses.length === 0) throw new ListenError("Cannot listen: no address to bind");
  } catch (error) {
    close();
    throw error;
  }
  return { servers, addresses, close };
}

/** Binds every address of the hosts on one port. With port 0 the first bind picks the port and
 * the others reuse it; another process may hold that port on a second address, so a few fresh
 * picks are tried. */
async function bindTcpGroup(
  hosts: readonly string[],
  port: number,
  options: BindOptions,
  bindOne: (target: ListenTarget) => Promise<BoundAddress>,
  servers: Server[],
): Promise<BoundAddress[]> {
  const hostAddresses: string[] = [];
  for (const host of hosts) hostAddresses.push(...(await resolveListenHosts(host)));
  const attempts = port === 0 && hostAddresses.length > 1 ? 5 : 1;
  for (let attempt = 1; ; attempt++) {
    const bound: BoundAddress[] = [];
    const serversBefore = servers.length;
    try {
      let boundPort = port;
      for (const host of hostAddresses) {
        try {
          const address = await bindOne({ kind: "tcp", host, port: boundPort });
          bound.push(address);
          if (address.kind === "tcp") boundPort = address.port;
        } catch (error) {
          if (options.skipUnavailable === true && isAddressUnavailable(error) && bound.length > 0) {
            continue;
          }
          throw error;
        }
      }
      return bound;
    } catch (error) {
      // Undo this group's binds only, then try a fresh port (or give up).
      for (const server of servers.splice(serversBefore)) server.close();
      if (attempt >= attempts || !(error instanceof ListenError)) throw error;
    }
  }
}
