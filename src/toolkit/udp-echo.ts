/**
 * `berth echo --udp`: every datagram goes back to its sender unchanged, one datagram for one
 * (never merged or split), empty ones included. One node:dgram socket per bound address, udp4 or
 * udp6 by the address's family; the --listen syntax is the stream servers', minus unix:/ (node:dgram
 * has no Unix datagram sockets).
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIP } from "node:net";
import {
  type BoundAddress,
  describeBindErrno,
  formatHostPort,
  isAddressUnavailable,
  ListenError,
  resolveListenHosts,
} from "../net/listen.js";
import type { ListenSpec } from "../net/listen-target.js";
import type { Tracer } from "../net/trace.js";
import type { Logger } from "../server/connection.js";
import { createRateLimitedLog } from "../server/rate-limited-log.js";
import type { EchoClientSnapshot, EchoServer } from "./echo-server.js";

/** Datagrams handed to the kernel and not yet sent, across all sockets. UDP may drop; past this
 * berth drops too (and says so once a second) rather than queue without bound for a sender
 * flooding faster than replies leave. 256 × 64 KiB bounds the queue at 16 MiB. */
export const MAX_UDP_SENDS_IN_FLIGHT = 256;

/** With port 0 and several addresses, fresh ports tried when another process holds the picked
 * port on a later address (as for TCP). */
const PORT_PICK_ATTEMPTS = 5;

export interface UdpEchoOptions {
  readonly specs: readonly ListenSpec[];
  /** Quietly skip addresses the machine lacks (the default pair's ::1) if another one bound. */
  readonly skipUnavailable: boolean;
  /** error: rate-limited send failures and drops; access is not used (no line per datagram). */
  readonly log: Logger;
  readonly nowMs: () => number;
  /** --trace: a line per datagram received and sent, all as #0 (UDP has no connections). */
  readonly trace?: Tracer;
}

export function createUdpEchoServer(options: UdpEchoOptions): EchoServer {
  return new UdpEchoServer(options);
}

/** The message for a unix:/ spec given to UDP; the CLI reports it as a usage error. */
export function formatUdpUnixError(path: string): string {
  return `Cannot listen on unix:${path} with --udp: UDP needs HOST:PORT, [IPV6]:PORT or PORT (node:dgram has no Unix datagram sockets)`;
}

class UdpEchoServer implements EchoServer {
  readonly transport = "udp";
  addresses: BoundAddress[] = [];
  private readonly sockets: Socket[] = [];
  private sendsInFlight = 0;
  private readonly reportRecurring: (message: string, nowMs: number) => void;

  constructor(private readonly options: UdpEchoOptions) {
    this.reportRecurring = createRateLimitedLog(options.log.error);
  }

  async listen(): Promise<BoundAddress[]> {
    const addresses: BoundAddress[] = [];
    try {
      for (const spec of this.options.specs) {
        if (spec.kind === "unix") throw new ListenError(formatUdpUnixError(spec.path));
        addresses.push(...(await this.bindGroup(spec.hosts, spec.port)));
      }
      if (addresses.length === 0) throw new ListenError("Cannot listen: no address to bind");
    } catch (error) {
      await this.closeSockets(0);
      throw error;
    }
    this.addresses = addresses;
    return addresses;
  }

  clients(): EchoClientSnapshot[] {
    return [];
  }

  async close(): Promise<void> {
    await this.closeSockets(0);
  }

  /** Every address of the hosts on one port; with port 0 the first bind picks it. */
  private async bindGroup(hosts: readonly string[], port: number): Promise<BoundAddress[]> {
    const hostAddresses: string[] = [];
    for (const host of hosts) hostAddresses.push(...(await resolveListenHosts(host)));
    const attempts = port === 0 && hostAddresses.length > 1 ? PORT_PICK_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      const socketsBefore = this.sockets.length;
      const bound: BoundAddress[] = [];
      try {
        let boundPort = port;
        for (const host of hostAddresses) {
          try {
            const address = await this.bindOne(host, boundPort);
            bound.push(address);
            if (address.kind === "tcp") boundPort = address.port;
          } catch (error) {
            if (this.options.skipUnavailable && isAddressUnavailable(error) && bound.length > 0) {
              continue;
            }
            throw error;
          }
        }
        return bound;
      } catch (error) {
        await this.closeSockets(socketsBefore);
        if (attempt >= attempts || !(error instanceof ListenError)) throw error;
      }
    }
  }

  private bindOne(host: string, port: number): Promise<BoundAddress> {
    const family = isIP(host) === 6 ? 6 : 4;
    const socket = createSocket({ type: family === 6 ? "udp6" : "udp4" });
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        socket.off("listening", onListening);
        closeQuietly(socket);
        const where = `udp ${formatHostPort(host, port)}`;
        reject(new ListenError(`Cannot listen on ${where}: ${describeBindError(error)}`));
      };
      const onListening = (): void => {
        socket.off("error", onError);
        socket.on("message", (message, sender) => this.echo(socket, message, sender));
        // Errors after binding (a failed receive) are logged; the socket keeps serving.
        socket.on("error", (error: NodeJS.ErrnoException) =>
          this.reportRecurring(`udp socket error: ${error.code ?? error.message}`, this.now()),
        );
        this.sockets.push(socket);
        const bound = socket.address();
        resolve({ kind: "tcp", host: bound.address, port: bound.port, family });
      };
      socket.once("error", onError);
      socket.once("listening", onListening);
      socket.bind({ address: host, port, exclusive: true });
    });
  }

  private echo(socket: Socket, message: Buffer, sender: RemoteInfo): void {
    const { trace } = this.options;
    const peer = trace === undefined ? "" : formatHostPort(sender.address, sender.port);
    trace?.(0, `datagram from ${peer} ${message.length} B`);
    if (this.sendsInFlight >= MAX_UDP_SENDS_IN_FLIGHT) {
      trace?.(0, `datagram to ${peer} dropped (${MAX_UDP_SENDS_IN_FLIGHT} replies in flight)`);
      this.reportRecurring(
        `udp: ${MAX_UDP_SENDS_IN_FLIGHT} replies waiting to be sent: dropping datagrams`,
        this.now(),
      );
      return;
    }
    this.sendsInFlight++;
    socket.send(message, sender.port, sender.address, (error) => {
      this.sendsInFlight--;
      // A sender that is gone is its own business; the reply is lost as UDP allows.
      if (error !== null) {
        const code = (error as NodeJS.ErrnoException).code ?? error.message;
        trace?.(0, `datagram to ${peer} ${message.length} B failed: ${code}`);
        this.reportRecurring(`udp: a reply could not be sent (${code})`, this.now());
      } else {
        trace?.(0, `datagram to ${peer} ${message.length} B`);
      }
    });
  }

  private now(): number {
    return this.options.nowMs();
  }

  /** Closes the sockets from index `from` on; resolves when they are closed. */
  private async closeSockets(from: number): Promise<void> {
    const closing = this.sockets.splice(from);
    await Promise.all(
      closing.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
    );
  }
}

function describeBindError(error: NodeJS.ErrnoException): string {
  return error.code === "EADDRINUSE"
    ? "address already in use (another socket has this UDP port)"
    : describeBindErrno(error);
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // Already closed: nothing to release.
  }
}
