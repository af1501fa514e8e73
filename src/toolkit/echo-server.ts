/**
 * `berth echo` as an API: an echo server over TCP and Unix stream sockets (this file) or UDP
 * (udp-echo.ts), for testing clients, proxies, tunnels and firewalls.
 *
 * Three framings decide what is echoed and when:
 *   raw     every byte read is written back as it arrives;
 *   line    whole lines (LF or CRLF), written back with the terminator received;
 *   length  whole frames (4-byte big-endian length, 1-byte type, payload), same type back.
 *
 * The framing itself is a pure step function (createEchoFramer: bytes in, buffers to write out),
 * so every chunking can be tested without a socket (STYLE.md rules 1 and 9). The socket side is
 * one state machine per client (EchoClient) that owns backpressure: when a client does not read
 * its echo, berth stops reading from it until the socket drains, so the memory one client can pin
 * is bounded by the socket's high-water mark plus one read, never by what the client sends.
 */
import { createServer, type Server, type Socket } from "node:net";
import { type BoundListeners, bindListeners } from "../net/bind-listeners.js";
import { encodeFrameHeader, FRAME_HEADER_BYTES, FrameDecoder } from "../net/frame-codec.js";
import { LineSplitter } from "../net/line-splitter.js";
import { type BoundAddress, formatHostPort, LOOPBACK_HOSTS } from "../net/listen.js";
import type { ListenSpec } from "../net/listen-target.js";
import type { Tracer } from "../net/trace.js";
import type { Logger } from "../server/connection.js";
import { readOpenFileLimit } from "../server/fd-limit.js";
import { createStreamLogger } from "../server/log.js";
import { createRateLimitedLog } from "../server/rate-limited-log.js";
import { createUdpEchoServer } from "./udp-echo.js";

export { DEFAULT_MAX_FRAME_BYTES } from "../net/frame-codec.js";
export { DEFAULT_MAX_LINE_BYTES } from "../net/line-splitter.js";

export type EchoFraming = "raw" | "line" | "length";
export const ECHO_FRAMINGS: readonly EchoFraming[] = ["raw", "line", "length"];

/** "tcp" covers every stream socket, Unix ones included; "udp" echoes datagrams. */
export type EchoTransport = "tcp" | "udp";

/** The default port: 7 is the echo service (RFC 862), which needs privileges; 7007 does not. */
export const DEFAULT_ECHO_PORT = 7007;

/** On close(), clients get a FIN at once; one that neither reads its last echo nor closes within
 * this is destroyed, so shutdown always ends. */
export const DEFAULT_ECHO_GRACE_MS = 2000;

/** After a limit is crossed, berth sends its FIN and keeps reading (and dropping) input this long,
 * so the client reads the error line and the echoes before it instead of a TCP reset. */
export const REJECT_LINGER_MS = 2000;

/** Descriptors kept for everything but clients (stdio, listeners, libuv's own), at most a quarter
 * of a small limit: as serve does, so berth refuses politely before the kernel refuses it. */
const RESERVED_FDS = 64;
/** Used when the open-file limit cannot be read (not Linux). */
const FALLBACK_MAX_CLIENTS = 1024;

/** Default --max-clients: one descriptor per client, from the process's open-file limit. */
export function defaultMaxClients(openFileLimit = readOpenFileLimit()): number {
  if (openFileLimit === null) return FALLBACK_MAX_CLIENTS;
  const reserved = Math.min(RESERVED_FDS, Math.floor(openFileLimit / 4));
  return Math.max(1, openFileLimit - reserved);
}

// ---------------------------------------------------------------------------------------------
// Framing: pure

/** Why a client is closed by its framing: a limit crossed or, at EOF, a frame cut short. */
export type EchoRejection =
  | { readonly code: "LINE_TOO_LONG"; readonly maxLineBytes: number }
  | {
      readonly code: "FRAME_TOO_LARGE";
      readonly declaredBytes: number;
      readonly maxFrameBytes: number;
    }
  | { readonly code: "TRUNCATED_FRAME"; readonly pendingBytes: number };

/** What to write back for some input, in order; "reject" means: write it, then close. */
export type EchoStep =
  | { readonly kind: "echo"; readonly output: readonly Buffer[] }
  | {
      readonly kind: "reject";
      readonly output: readonly Buffer[];
      readonly rejection: EchoRejection;
    };

export interface EchoFramer {
  /** Takes a chunk (read, not copied: do not modify it afterwards) and says what to echo. After a
   * rejection, input is dropped and nothing more is echoed. */
  push(chunk: Buffer): EchoStep;
  /** End of input: the unterminated last line (line framing) or a truncated-frame rejection. */
  end(): EchoStep;
  /** Input held until its line or frame completes. */
  readonly pendingBytes: number;
}

export interface EchoFramerLimits {
  readonly maxLineBytes?: number;
  readonly maxFrameBytes?: number;
}

const NOTHING: EchoStep = Object.freeze({ kind: "echo", output: Object.freeze([]) });
const LF_BYTES = Buffer.from("\n", "latin1");
const CRLF_BYTES = Buffer.from("\r\n", "latin1");

/** The one line a client gets before it is closed for an over-long line. */
export function formatLineTooLong(maxLineBytes: number): string {
  return `error: line too long (max ${maxLineBytes} bytes)\n`;
}

/** Told of each message the framing completes, as "line N B" (terminator excluded) or
 * "frame type T, N B" (payload bytes): for --trace. */
export type EchoMessageListener = (description: string) => void;

export function createEchoFramer(
  framing: EchoFraming,
  limits: EchoFramerLimits = {},
  onMessage?: EchoMessageListener,
): EchoFramer {
  switch (framing) {
    case "raw":
      return new RawFramer();
    case "line":
      return new LineFramer(limits.maxLineBytes, onMessage);
    case "length":
      return new LengthFramer(limits.maxFrameBytes, onMessage);
  }
}

class RawFramer implements EchoFramer {
  readonly pendingBytes = 0;
  push(chunk: Buffer): EchoStep {
    return { kind: "echo", output: [chunk] };
  }
  end(): EchoStep {
    return NOTHING;
  }
}

class LineFramer implements EchoFramer {
  private readonly splitter: LineSplitter;
  private rejected = false;

  constructor(
    maxLineBytes: number | undefined,
    private readonly onMessage: EchoMessageListener | undefined,
  ) {
    this.splitter = new LineSplitter(maxLineBytes === undefined ? {} : { maxLineBytes });
  }

  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  push(chunk: Buffer): EchoStep {
    if (this.rejected) return NOTHING;
    this.splitter.push(chunk);
    return this.drain(false);
  }

  end(): EchoStep {
    if (this.rejected) return NOTHING;
    return this.drain(true);
  }

  private drain(atEnd: boolean): EchoStep {
    const output: Buffer[] = [];
    for (let result = atEnd ? this.splitter.end() : this.splitter.next(); ; ) {
      switch (result.kind) {
        case "need-more":
          return { kind: "echo", output };
        case "line":
          this.onMessage?.(`line ${result.line.length} B`);
          if (result.line.length > 0) output.push(result.line);
          // The terminator as received; an unterminated last line (at EOF) goes back as it was.
          if (result.ending === "lf") output.push(LF_BYTES);
          else if (result.ending === "crlf") output.push(CRLF_BYTES);
          break;
        case "error": {
          this.rejected = true;
          const { maxLineBytes } = this.splitter;
          output.push(Buffer.from(formatLineTooLong(maxLineBytes), "latin1"));
          return { kind: "reject", output, rejection: { code: "LINE_TOO_LONG", maxLineBytes } };
        }
      }
      result = this.splitter.next();
    }
  }
}

class LengthFramer implements EchoFramer {
  private readonly decoder: FrameDecoder;
  private pushedBytes = 0;
  private echoedBytes = 0;
  private rejected = false;

  constructor(
    maxFrameBytes: number | undefined,
    private readonly onMessage: EchoMessageListener | undefined,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes });
  }

  get pendingBytes(): number {
    return this.rejected ? 0 : this.pushedBytes - this.echoedBytes;
  }

  push(chunk: Buffer): EchoStep {
    if (this.rejected) return NOTHING;
    this.pushedBytes += chunk.length;
    this.decoder.push(chunk);
    const output: Buffer[] = [];
    for (;;) {
      const result = this.decoder.next();
      switch (result.kind) {
        case "need-more":
          return { kind: "echo", output };
        case "frame": {
          const { type, payload } = result.frame;
          this.onMessage?.(`frame type ${type}, ${payload.length} B`);
          output.push(encodeFrameHeader(type, payload.length));
          if (payload.length > 0) output.push(payload);
          this.echoedBytes += FRAME_HEADER_BYTES + payload.length;
          break;
        }
        case "error": {
          this.rejected = true;
          const { maxFrameBytes } = this.decoder;
          const { declaredBytes } = result;
          return {
            kind: "reject",
            output,
            rejection: { code: "FRAME_TOO_LARGE", declaredBytes, maxFrameBytes },
          };
        }
      }
    }
  }

  end(): EchoStep {
    if (this.rejected || this.decoder.isIdle) return NOTHING;
    this.rejected = true;
    const pendingBytes = this.pushedBytes - this.echoedBytes;
    return { kind: "reject", output: [], rejection: { code: "TRUNCATED_FRAME", pendingBytes } };
  }
}

/** The log text for a rejection (stderr: a peer's mistake, as serve logs its 4xx). */
export function describeRejection(rejection: EchoRejection): string {
  switch (rejection.code) {
    case "LINE_TOO_LONG":
      return `line too long (max ${rejection.maxLineBytes} bytes): error line sent, closing`;
    case "FRAME_TOO_LARGE":
      return `frame too large (declares ${rejection.declaredBytes} bytes, max ${rejection.maxFrameBytes}): closing before its payload`;
    case "TRUNCATED_FRAME":
      return `ended mid-frame (${rejection.pendingBytes} bytes of an incomplete frame dropped)`;
  }
}

// ---------------------------------------------------------------------------------------------
// The server

export interface EchoServerOptions {
  /** Where to listen; default port 7007 on 127.0.0.1 and ::1 (::1 skipped if the machine has no
   * IPv6). */
  readonly listen?: readonly ListenSpec[];
  /** Default "tcp" (stream sockets, Unix ones included). "udp" takes TCP-form specs only. */
  readonly transport?: EchoTransport;
  /** Stream framing; default "raw". Not used by UDP, which echoes each datagram whole. */
  readonly framing?: EchoFraming;
  /** Longest line without its terminator (line framing); default 64 KiB. */
  readonly maxLineBytes?: number;
  /** Largest frame payload (length framing); default 16 MiB. */
  readonly maxFrameBytes?: number;
  /** Stream clients served at once; more are closed at once. Default: defaultMaxClients(). */
  readonly maxClients?: number;
  /** Permission bits for Unix socket files, e.g. 0o660. */
  readonly socketMode?: number;
  /** How long close() lets clients take their last echo before destroying them. */
  readonly graceMs?: number;
  /** access: connection open/close lines (resets included); error: peer mistakes and our own
   * trouble. Default: access dropped, errors to stderr. */
  readonly log?: Logger;
  /** The clock for rate-limited log lines; default Date.now. */
  readonly nowMs?: () => number;
  /** --trace: a line per socket event (per datagram for UDP). Absent: no trace work at all. */
  readonly trace?: Tracer;
}

export interface EchoServer {
  readonly transport: EchoTransport;
  /** Binds every address; resolves with what was bound, or rejects with a ListenError. */
  listen(): Promise<BoundAddress[]>;
  /** Stops listening, sends every client a FIN and resolves once all are closed (destroying
   * those still open after the grace period). */
  close(): Promise<void>;
  readonly addresses: readonly BoundAddress[];
  /** Stream clients connected now (always empty for UDP). */
  clients(): EchoClientSnapshot[];
}

export function createEchoServer(options: EchoServerOptions = {}): EchoServer {
  const specs = options.listen ?? [
    { kind: "tcp", hosts: LOOPBACK_HOSTS, port: DEFAULT_ECHO_PORT } as const,
  ];
  const log = options.log ?? createStreamLogger(null, process.stderr);
  const nowMs = options.nowMs ?? Date.now;
  // Without any explicit address, the default pair includes ::1: a machine without IPv6 echoes
  // on 127.0.0.1 alone.
  const skipUnavailable = options.listen === undefined;
  if (options.transport === "udp") {
    return createUdpEchoServer({
      specs,
      skipUnavailable,
      log,
      nowMs,
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    });
  }
  return new StreamEchoServer(options, specs, skipUnavailable, log, nowMs);
}

export type EchoClientState = "echoing" | "waiting-drain" | "closing" | "closed";

export interface EchoClientSnapshot {
  readonly id: number;
  /** "127.0.0.1:50312", "[::1]:50312" or "unix:/path". */
  readonly peer: string;
  readonly state: EchoClientState;
  readonly bytesIn: number;
  readonly bytesEchoed: number;
  /** Bytes berth holds for this client in user space: echo not yet sent, input not yet read or
   * framed. The backpressure bound applies to this. */
  readonly bufferedBytes: number;
}

interface ClientEnvironment {
  readonly log: Logger;
  readonly trace: Tracer | undefined;
  onClosed(client: EchoClient): void;
}

class StreamEchoServer implements EchoServer {
  readonly transport = "tcp";
  addresses: BoundAddress[] = [];
  private bound: BoundListeners | null = null;
  private readonly connected = new Set<EchoClient>();
  private nextId = 1;
  private shuttingDown = false;
  private closing: Promise<void> | null = null;
  private onAllClosed: (() => void) | null = null;
  private readonly maxClients: number;
  private readonly reportRecurring: (message: string, nowMs: number) => void;
  private readonly env: ClientEnvironment;

  constructor(
    private readonly options: EchoServerOptions,
    private readonly specs: readonly ListenSpec[],
    private readonly skipUnavailable: boolean,
    log: Logger,
    private readonly nowMs: () => number,
  ) {
    this.maxClients = options.maxClients ?? defaultMaxClients();
    this.reportRecurring = createRateLimitedLog(log.error);
    this.env = { log, trace: options.trace, onClosed: (client) => this.forget(client) };
  }

  async listen(): Promise<BoundAddress[]> {
    // Check the limits now, not on the first client: a bad value is the caller's bug.
    createEchoFramer(this.options.framing ?? "raw", this.framerLimits());
    this.bound = await bindListeners(this.specs, {
      createServer: () => {
        const server = createServer({ allowHalfOpen: true });
        server.on("connection", (socket: Socket) => this.accept(socket, server));
        return server;
      },
      ...(this.options.socketMode === undefined ? {} : { socketMode: this.options.socketMode }),
      skipUnavailable: this.skipUnavailable,
      // EMFILE/ENFILE on accept: log at most once a second, keep serving, never crash.
      onListenerError: (error) =>
        this.reportRecurring(`accept failed: ${error.code ?? error.message}`, this.nowMs()),
    });
    this.addresses = [...this.bound.addresses];
    return this.addresses;
  }

  clients(): EchoClientSnapshot[] {
    return [...this.connected].map((client) => client.snapshot());
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.shuttingDown = true;
    this.bound?.close();
    this.bound = null;
    this.closing = new Promise<void>((resolve) => {
      this.onAllClosed = resolve;
      const graceMs = this.options.graceMs ?? DEFAULT_ECHO_GRACE_MS;
      for (const client of [...this.connected]) client.shutdown(graceMs);
      if (this.connected.size === 0) resolve();
    });
    return this.closing;
  }

  private framerLimits(): EchoFramerLimits {
    const { maxLineBytes, maxFrameBytes } = this.options;
    return {
      ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
    };
  }

  private accept(socket: Socket, server: Server): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    if (this.connected.size >= this.maxClients) {
      this.rejectBusy(socket, server);
      return;
    }
    const id = this.nextId++;
    const { trace } = this.env;
    const framer = createEchoFramer(
      this.options.framing ?? "raw",
      this.framerLimits(),
      trace === undefined ? undefined : (description) => trace(id, description),
    );
    const peer = describePeer(socket, server);
    this.connected.add(new EchoClient(id, peer, socket, framer, this.env));
  }

  /** Past --max-clients: close at once (line framing says why); existing clients are unaffected. */
  private rejectBusy(socket: Socket, server: Server): void {
    const { trace } = this.env;
    if (trace !== undefined) {
      // Numbered apart from clients (#0): the ids of clients do not depend on --trace.
      trace(0, `accepted from ${describePeer(socket, server)}`);
      trace(0, `closing: too many clients (max ${this.maxClients}) (FIN sent, lingering)`);
      socket.on("close", () => trace(0, "closed (too many clients)"));
    }
    this.reportRecurring(
      `max clients (${this.maxClients}) reached: new connections closed`,
      this.nowMs(),
    );
    socket.on("error", ignoreError);
    socket.resume(); // drop whatever it sends
    const reason = `error: too many clients (max ${this.maxClients})\n`;
    if (this.options.framing === "line") socket.end(reason);
    else socket.end();
    setTimeout(() => socket.destroy(), REJECT_LINGER_MS).unref();
  }

  private forget(client: EchoClient): void {
    this.connected.delete(client);
    if (this.connected.size === 0 && this.onAllClosed !== null) this.onAllClosed();
  }
}

/**
 * One stream client, as an explicit state machine (STYLE.md rule 4):
 *
 *   echoing ──write buffer full──▶ waiting-drain ──drain──▶ echoing
 *      │                                │
 *      └── peer EOF, limit, close() ────┴──▶ closing ──socket closed──▶ closed
 *
 * echoing:       reading; every step of the framer is written back.
 * waiting-drain: the client is not reading its echo fast enough: reading is paused until the
 *                socket's buffer drains, so berth never buffers more than about one read on top
 *                of the high-water mark, whatever the client sends.
 * closing:       our FIN is sent (after the last echo); input is read and dropped. After a
 *                rejection or close() a timer destroys the socket if the peer does not finish;
 *                after the peer's own EOF, the socket closes once the last echo is sent.
 * closed:        the socket is gone; the close line is logged.
 *
 * Socket errors (a reset, EPIPE mid-write) are the peer's doing: they end the connection and are
 * noted in its close line, never raised.
 */
class EchoClient {
  private state: EchoClientState = "echoing";
  private bytesIn = 0;
  private bytesEchoed = 0;
  private errorCode: string | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Why our side closed, for --trace ("peer FIN", "line too long", "shutdown"…). */
  private closeReason: string | null = null;

  constructor(
    readonly id: number,
    private readonly peer: string,
    private readonly socket: Socket,
    private readonly framer: EchoFramer,
    private readonly env: ClientEnvironment,
  ) {
    // Echoes are small and interactive: no Nagle delay. Writes of one read are corked together.
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onPeerEnd());
    socket.on("drain", () => this.onDrain());
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.errorCode ??= error.code ?? error.message;
      this.env.trace?.(this.id, `socket error ${error.code ?? error.message}`);
    });
    socket.on("close", () => this.onClose());
    env.log.access(`#${id} ${this.peer} open`);
    env.trace?.(id, `accepted from ${this.peer}`);
  }

  snapshot(): EchoClientSnapshot {
    const { socket } = this;
    return {
      id: this.id,
      peer: this.peer,
      state: this.state,
      bytesIn: this.bytesIn,
      bytesEchoed: this.bytesEchoed,
      bufferedBytes: socket.writableLength + socket.readableLength + this.framer.pendingBytes,
    };
  }

  /** close(): FIN after the echoes already queued, then destroy after graceMs at the latest. */
  shutdown(graceMs: number): void {
    switch (this.state) {
      case "echoing":
      case "waiting-drain":
        this.startClosing(graceMs, "shutdown");
        return;
      case "closing":
        // After the peer's EOF no timer is armed: a client that never reads its last echo
        // must not hold shutdown up.
        this.closeTimer ??= this.armCloseTimer(graceMs, "shutdown");
        return;
      case "closed":
        return;
    }
  }

  private transition(next: EchoClientState): void {
    this.state = next;
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.env.trace?.(
      this.id,
      `read ${chunk.length} B${this.state === "closing" ? " (discarded)" : ""}`,
    );
    switch (this.state) {
      case "echoing":
      case "waiting-drain":
        this.write(this.framer.push(chunk));
        return;
      case "closing":
      case "closed":
        return; // dropped: our side is finished
    }
  }

  private onDrain(): void {
    this.env.trace?.(this.id, "drain");
    if (this.state !== "waiting-drain") return;
    this.transition("echoing");
    this.socket.resume();
  }

  /** The peer sent its FIN: echo what the framing still holds, then send ours. */
  private onPeerEnd(): void {
    this.env.trace?.(this.id, "peer FIN (half-close)");
    if (this.state !== "echoing" && this.state !== "waiting-drain") return;
    const step = this.framer.end();
    this.writeOutput(step.output);
    if (step.kind === "reject") this.logRejection(step.rejection);
    this.closeReason ??= step.kind === "reject" ? rejectionReason(step.rejection) : "peer FIN";
    this.env.trace?.(this.id, `closing: ${this.closeReason} (FIN sent)`);
    this.socket.end();
    this.transition("closing");
  }

  private write(step: EchoStep): void {
    this.writeOutput(step.output);
    if (step.kind === "reject") {
      this.logRejection(step.rejection);
      this.startClosing(REJECT_LINGER_MS, rejectionReason(step.rejection));
      return;
    }
    if (this.socket.writableNeedDrain && this.state === "echoing") {
      this.socket.pause();
      this.transition("waiting-drain");
    }
  }

  private writeOutput(output: readonly Buffer[]): void {
    if (output.length === 0) return;
    const { socket } = this;
    // One writev for everything one read produced (lines and their terminators, headers and
    // payloads), instead of a segment per piece.
    socket.cork();
    let bytes = 0;
    for (const buffer of output) {
      socket.write(buffer);
      bytes += buffer.length;
    }
    socket.uncork();
    this.bytesEchoed += bytes;
    this.env.trace?.(
      this.id,
      `write ${bytes} B${socket.writableNeedDrain ? `, socket buffer full (${socket.writableLength} B queued): waiting for drain` : ""}`,
    );
  }

  /** FIN now (after queued echoes), drop input from here on, destroy after `ms` at the latest. */
  private startClosing(ms: number, reason: string): void {
    this.closeReason ??= reason;
    this.env.trace?.(this.id, `closing: ${reason} (FIN sent, lingering)`);
    this.transition("closing");
    this.socket.end();
    this.socket.resume();
    this.closeTimer ??= this.armCloseTimer(ms, reason);
  }

  private armCloseTimer(ms: number, reason: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.env.trace?.(this.id, `destroying: ${reason} (peer did not close within ${ms} ms)`);
      this.socket.destroy();
    }, ms);
    timer.unref();
    return timer;
  }

  private logRejection(rejection: EchoRejection): void {
    this.env.log.error(`#${this.id} ${this.peer} ${describeRejection(rejection)}`);
  }

  private onClose(): void {
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.transition("closed");
    const counts = `${this.bytesIn} bytes in, ${this.bytesEchoed} bytes echoed`;
    const how =
      this.errorCode === null
        ? "closed"
        : isPeerReset(this.errorCode)
          ? `closed: reset by peer (${this.errorCode})`
          : `closed after ${this.errorCode}`;
    this.env.log.access(`#${this.id} ${this.peer} ${how}: ${counts}`);
    if (this.env.trace !== undefined) {
      const reason =
        this.closeReason ??
        (this.errorCode === null
          ? "peer FIN"
          : isPeerReset(this.errorCode)
            ? "peer reset"
            : `socket error ${this.errorCode}`);
      this.env.trace(this.id, `closed (${reason})`);
    }
    this.env.onClosed(this);
  }
}

/** The close reason --trace names for a rejection. */
function rejectionReason(rejection: EchoRejection): string {
  switch (rejection.code) {
    case "LINE_TOO_LONG":
      return "line too long";
    case "FRAME_TOO_LARGE":
      return "frame too large";
    case "TRUNCATED_FRAME":
      return "truncated frame";
  }
}

function isPeerReset(code: string): boolean {
  return code === "ECONNRESET" || code === "EPIPE";
}

function describePeer(socket: Socket, server: Server): string {
  const { remoteAddress, remotePort } = socket;
  if (remoteAddress !== undefined && remotePort !== undefined) {
    return formatHostPort(remoteAddress, remotePort);
  }
  // A Unix socket client has no address of its own: name the socket it came in on.
  const local = server.address();
  return `unix:${typeof local === "string" ? local : "?"}`;
}

function ignoreError(): void {}
