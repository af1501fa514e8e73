/**
 * The sockets of `berth chat`: accepts connections on every --listen address, splits what each
 * sends into lines, hands them to the pure ChatRoom (chat-room.ts) and writes out what it answers.
 *
 * One member can never slow the others. Writes are never awaited: each turn's output for a member
 * is written at once, and a member whose unsent output (socket.writableLength, the bytes Node
 * holds beyond what the kernel took) passes maxQueueBytes is dropped on the spot, with a reset for
 * TCP, while everyone else keeps receiving. Nothing is ever paused for the sake of one reader.
 *
 * Every event goes through one queue drained by one loop (drain()), so a drop discovered while
 * writing, or a quit in the middle of a chunk of lines, is handled in order and never re-entrantly.
 */
import { createServer, type Socket } from "node:net";
import { type BoundListeners, bindListeners } from "../net/bind-listeners.js";
import { LineSplitter } from "../net/line-splitter.js";
import { type BoundAddress, formatHostPort, LOOPBACK_HOSTS } from "../net/listen.js";
import type { ListenSpec } from "../net/listen-target.js";
import type { Tracer } from "../net/trace.js";
import type { Logger } from "../server/connection.js";
import { createStreamLogger } from "../server/log.js";
import { createRateLimitedLog } from "../server/rate-limited-log.js";
import {
  ChatRoom,
  DEFAULT_MAX_MEMBERS,
  type MemberId,
  type RoomAction,
  type RoomEvent,
} from "./chat-room.js";

/** Default port, as issue 6 asks. IANA lists 7008 as afs3-update: where an AFS update server
 * runs, pick another with --listen. */
export const DEFAULT_CHAT_PORT = 7008;

/** Default --max-line-bytes: a chat line is a few sentences; 4 KiB is a long paste. */
export const DEFAULT_CHAT_MAX_LINE_BYTES = 4 * 1024;

/** Default --max-queue-bytes: about 1,000 long lines a member may fall behind (on top of the
 * kernel's socket buffer) before it is dropped; a person reading is never that far behind. */
export const DEFAULT_MAX_QUEUE_BYTES = 1024 * 1024;

/** After our last line and FIN, how long a peer has to close its side before we destroy the
 * socket. Input is read and dropped meanwhile, so our last line is not lost to a reset. */
export const CLOSE_LINGER_MS = 2000;

/** TCP keep-alive probes start after this much silence, so a vanished peer (no FIN, no RST) is
 * eventually noticed in a quiet room. */
export const KEEPALIVE_INITIAL_DELAY_MS = 60_000;

/** Every line the server sends ends in CRLF: telnet needs the CR to return the carriage, and nc
 * shows it as nothing. Members may end theirs with LF or CRLF. */
const LINE_END = "\r\n";

export interface ChatServerOptions {
  /** Where to listen; default port 7008 on 127.0.0.1 and ::1 (::1 skipped on machines
   * without IPv6). */
  readonly listen?: readonly ListenSpec[];
  /** Permission bits of Unix socket files. */
  readonly socketMode?: number;
  /** Members at once (default 64); one more is told the room is full and closed. */
  readonly maxClients?: number;
  /** Longest line a member may send (default 4 KiB); longer → an error line and a close. */
  readonly maxLineBytes?: number;
  /** Unsent bytes a member may fall behind (default 1 MiB) before it is dropped. */
  readonly maxQueueBytes?: number;
  /** access: joins, leaves and renames (never what members say); error: drops, the room being
   * full, accept failures. Default: errors to stderr only. */
  readonly log?: Logger;
  /** --trace: a line per socket event. Absent: no trace work at all. */
  readonly trace?: Tracer;
}

export interface ChatServer {
  /** Binds every address; rejects with a ListenError (everything bound is undone). */
  listen(): Promise<BoundAddress[]>;
  /** Stops accepting, tells every member "* server shutting down", ends every connection, and
   * resolves once all are closed (at most CLOSE_LINGER_MS for peers that do not close theirs). */
  close(): Promise<void>;
  readonly addresses: readonly BoundAddress[];
  readonly memberCount: number;
  /** Open connections: members, plus ones being turned away or closed. */
  readonly connectionCount: number;
}

export function createChatServer(options: ChatServerOptions = {}): ChatServer {
  return new ChatServerImpl(options);
}

/** open: in the room (or about to be told it is full); closing: our FIN is sent or due after the
 * last queued line, input is discarded; closed: the socket is gone or being destroyed. */
type ConnectionState = "open" | "closing" | "closed";

interface ChatConnection {
  readonly id: MemberId;
  readonly socket: Socket;
  /** resetAndDestroy() exists for TCP only. */
  readonly isTcp: boolean;
  readonly splitter: LineSplitter;
  state: ConnectionState;
  /** Lines sent during the current drain, written as one buffer. */
  outbox: Buffer[];
  /** Whether end() was called (closing connections are ended once their outbox is written). */
  ended: boolean;
  linger: NodeJS.Timeout | null;
  /** Why the connection ends, for --trace: the first cause wins. */
  closeReason: ChatCloseReason | null;
}

/** Why a connection ended, as --trace names it. */
type ChatCloseReason =
  | "quit"
  | "peer FIN"
  | "peer reset"
  | "socket error"
  | "too slow"
  | "room full"
  | "line too long"
  | "shutdown";

class ChatServerImpl implements ChatServer {
  addresses: BoundAddress[] = [];
  private readonly room: ChatRoom;
  private readonly maxLineBytes: number;
  private readonly maxQueueBytes: number;
  private readonly log: Logger;
  private readonly trace: Tracer | undefined;
  private readonly logRecurring: (message: string, nowMs: number) => void;
  private readonly connections = new Map<MemberId, ChatConnection>();
  private nextId: MemberId = 1;
  private bound: BoundListeners | null = null;
  private closing: Promise<void> | null = null;
  private onAllClosed: (() => void) | null = null;

  // The one event queue and the connections with output to write (see drain()).
  private readonly events: RoomEvent[] = [];
  private readonly dirty = new Set<ChatConnection>();
  private draining = false;

  constructor(private readonly options: ChatServerOptions) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_CHAT_MAX_LINE_BYTES;
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.room = new ChatRoom({
      maxMembers: options.maxClients ?? DEFAULT_MAX_MEMBERS,
      maxLineBytes: this.maxLineBytes,
      maxQueueBytes: this.maxQueueBytes,
    });
    this.log = options.log ?? createStreamLogger(null, process.stderr);
    this.trace = options.trace;
    this.logRecurring = createRateLimitedLog(this.log.error);
  }

  get memberCount(): number {
    return this.room.memberCount;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<BoundAddress[]> {
    const specs = this.options.listen ?? [
      { kind: "tcp", hosts: LOOPBACK_HOSTS, port: DEFAULT_CHAT_PORT },
    ];
    this.bound = await bindListeners(specs, {
      // Half-open allowed: on a peer's EOF we deliver its last line, then end our side ourselves.
      createServer: () => createServer({ allowHalfOpen: true }, (socket) => this.accept(socket)),
      ...(this.options.socketMode === undefined ? {} : { socketMode: this.options.socketMode }),
      skipUnavailable: this.options.listen === undefined,
      onListenerError: (error) =>
        this.logRecurring(`accept failed: ${error.code ?? error.message}`, Date.now()),
    });
    this.addresses = [...this.bound.addresses];
    return this.addresses;
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.bound?.close();
    this.bound = null;
    this.closing = new Promise<void>((resolve) => {
      this.onAllClosed = resolve;
    });
    this.events.push({ kind: "shutdown" });
    this.drain();
    this.resolveIfAllClosed();
    return this.closing;
  }

  private accept(socket: Socket): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    // A Unix socket has no local address; a TCP one keeps its own even if the peer already left.
    const isTcp = socket.localAddress !== undefined;
    const connection: ChatConnection = {
      id: this.nextId++,
      socket,
      isTcp,
      splitter: new LineSplitter({ maxLineBytes: this.maxLineBytes }),
      state: "open",
      outbox: [],
      ended: false,
      linger: null,
      closeReason: null,
    };
    this.connections.set(connection.id, connection);
    if (isTcp) {
      // Chat lines are small and typed one at a time: Nagle would hold the second line of a
      // burst until the first is acknowledged.
      socket.setNoDelay(true);
      socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
    }
    socket.on("data", (chunk: Buffer) => this.onData(connection, chunk));
    socket.on("end", () => this.onEnd(connection));
    // A reset or broken pipe: "close" follows, and that is where the member leaves.
    if (this.trace === undefined) socket.on("error", ignoreError);
    else socket.on("error", (error) => this.onSocketError(connection, error));
    socket.on("close", () => this.onClose(connection));
    const peer = !isTcp
      ? "unix"
      : socket.remoteAddress === undefined
        ? "(gone)"
        : formatHostPort(socket.remoteAddress, socket.remotePort ?? 0);
    this.trace?.(connection.id, `accepted from ${peer}`);
    this.events.push({ kind: "connect", id: connection.id, peer });
    this.drain();
  }

  private onData(connection: ChatConnection, chunk: Buffer): void {
    this.trace?.(
      connection.id,
      `read ${chunk.length} B${connection.state === "open" ? "" : " (discarded)"}`,
    );
    // Closing: input is read and dropped, so the kernel never answers our last line with a reset.
    if (connection.state !== "open") return;
    connection.splitter.push(chunk);
    this.takeLines(connection, connection.splitter.next());
    this.drain();
  }

  /** EOF from the peer: its unterminated last line still counts, then it leaves. */
  private onEnd(connection: ChatConnection): void {
    this.trace?.(connection.id, "peer FIN (half-close)");
    if (connection.state !== "open") return;
    this.takeLines(connection, connection.splitter.end());
    this.events.push({ kind: "disconnect", id: connection.id });
    this.drain();
  }

  /** Queues an event per line (all of a chunk's lines before any is handled: one write per
   * member per chunk, whatever the number of lines). */
  private takeLines(connection: ChatConnection, first: ReturnType<LineSplitter["next"]>): void {
    const { id, splitter } = connection;
    for (let result = first; ; result = splitter.next()) {
      switch (result.kind) {
        case "need-more":
          return;
        case "line":
          this.trace?.(id, `line ${result.line.length} B`);
          this.events.push({ kind: "line", id, line: result.line });
          break;
        case "error":
          this.trace?.(id, `line over ${this.maxLineBytes} B`);
          this.events.push({ kind: "line-too-long", id });
          return;
      }
    }
  }

  private onSocketError(connection: ChatConnection, error: NodeJS.ErrnoException): void {
    const code = error.code ?? error.message;
    this.trace?.(connection.id, `socket error ${code}`);
    connection.closeReason ??=
      code === "ECONNRESET" || code === "EPIPE" ? "peer reset" : "socket error";
  }

  private onClose(connection: ChatConnection): void {
    this.trace?.(connection.id, `closed (${connection.closeReason ?? "peer FIN"})`);
    if (connection.linger !== null) clearTimeout(connection.linger);
    connection.state = "closed";
    connection.outbox = [];
    this.connections.delete(connection.id);
    this.dirty.delete(connection);
    this.events.push({ kind: "disconnect", id: connection.id });
    this.drain();
    this.resolveIfAllClosed();
  }

  /**
   * Handles queued events until none is left, writing each connection's output once the events
   * that produced it are handled. Events raised meanwhile (a drop found while writing) join the
   * queue. Never re-entered: a nested call returns at once and the outer loop picks its work up.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const event = this.events.shift();
        if (event !== undefined) {
          this.perform(this.room.handle(event), event);
          continue;
        }
        const next = this.dirty.values().next();
        if (next.done === true) return;
        this.dirty.delete(next.value);
        this.flush(next.value);
      }
    } finally {
      this.draining = false;
    }
  }

  private perform(actions: readonly RoomAction[], cause: RoomEvent): void {
    for (const action of actions) {
      switch (action.kind) {
        case "send":
          this.queueLine(action.to, action.line);
          break;
        case "close": {
          const connection = this.connections.get(action.id);
          if (connection?.state === "open") {
            connection.state = "closing";
            connection.closeReason ??= closeReasonOf(cause);
            this.dirty.add(connection);
          }
          break;
        }
        case "log":
          if (action.recurring) this.logRecurring(action.message, Date.now());
          else if (action.level === "warn") this.log.error(action.message);
          else this.log.access(action.message);
          break;
      }
    }
  }

  private queueLine(to: readonly MemberId[], line: string): void {
    // Encoded once, whatever the number of recipients.
    const bytes = Buffer.from(`${line}${LINE_END}`, "utf8");
    for (const id of to) {
      const connection = this.connections.get(id);
      if (connection?.state !== "open") continue;
      connection.outbox.push(bytes);
      this.dirty.add(connection);
    }
  }

  /** Writes a connection's queued lines; drops it if it is too far behind; ends it if closing. */
  private flush(connection: ChatConnection): void {
    const { socket, outbox } = connection;
    if (connection.state === "closed") return;
    if (socket.destroyed) {
      connection.state = "closed";
      return;
    }
    if (outbox.length > 0) {
      connection.outbox = [];
      const bytes = outbox.length === 1 ? (outbox[0] as Buffer) : Buffer.concat(outbox);
      const flushed = socket.write(bytes);
      this.trace?.(
        connection.id,
        `write ${bytes.length} B${flushed ? "" : `, socket buffer full (${socket.writableLength} B queued)`}`,
      );
      if (connection.state === "open" && socket.writableLength > this.maxQueueBytes) {
        this.drop(connection);
        return;
      }
    }
    if (connection.state === "closing" && !connection.ended) {
      connection.ended = true;
      this.trace?.(
        connection.id,
        `closing: ${connection.closeReason ?? "shutdown"} (FIN sent, lingering)`,
      );
      socket.end();
      connection.linger = setTimeout(() => {
        this.trace?.(
          connection.id,
          `destroying: ${connection.closeReason ?? "shutdown"} (peer did not close within ${CLOSE_LINGER_MS} ms)`,
        );
        socket.destroy();
      }, CLOSE_LINGER_MS);
      connection.linger.unref();
    }
  }

  /** A member that stopped reading: gone at once, its backlog freed, the room told. */
  private drop(connection: ChatConnection): void {
    const queuedBytes = connection.socket.writableLength;
    connection.state = "closed";
    connection.closeReason ??= "too slow";
    this.trace?.(
      connection.id,
      `destroying: too slow (${queuedBytes} B queued, over ${this.maxQueueBytes})`,
    );
    // A reset discards what the kernel still holds for it too; nothing more could reach it.
    if (connection.isTcp) connection.socket.resetAndDestroy();
    else connection.socket.destroy();
    this.events.push({ kind: "too-slow", id: connection.id, queuedBytes });
  }

  private resolveIfAllClosed(): void {
    if (this.connections.size === 0 && this.onAllClosed !== null) {
      const resolve = this.onAllClosed;
      this.onAllClosed = null;
      resolve();
    }
  }
}

/** The reason a connection closes when the room closes it while handling `cause`. */
function closeReasonOf(cause: RoomEvent): ChatCloseReason {
  switch (cause.kind) {
    case "connect":
      // The server turns connections away itself once shutting down: the room only when full.
      return "room full";
    case "line":
      return "quit";
    case "line-too-long":
      return "line too long";
    case "disconnect":
      return "peer FIN";
    case "too-slow":
      return "too slow";
    case "shutdown":
      return "shutdown";
  }
}

function ignoreError(): void {}
