import { close as closeFd, read as readFd } from "node:fs";
import { type ParseErrorCode, statusForParseError } from "../http/parse-error.js";
import { RequestParser } from "../http/request-parser.js";
import type { RequestHead, RequestParserLimits } from "../http/request-types.js";
import type { CloseReason, Tracer } from "../net/trace.js";
import type { AccessRecord } from "./access-log.js";
import {
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  CONNECTION_NONE,
  type ConnectionLineKind,
  endOfHead,
} from "./prebuilt-response.js";
import type { BodySegment, ResponsePlan } from "./response-plan.js";
import { type PlanCallback, planError, type RequestHandler } from "./static-handler.js";

/**
 * One client socket, as an explicit state machine (STYLE.md rule 4):
 *
 *   reading ──request──▶ responding ──done, keep-alive──▶ reading
 *      │                     │
 *      └──error/timeout──────┴──done, close──▶ closing ──peer FIN or linger timeout──▶ closed
 *
 * reading:    waiting for (the rest of) a request head; the parser holds partial bytes.
 * responding: one request is being answered (planned, then written). Bytes that arrive meanwhile
 *             are pipelined requests: buffered in the parser, read in order afterwards.
 * closing:    our side is finished (FIN sent); input is read and discarded for a short while so
 *             the peer receives our last response instead of a reset (a "lingering close").
 *             When the client itself asked to close and nothing of it is unread, the socket is
 *             closed at once instead, and "closing" lasts until its close event (mayCloseAtOnce).
 * closed:     the socket is gone; every resource is released.
 *
 * Timeouts are deadlines checked by the server's sweeper (checkDeadline), not per-socket timers.
 */
export type ConnectionState = "reading" | "responding" | "closing" | "closed";

/**
 * The socket a Connection drives: the part of net.Socket it uses, so a net.Socket, a TLSSocket
 * and a HandleStream (libuv's handle without the stream machinery, src/net/handle-stream.ts)
 * all fit. Semantics are net.Socket's with allowHalfOpen: the peer's FIN is only reported.
 */
export interface ConnectionSocket {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end" | "drain" | "close", listener: () => void): unknown;
  on(event: "error", listener: (error: NodeJS.ErrnoException) => void): unknown;
  once(event: "finish", listener: () => void): unknown;
  write(data: Buffer): boolean;
  cork(): void;
  uncork(): void;
  end(callback?: () => void): unknown;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  setNoDelay(on: boolean): unknown;
  readonly destroyed: boolean;
  readonly writableNeedDrain: boolean;
  readonly writableFinished: boolean;
  readonly writableLength: number;
  readonly remoteAddress?: string | undefined;
  readonly remoteFamily?: string | undefined;
  readonly remotePort?: number | undefined;
  /** TLS sockets: closing one at once would skip its close_notify, so they always end(). */
  readonly encrypted?: boolean;
}

/** Which deadline is armed. */
type DeadlineKind = "none" | "header" | "body" | "idle" | "send" | "linger";

/** Bytes of the first file read of a response body, and of every read after the socket pushed
 * back: a slow reader makes berth hold about this plus the socket's own buffer. */
export const FILE_CHUNK_BYTES = 64 * 1024;

/** The largest file read: each read the socket takes at once doubles the next, up to this. A
 * fast reader so costs a quarter of the read and write calls (measured: 256 MiB over loopback,
 * 1.4 GB/s instead of 0.6), while a reader that stalls holds at most one such chunk. */
export const MAX_FILE_CHUNK_BYTES = 256 * 1024;

/** Default for --max-pipelined-bytes: while a response is in flight, pipelined bytes beyond this
 * stop reading from the socket until the queue drains, so a client cannot make berth buffer an
 * unbounded request backlog. 64 KiB holds hundreds of ordinary requests. */
export const DEFAULT_MAX_PIPELINED_BYTES = 64 * 1024;

/** How long a closing connection keeps reading (and discarding) input so that the last response
 * is not destroyed by a TCP reset (RFC 9112 §9.6). */
export const LINGER_MS = 2000;

export interface ConnectionTimeouts {
  /** The whole request head must arrive within this, from its first byte (slowloris defence);
   * a connection that sends nothing is closed after it too. */
  readonly headerTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** A client that accepts no response bytes for this long is dropped. */
  readonly sendTimeoutMs: number;
  /** A request body berth is discarding must arrive within this, from when berth started
   * waiting for it; else the connection closes (the request was already answered). */
  readonly bodyTimeoutMs: number;
}

export interface Logger {
  /** Free-form activity lines (the toolkit servers' open/close lines). */
  access(line: string): void;
  error(line: string): void;
  /**
   * The HTTP access log: one record per answered request, formatted by whoever receives it
   * (access-log.ts). null: access logging is off, and no record is even built. Absent: the
   * server writes each record to access() as a Common Log Format line.
   */
  readonly request?: ((record: AccessRecord) => void) | null;
}

export interface ConnectionEnvironment {
  readonly handler: RequestHandler;
  readonly parserLimits: RequestParserLimits;
  readonly timeouts: ConnectionTimeouts;
  /** Pipelined input buffered while a response is in flight before reading pauses. */
  readonly maxPipelinedBytes: number;
  readonly log: Logger;
  /** "Date: ...\r\n" for a clock reading, cached per second. */
  dateLine(nowMs: number): string;
  /** Logs a recurring server-side condition (an fd shortage, a read error) at most once a
   * second per message, so a flood of failing requests cannot flood the log. */
  logRecurring(message: string): void;
  /** --trace: a line per socket event, or null (then no trace line is ever built). */
  readonly trace: Tracer | null;
  /** True once a graceful shutdown started: responses then close their connection. */
  isShuttingDown(): boolean;
  onClosed(connection: Connection): void;
}

interface InFlight {
  readonly request: RequestHead | null;
  readonly startMs: number;
  keepAlive: boolean;
  status: number;
  bodyBytesSent: number;
  /** Open file descriptor being streamed, or -1. */
  fd: number;
  /** A read is in flight on fd: closing it now could let the number be reused under the read. */
  readPending: boolean;
  /** The response was abandoned during a read: close fd when the read returns. */
  closeAfterRead: boolean;
  /** The body still to send, and where we are in it. */
  segments: readonly BodySegment[];
  segmentIndex: number;
  /** File position of the next read, and bytes left, in the current span (-1: not started). */
  position: number;
  spanRemaining: number;
  /** The head is held corked until the first body bytes join it, so both leave in one write. */
  corked: boolean;
  /** Size of the next file read: FILE_CHUNK_BYTES, doubling while the socket keeps up. */
  chunkBytes: number;
}

function newInFlight(request: RequestHead | null, startMs: number, keepAlive: boolean): InFlight {
  return {
    request,
    startMs,
    keepAlive,
    status: 0,
    bodyBytesSent: 0,
    fd: -1,
    readPending: false,
    closeAfterRead: false,
    segments: NO_SEGMENTS,
    segmentIndex: 0,
    position: 0,
    spanRemaining: -1,
    corked: false,
    chunkBytes: FILE_CHUNK_BYTES,
  };
}

const NO_SEGMENTS: readonly BodySegment[] = [];

let nextConnectionId = 1;

export class Connection {
  state: ConnectionState = "reading";
  deadlineMs: number;
  private deadline: DeadlineKind = "header";
  private readonly parser: RequestParser;
  private remoteText: string | null = null;
  private current: InFlight | null = null;
  private readingPaused = false;
  private peerEnded = false;
  private headStarted = false;
  private processing = false;
  private closeReason: CloseReason | null = null;
  /** Numbers connections in trace lines. */
  readonly id = nextConnectionId++;
  private readonly context: { nowMs: number; dateLine: string } = { nowMs: 0, dateLine: "" };
  private readonly onPlanCallback: PlanCallback = (plan, note) => this.onPlan(plan, note);

  constructor(
    private readonly socket: ConnectionSocket,
    private readonly env: ConnectionEnvironment,
    nowMs: number,
  ) {
    this.parser = new RequestParser(env.parserLimits);
    // A connection that never sends a byte is closed when the header timeout expires.
    this.deadlineMs = nowMs + env.timeouts.headerTimeoutMs;
    // Responses are written whole; Nagle's algorithm would only delay the last segment.
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onPeerEnd());
    socket.on("drain", () => this.onDrain());
    socket.on("error", (error: NodeJS.ErrnoException) => this.onSocketError(error));
    socket.on("close", () => this.onSocketClose());
    env.trace?.(this.id, `accepted from ${peerName(socket)}`);
  }

  /** The peer's address for log lines, read when first needed: getpeername(2) is a system call
   * that a --quiet server answering one request per connection would pay for nothing. */
  private get remote(): string {
    this.remoteText ??= this.socket.remoteAddress ?? "-";
    return this.remoteText;
  }

  /** Idle means a graceful shutdown may close it at once: no request started or in flight. */
  get isIdle(): boolean {
    return this.state === "reading" && this.parser.isIdle;
  }

  /** Called by the server's sweeper with the current clock. */
  checkDeadline(nowMs: number): void {
    if (this.deadline === "none" || nowMs < this.deadlineMs) return;
    switch (this.deadline) {
      case "header":
        if (this.parser.isIdle) {
          // Nothing was sent: close quietly, as nginx does, rather than answer a non-request.
          this.closeGracefully("header timeout");
        } else {
          this.env.log.error(`${this.remote} request head not received in time: 408`);
          this.closeReason = "header timeout";
          this.respondWithError(408);
        }
        return;
      case "body":
        // The request was answered when its head arrived; its body stopped coming. A 408 now
        // would be a second response to one request (RFC 9112 §9.3.2): close without one.
        this.env.log.error(`${this.remote} request body not received in time: closing`);
        this.closeGracefully("body timeout");
        return;
      case "idle":
        this.closeGracefully("keep-alive timeout");
        return;
      case "send":
        this.env.log.error(`${this.remote} stopped reading the response: dropped`);
        this.destroyFor("send timeout");
        return;
      case "linger":
        this.destroyFor(this.closeReason ?? "Connection: close");
        return;
    }
  }

  /** Graceful shutdown: close now if idle, otherwise after the response in flight. */
  shutdown(): void {
    if (this.isIdle) this.closeGracefully("shutdown");
  }

  /** Grace period over: the connection goes, whatever it was doing. */
  destroy(): void {
    this.destroyFor("shutdown");
  }

  // ---------------------------------------------------------------------------------------------
  // Input

  private onData(chunk: Buffer): void {
    this.env.trace?.(
      this.id,
      `read ${chunk.length} B${this.state === "closing" ? " (discarded)" : ""}`,
    );
    if (this.state === "closing" || this.state === "closed") return; // lingering: discard
    this.parser.push(chunk);
    if (this.state === "reading") {
      this.processInput();
    } else if (this.parser.bufferedBytes > this.env.maxPipelinedBytes) {
      this.pauseReading();
    }
    // The chunk may be a shared read buffer (HandleStream), reused once this returns: what the
    // parser still needs of it (a partial head, pipelined requests) is copied now.
    this.parser.ownInput();
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    this.env.trace?.(this.id, "peer FIN (half-close)");
    if (this.state === "closing") {
      // Both directions are done: release the socket once our last bytes are flushed.
      if (this.socket.writableFinished) this.socket.destroy();
      else this.socket.once("finish", () => this.socket.destroy());
      return;
    }
    // The peer sends no more requests; answer what arrived, then close (processInput decides).
    if (this.state === "reading") this.processInput();
  }

  /** Parses and answers buffered requests in order, while the connection is free to. */
  private processInput(): void {
    if (this.processing) return; // re-entered from a synchronous response: the loop continues
    this.processing = true;
    let corked = false;
    try {
      while (this.state === "reading") {
        // Backpressure: a client that does not read its answers gets no more of them, and no
        // more of its input is read, until the socket drains (onDrain resumes the loop). Checked
        // per request because pipelined answers made here can be synchronous.
        if (this.socket.writableNeedDrain) {
          this.armSendDeadline();
          this.pauseReading();
          break;
        }
        const result = this.parser.next();
        if (result.kind === "need-more") {
          this.awaitMoreInput();
          break;
        }
        if (result.kind === "error") {
          this.onParseError(result.code, result.inBody);
          break;
        }
        // More requests already buffered behind this one (pipelining): cork, so their answers
        // leave in one writev. A lone request is written at once, without the cork's cost.
        if (!corked && this.parser.bufferedBytes > 0) {
          this.socket.cork();
          corked = true;
        }
        this.startRequest(result.request);
      }
    } finally {
      this.processing = false;
      if (corked) {
        this.socket.uncork();
        if (this.socket.writableNeedDrain) this.armSendDeadline();
      }
    }
  }

  /**
   * The client is not taking its answers: it has the send timeout to catch up ("drain" disarms
   * it). Armed wherever output is found backed up, not only when write() says so: a corked batch
   * meets the full socket at uncork, after each write() returned true (HandleStream always;
   * net.Socket below its high-water mark).
   */
  private armSendDeadline(): void {
    if (this.deadline === "send" || this.state === "closing" || this.state === "closed") return;
    this.setDeadline("send", this.env.timeouts.sendTimeoutMs);
  }

  private awaitMoreInput(): void {
    if (this.peerEnded) {
      if (!this.parser.isIdle) {
        this.env.log.error(`${this.remote} closed the connection inside a request`);
      }
      this.closeGracefully("peer FIN");
      return;
    }
    if (this.parser.isIdle && this.env.isShuttingDown()) {
      // Shutting down: requests already received were answered (with Connection: close once the
      // shutdown began); a connection with nothing left to answer closes now, even when the last
      // response's head went out before the shutdown and did not say so.
      this.closeGracefully("shutdown");
      return;
    }
    if (this.parser.isIdle) {
      this.headStarted = false;
      this.setDeadline("idle", this.env.timeouts.keepAliveTimeoutMs);
    } else if (this.parser.isReadingBody) {
      // A body to discard has its own clock, counted from when we started waiting for it; the
      // next head then starts a fresh header clock.
      this.headStarted = false;
      if (this.deadline !== "body") this.setDeadline("body", this.env.timeouts.bodyTimeoutMs);
    } else if (!this.headStarted) {
      // RFC-independent slowloris defence: the clock starts at the head's first byte and
      // trickling more bytes does not extend it.
      this.headStarted = true;
      this.setDeadline("header", this.env.timeouts.headerTimeoutMs);
    }
    this.resumeReading();
  }

  private onParseError(code: ParseErrorCode, inBody: boolean): void {
    if (inBody) {
      // The request was already answered; its body's framing is broken, so the stream position
      // of any next request is unknown: close without a second response.
      this.env.log.error(`${this.remote} bad request body framing (${code}): closing`);
      this.closeGracefully("body framing error");
      return;
    }
    const status = statusForParseError(code);
    this.env.log.error(`${this.remote} bad request (${code}): ${status}`);
    this.env.trace?.(this.id, `parse error ${code}: ${status}`);
    this.closeReason = "parse error";
    this.respondWithError(status);
  }

  // ---------------------------------------------------------------------------------------------
  // Responding

  private startRequest(request: RequestHead): void {
    const nowMs = Date.now();
    this.env.trace?.(
      this.id,
      `request ${request.method} ${request.target} ${request.versionText} (${request.headBytes} B head)`,
    );
    this.headStarted = false;
    this.state = "responding";
    this.setDeadline("none", 0);
    // RFC 9110 §10.1.1: we answer without reading a body the client is waiting to send, so the
    // connection cannot continue: close after the response.
    const keepAlive =
      request.keepAlive && !(request.expectContinue && request.body.kind !== "none");
    this.current = newInFlight(request, nowMs, keepAlive);
    // One context and one callback per connection, not per request: a connection answers one
    // request at a time, and onPlan ignores a plan that arrives after the socket is gone.
    const context = this.context;
    context.nowMs = nowMs;
    context.dateLine = this.env.dateLine(nowMs);
    this.env.handler(request, context, this.onPlanCallback);
  }

  /** Answers a request that could not be parsed (or timed out), then closes. The caller has
   * logged why. */
  private respondWithError(status: number): void {
    const nowMs = Date.now();
    this.state = "responding";
    this.setDeadline("none", 0);
    this.current = newInFlight(null, nowMs, false);
    this.onPlan(planError(status, false, { dateLine: this.env.dateLine(nowMs) }), undefined);
  }

  private onPlan(plan: ResponsePlan, note: string | undefined): void {
    const current = this.current;
    if (this.state !== "responding" || current === null) {
      // The socket went away while the plan was being made.
      if (plan.kind === "file") closeFd(plan.fd, ignoreError);
      return;
    }
    current.status = plan.status;
    if (note !== undefined) {
      if (plan.status >= 500) this.env.logRecurring(`${plan.status}: ${note}`);
      else if (plan.status === 400) this.env.log.error(`${this.remote} ${plan.status}: ${note}`);
    }
    // Shutting down: requests already received are still answered, and only the answer to the
    // last of them says Connection: close (awaitMoreInput closes the idle connection after it).
    if (this.env.isShuttingDown() && this.parser.bufferedBytes === 0) current.keepAlive = false;
    const connection = connectionLineKind(current);
    if (plan.kind === "prebuilt") {
      const nowMs = current.startMs;
      const bytes = plan.bytesFor(nowMs, this.env.dateLine(nowMs), connection);
      const body = plan.body;
      if (body === null) {
        this.write(bytes);
      } else {
        // A body too large to inline: both buffers still leave in one writev.
        this.socket.cork();
        this.write(bytes);
        this.write(body);
        this.socket.uncork();
      }
      current.bodyBytesSent = plan.bodyBytes;
      this.finishResponse();
      return;
    }
    const head = plan.head + endOfHead(connection);

    if (plan.kind === "bytes") {
      const body = plan.body;
      if (body === null || body.length === 0) {
        this.write(Buffer.from(head, "latin1"));
      } else {
        const out = Buffer.allocUnsafe(head.length + body.length);
        out.write(head, 0, "latin1");
        body.copy(out, head.length);
        this.write(out);
        current.bodyBytesSent = body.length;
      }
      this.finishResponse();
      return;
    }

    current.fd = plan.fd;
    current.segments = plan.segments;
    // Hold the head until the first body bytes are ready: one writev carries both.
    this.socket.cork();
    current.corked = true;
    this.write(Buffer.from(head, "latin1"));
    this.produceBody(current);
  }

  /** Sends the body segments in order, pausing whenever the socket asks for a drain. */
  private produceBody(current: InFlight): void {
    while (this.current === current && !current.readPending) {
      const segment = current.segments[current.segmentIndex];
      if (segment === undefined) {
        this.releaseHead(current);
        this.releaseFile(current);
        this.finishResponse();
        return;
      }
      if (Buffer.isBuffer(segment)) {
        current.segmentIndex++;
        current.bodyBytesSent += segment.length;
        if (!this.write(segment)) {
          this.releaseHead(current);
          return; // onDrain resumes
        }
        continue;
      }
      if (current.spanRemaining === -1) {
        current.position = segment.start;
        current.spanRemaining = segment.length;
      }
      if (current.spanRemaining === 0) {
        current.segmentIndex++;
        current.spanRemaining = -1;
        continue;
      }
      const chunk = Buffer.allocUnsafe(Math.min(current.spanRemaining, current.chunkBytes));
      this.fillFromFile(current, chunk, 0);
      return;
    }
  }

  /** Reads the file into chunk[offset..] (looping over short reads), then sends the chunk. */
  private fillFromFile(current: InFlight, chunk: Buffer, offset: number): void {
    if (offset === chunk.length) {
      current.bodyBytesSent += chunk.length;
      const flushed = this.write(chunk);
      current.chunkBytes = flushed
        ? Math.min(current.chunkBytes * 2, MAX_FILE_CHUNK_BYTES)
        : FILE_CHUNK_BYTES;
      this.releaseHead(current);
      // Backpressure: produce the next chunk only once the socket has taken this one.
      if (flushed) this.produceBody(current);
      return;
    }
    current.readPending = true;
    const wanted = chunk.length - offset;
    readFd(current.fd, chunk, offset, wanted, current.position, (error, bytesRead) => {
      current.readPending = false;
      if (current.closeAfterRead) {
        this.releaseFile(current);
        return;
      }
      if (this.current !== current || this.state !== "responding") return; // aborted meanwhile
      if (error !== null || bytesRead === 0) {
        // A read error, or the file shrank under us: never send fewer bytes than Content-Length
        // promised padded with garbage; the only honest end is to close the connection.
        const why = error === null ? "file truncated while sending" : `read failed: ${error.code}`;
        this.env.log.error(`${this.remote} ${why}: connection closed`);
        this.destroyFor("file error");
        return;
      }
      current.position += bytesRead;
      current.spanRemaining -= bytesRead;
      this.fillFromFile(current, chunk, offset + bytesRead);
    });
  }

  private releaseHead(current: InFlight): void {
    if (!current.corked) return;
    current.corked = false;
    this.socket.uncork();
  }

  private onDrain(): void {
    this.env.trace?.(this.id, "drain");
    if (this.deadline === "send") this.setDeadline("none", 0);
    if (this.state === "responding" && this.current !== null && this.current.fd !== -1) {
      this.produceBody(this.current);
    } else if (this.state === "reading") {
      this.processInput();
    }
  }

  /** Writes and reports whether the socket's buffer still has room (false = wait for drain). */
  private write(data: Buffer): boolean {
    if (this.socket.destroyed) return false;
    const flushed = this.socket.write(data);
    if (!flushed) this.armSendDeadline();
    this.env.trace?.(
      this.id,
      `write ${data.length} B${flushed ? "" : `, socket buffer full (${this.socket.writableLength} B queued): waiting for drain`}`,
    );
    return flushed;
  }

  private finishResponse(): void {
    const current = this.current;
    if (current === null) return;
    this.logAccess(current);
    this.current = null;
    if (!current.keepAlive) {
      const reason =
        this.closeReason ?? (this.env.isShuttingDown() ? "shutdown" : "Connection: close");
      if (this.mayCloseAtOnce(current)) this.closeAtOnce(reason);
      else this.closeGracefully(reason);
      return;
    }
    this.state = "reading";
    this.processInput();
  }

  private releaseFile(current: InFlight): void {
    if (current.fd === -1) return;
    if (current.readPending) {
      current.closeAfterRead = true;
      return;
    }
    closeFd(current.fd, ignoreError);
    current.fd = -1;
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  /** Ends our side (after pending writes) and lingers briefly, discarding input. */
  private closeGracefully(reason: CloseReason): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.closeReason ??= reason;
    this.env.trace?.(this.id, `closing: ${reason} (FIN sent, lingering)`);
    this.state = "closing";
    this.setDeadline("linger", LINGER_MS);
    this.resumeReading();
    if (this.peerEnded) {
      this.socket.end(() => this.socket.destroy());
    } else {
      this.socket.end();
    }
  }

  /**
   * The client asked to close (Connection: close, or HTTP/1.0 without keep-alive), so it sends
   * nothing more; nothing of it is unread; and the kernel holds every byte of the response. Then
   * close(2) sends the response and our FIN with no lingering: a lingering close exists for a
   * client still sending (RFC 9112 §9.6: data arriving at a closed socket draws a reset, which can
   * destroy the response before the client reads it), and this one said it is done, as nginx
   * also reasons. It saves a shutdown, a read of the client's FIN and an event-loop turn per
   * connection. TLS sockets always end() (close_notify).
   */
  private mayCloseAtOnce(current: InFlight): boolean {
    const request = current.request;
    return (
      request !== null &&
      !request.keepAlive &&
      this.closeReason === null &&
      this.parser.isIdle &&
      this.socket.writableLength === 0 &&
      this.socket.encrypted !== true
    );
  }

  private closeAtOnce(reason: CloseReason): void {
    this.closeReason = reason;
    this.env.trace?.(
      this.id,
      `closing: ${reason} (all sent; the client asked to close: closed at once)`,
    );
    this.state = "closing";
    this.setDeadline("none", 0);
    this.socket.destroy();
  }

  /** Ends the connection at once (no FIN handshake), naming why. */
  private destroyFor(reason: CloseReason): void {
    this.closeReason ??= reason;
    this.env.trace?.(this.id, `destroying: ${reason}`);
    this.socket.destroy();
  }

  private onSocketError(error: NodeJS.ErrnoException): void {
    // Resets and broken pipes are a client's right; other errors are worth a line.
    const code = error.code ?? "";
    this.closeReason ??= code === "ECONNRESET" || code === "EPIPE" ? "peer reset" : "socket error";
    this.env.trace?.(this.id, `socket error ${code || error.message}`);
    if (code !== "ECONNRESET" && code !== "EPIPE" && code !== "ERR_STREAM_DESTROYED") {
      this.env.log.error(`${this.remote} socket error: ${error.code ?? error.message}`);
    }
  }

  private onSocketClose(): void {
    if (this.state === "closed") return;
    this.env.trace?.(this.id, `closed (${this.closeReason ?? "peer FIN"})`);
    this.state = "closed";
    this.deadline = "none";
    const current = this.current;
    if (current !== null) {
      this.releaseFile(current);
      if (current.status !== 0) this.logAccess(current);
      this.current = null;
    }
    this.env.onClosed(this);
  }

  // ---------------------------------------------------------------------------------------------

  private setDeadline(kind: DeadlineKind, afterMs: number): void {
    this.deadline = kind;
    this.deadlineMs = kind === "none" ? 0 : Date.now() + afterMs;
  }

  private pauseReading(): void {
    if (this.readingPaused) return;
    this.readingPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.readingPaused) return;
    this.readingPaused = false;
    this.socket.resume();
  }

  /** Hands the access log a record; formatting (and its escaping) is access-log.ts's. */
  private logAccess(current: InFlight): void {
    const log = this.env.log.request;
    if (log === null || log === undefined) return; // logging off: build nothing
    log({
      remote: this.remote,
      request: current.request,
      status: current.status,
      bodyBytes: current.bodyBytesSent,
      startMs: current.startMs,
      // startMs is the wall clock read when the head was complete; a clock step backwards
      // must not log a negative time.
      durationMs: Math.max(0, Date.now() - current.startMs),
    });
  }
}

function peerName(socket: ConnectionSocket): string {
  if (socket.remoteAddress === undefined) return "a Unix socket peer";
  const host = socket.remoteFamily === "IPv6" ? `[${socket.remoteAddress}]` : socket.remoteAddress;
  return `${host}:${socket.remotePort}`;
}

/** RFC 9112 §9.6: say "close" when we will close; HTTP/1.0 needs keep-alive spelled out. */
function connectionLineKind(current: InFlight): ConnectionLineKind {
  if (!current.keepAlive) return CONNECTION_CLOSE;
  return current.request !== null && current.request.httpMinor === 0
    ? CONNECTION_KEEP_ALIVE
    : CONNECTION_NONE;
}

function ignoreError(): void {}
