/**
 * The load loop of `berth bench http`: `connections` lanes, each one connection at a time, each
 * sending its requests in pipelined batches (one write per batch) and framing the responses
 * with ResponseFramer. The I/O is kept thin; what is counted and printed lives in summary.ts.
 *
 * Every request a lane takes ends exactly once: as a response (counted by status, its latency
 * recorded) or as one error of the kind that ended its connection (connect, reset, timeout,
 * parse). Requests a server did not answer because it announced a close (Connection: close, a
 * close-delimited body) were not processed (RFC 9112 §9.6) and are sent again on a new
 * connection; GET and HEAD are idempotent, so that is safe (RFC 9110 §9.2.2).
 *
 * Latency is measured from the write of the batch a request went in (--close: from the start of
 * its connection). With a rate, from the time the request was *scheduled*: a request that waits
 * behind a slow response is late, and that lateness is part of what a user would see. Measuring
 * from the actual send instead would hide exactly the stalls a benchmark is for (coordinated
 * omission, as Gil Tene named it; wrk2 corrects it the same way).
 *
 * Hot path, per response: one framer step, one histogram increment, no allocation we can avoid.
 * Reads land in one shared buffer (the `onread` option): the framer keeps no reference to it.
 */
import { lookup } from "node:dns/promises";
import { connect, isIP, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { LatencyHistogram } from "./histogram.js";
import type { BenchConnectTarget, RequestRotation } from "./http-target.js";
import { ResponseFramer, type ResponseFramerResult } from "./response-framer.js";
import {
  type BenchErrorKind,
  createErrorCounts,
  type ErrorCounts,
  type HttpLoadMeasurements,
} from "./summary.js";

/** Default --timeout-ms: a response (or a connection) taking longer counts as an error. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** How often lanes are checked for timeouts. */
const TICK_MS = 50;
/** How often onProgress is called. */
const PROGRESS_INTERVAL_MS = 1000;
/** One read: as large as a socket read usually gets, so a pipelined burst is one framer push. */
const READ_BUFFER_BYTES = 256 * 1024;
const NEED_MORE: ResponseFramerResult = Object.freeze({ kind: "need-more" });
/** Status codes are 100..599 (ResponseFramer guarantees it). */
const STATUS_SLOTS = 600;

export type LoadLimit =
  | { readonly kind: "duration"; readonly durationMs: number }
  | { readonly kind: "requests"; readonly count: number };

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly responses: number;
  readonly errors: number;
}

export interface HttpLoadOptions {
  readonly target: BenchConnectTarget;
  /** The requests, in rotation; its maxBatch must be at least `pipeline`. */
  readonly rotation: RequestRotation;
  /** The requests are HEAD: responses have no body whatever their fields say. */
  readonly isHead: boolean;
  readonly connections: number;
  /** Requests in flight per connection (1 with `close`). */
  readonly pipeline: number;
  /** A new connection per request (the requests carry Connection: close). */
  readonly close: boolean;
  readonly limit: LoadLimit;
  /** Total requests per second, spread evenly over the connections; null: as fast as possible. */
  readonly ratePerSecond: number | null;
  readonly timeoutMs: number;
  /** Ends the run early (SIGINT): what was measured so far is returned. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: LoadProgress) => void;
}

export type ResolvedTarget =
  | { readonly kind: "target"; readonly target: BenchConnectTarget }
  | { readonly kind: "error"; readonly message: string };

/** Resolves a host name once, before the run: connections then go to the first address, without
 * a DNS lookup each. */
export async function resolveBenchTarget(target: BenchConnectTarget): Promise<ResolvedTarget> {
  if (target.kind === "unix" || isIP(target.host) !== 0) return { kind: "target", target };
  try {
    const { address } = await lookup(target.host);
    return { kind: "target", target: { ...target, host: address } };
  } catch {
    return { kind: "error", message: `Cannot resolve ${target.host}: unknown host` };
  }
}

/** Runs the load; resolves with what was measured once the limit is reached. */
export function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadMeasurements> {
  return new HttpLoad(options).run();
}

/**
 * idle:       no connection (before the first, or between two).
 * connecting: a connection is being opened.
 * open:       connected; requests are written and responses framed.
 * finished:   the lane has nothing more to send, or the run is over.
 */
type LaneState = "idle" | "connecting" | "open" | "finished";

/** One connection slot: the requests it holds, oldest first, in a ring of `pipeline` entries. */
interface Lane {
  state: LaneState;
  socket: Socket | null;
  framer: ResponseFramer;
  /** Latency start of each request held (write, connect or scheduled time), in ms. */
  readonly startTimesMs: Float64Array;
  /** Ring index of the oldest request held. */
  head: number;
  /** Requests taken and not yet ended. */
  held: number;
  /** Of those, how many (the oldest) were written on the current connection. */
  sent: number;
  /** Rotation index of the oldest request held. */
  rotationAt: number;
  /** Last write or response on the current connection, or its connect start: for timeouts. */
  lastProgressMs: number;
  /** With a rate: when this lane's next request is due. */
  nextDueMs: number;
  timer: NodeJS.Timeout | null;
}

class HttpLoad {
  private readonly lanes: Lane[] = [];
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly histogram = new LatencyHistogram();
  private readonly statusCounts = new Float64Array(STATUS_SLOTS);
  private readonly errors: ErrorCounts = createErrorCounts();
  /** Sockets a server announced it would close: left for the server to close (so the TIME_WAIT
   * is on its side, not ours), destroyed at the end of the run at the latest. */
  private readonly closing = new Set<Socket>();
  private responses = 0;
  private bytesRead = 0;
  private taken = 0;
  private activeLanes = 0;
  private startMs = 0;
  private endMs = 0;
  private lastProgressReportMs = 0;
  private stopped = false;
  private ticker: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private resolveRun: ((measured: HttpLoadMeasurements) => void) | null = null;
  /** With a rate: ms between two requests of one lane. */
  private readonly laneIntervalMs: number;

  constructor(private readonly options: HttpLoadOptions) {
    if (options.rotation.maxBatch < options.pipeline) {
      throw new RangeError("the rotation's maxBatch is below the pipeline depth");
    }
    this.laneIntervalMs =
      options.ratePerSecond === null ? 0 : (options.connections * 1000) / options.ratePerSecond;
  }

  run(): Promise<HttpLoadMeasurements> {
    return new Promise((resolve) => {
      this.resolveRun = resolve;
      this.startMs = performance.now();
      this.lastProgressReportMs = this.startMs;
      const { options } = this;
      if (options.limit.kind === "duration") {
        this.deadline = setTimeout(() => this.stop(), options.limit.durationMs);
      }
      options.signal?.addEventListener("abort", () => this.stop(), { once: true });
      this.ticker = setInterval(() => this.tick(), TICK_MS);
      const spacingMs = options.ratePerSecond === null ? 0 : 1000 / options.ratePerSecond;
      for (let i = 0; i < options.connections; i++) {
        this.lanes.push({
          state: "idle",
          socket: null,
          framer: new ResponseFramer(),
          startTimesMs: new Float64Array(options.pipeline),
          head: 0,
          held: 0,
          sent: 0,
          rotationAt: i % options.rotation.size,
          lastProgressMs: 0,
          // Lanes are staggered, so the requests of all lanes are evenly spaced in time.
          nextDueMs: this.startMs + i * spacingMs,
          timer: null,
        });
      }
      this.activeLanes = this.lanes.length;
      if (options.signal?.aborted === true) {
        this.stop();
        return;
      }
      for (const lane of this.lanes) {
        // Connections are opened up front (but for --close, where each request opens its own).
        if (options.close) this.pump(lane);
        else this.openConnection(lane);
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // What a lane does next

  /** Takes the requests due, connects if needed, writes what is unsent, or finishes the lane. */
  private pump(lane: Lane): void {
    if (this.stopped || lane.state === "finished") return;
    if (this.options.ratePerSecond === null) {
      if (lane.held === 0) this.takeBatch(lane);
    } else {
      this.takeDue(lane);
    }
    if (lane.held === 0) {
      if (!this.mayTakeMore(lane)) this.finishLane(lane);
      return;
    }
    switch (lane.state) {
      case "idle":
        this.openConnection(lane);
        return;
      case "connecting":
        return;
      case "open":
        if (lane.sent < lane.held) this.writeUnsent(lane);
        return;
    }
  }

  /** Without a rate: a whole batch as soon as the previous one is answered (as wrk does). */
  private takeBatch(lane: Lane): void {
    const count = this.take(this.options.close ? 1 : this.options.pipeline);
    lane.held = count;
    lane.sent = 0;
  }

  /** With a rate: every request whose time has come, while the lane has room. A request that
   * finds no room stays due and is taken, late, as soon as a response frees a slot: its latency
   * counts from when it was due. */
  private takeDue(lane: Lane): void {
    const nowMs = performance.now();
    const { startTimesMs } = lane;
    const depth = this.options.pipeline;
    while (lane.held < depth && lane.nextDueMs <= nowMs && this.isWithinLimit(lane.nextDueMs)) {
      if (this.take(1) === 0) break;
      startTimesMs[(lane.head + lane.held) % depth] = lane.nextDueMs;
      lane.held++;
      lane.nextDueMs += this.laneIntervalMs;
    }
    if (lane.timer === null && lane.held < depth && this.mayTakeMore(lane)) {
      lane.timer = setTimeout(
        () => {
          lane.timer = null;
          this.pump(lane);
        },
        Math.max(0, lane.nextDueMs - nowMs),
      );
    }
  }

  /** Up to `count` requests from what the limit allows. */
  private take(count: number): number {
    const { limit } = this.options;
    const allowed = limit.kind === "requests" ? Math.min(count, limit.count - this.taken) : count;
    this.taken += allowed;
    return allowed;
  }

  private mayTakeMore(lane: Lane): boolean {
    const { limit } = this.options;
    if (limit.kind === "requests" && this.taken >= limit.count) return false;
    return this.options.ratePerSecond === null || this.isWithinLimit(lane.nextDueMs);
  }

  /** With a duration, requests are scheduled up to its end only. */
  private isWithinLimit(dueMs: number): boolean {
    const { limit } = this.options;
    return limit.kind !== "duration" || dueMs < this.startMs + limit.durationMs;
  }

  private writeUnsent(lane: Lane): void {
    const socket = lane.socket;
    if (socket === null) return;
    const count = lane.held - lane.sent;
    const nowMs = performance.now();
    if (this.options.ratePerSecond === null && !this.options.close) {
      const depth = this.options.pipeline;
      for (let i = lane.sent; i < lane.held; i++)
        lane.startTimesMs[(lane.head + i) % depth] = nowMs;
    }
    if (lane.sent === 0) lane.lastProgressMs = nowMs;
    // One write per batch: the batch is a view of the precomputed rotation, no copy.
    socket.write(this.options.rotation.batch(lane.rotationAt + lane.sent, count));
    lane.sent = lane.held;
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  private openConnection(lane: Lane): void {
    const { target } = this.options;
    const nowMs = performance.now();
    lane.state = "connecting";
    lane.framer = new ResponseFramer();
    lane.sent = 0;
    lane.lastProgressMs = nowMs;
    if (this.options.close && this.options.ratePerSecond === null) {
      // --close: the connection is part of the cost of each request.
      for (let i = 0; i < lane.held; i++) {
        lane.startTimesMs[(lane.head + i) % this.options.pipeline] = nowMs;
      }
    }
    const onread = {
      buffer: this.readBuffer,
      callback: (bytes: number): boolean => {
        this.onRead(lane, socket, bytes);
        return true; // keep reading
      },
    };
    const socket =
      target.kind === "unix"
        ? connect({ path: target.path, onread })
        : connect({ host: target.host, port: target.port, onread, noDelay: true });
    lane.socket = socket;
    let errorSeen = false;
    socket.once("connect", () => {
      if (lane.socket !== socket) return;
      // Small requests go out at once; Node before 22 keeps Nagle on unless told.
      if (target.kind === "tcp") socket.setNoDelay(true);
      lane.state = "open";
      this.pump(lane);
    });
    socket.on("end", () => this.onPeerEnd(lane, socket));
    socket.on("error", () => {
      errorSeen = true;
    });
    socket.on("close", () => {
      this.closing.delete(socket);
      if (lane.socket !== socket) return;
      // Closed under us: refused or failed while connecting, else reset (or a write failed).
      const kind: BenchErrorKind = lane.state === "connecting" ? "connect" : "reset";
      if (errorSeen || lane.state === "connecting" || lane.sent > 0)
        this.failConnection(lane, kind);
      else this.dropConnection(lane);
    });
  }

  private onRead(lane: Lane, socket: Socket, bytes: number): void {
    if (lane.socket !== socket) return;
    this.bytesRead += bytes;
    const nowMs = performance.now();
    const { framer } = lane;
    framer.push(this.readBuffer.subarray(0, bytes));
    for (;;) {
      if (lane.sent === 0 && !framer.isIdle) {
        // Bytes beyond the responses to every request sent: not HTTP as we know it.
        this.failConnection(lane, "parse");
        return;
      }
      const result = lane.sent === 0 ? NEED_MORE : framer.next(this.options.isHead);
      switch (result.kind) {
        case "need-more":
          lane.lastProgressMs = nowMs;
          this.pump(lane);
          return;
        case "error":
          this.failConnection(lane, "parse");
          return;
        case "response":
          this.countResponse(lane, result.status, nowMs);
          if (result.closeAfter || this.options.close) {
            this.retireConnection(lane);
            this.pump(lane);
            return;
          }
      }
    }
  }

  private countResponse(lane: Lane, status: number, nowMs: number): void {
    const depth = this.options.pipeline;
    this.histogram.record((nowMs - (lane.startTimesMs[lane.head] ?? nowMs)) * 1000);
    this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    this.responses++;
    lane.head = (lane.head + 1) % depth;
    lane.held--;
    lane.sent--;
    lane.rotationAt = (lane.rotationAt + 1) % this.options.rotation.size;
  }

  /** The server's FIN: the end of a close-delimited body, a truncated response, or a close
   * between responses (an idle keep-alive connection timing out is no error). */
  private onPeerEnd(lane: Lane, socket: Socket): void {
    if (lane.socket !== socket) return;
    const ended = lane.framer.end();
    if (ended.kind === "error") {
      this.failConnection(lane, "parse");
      return;
    }
    if (ended.kind === "response") {
      this.countResponse(lane, ended.status, performance.now());
      this.retireConnection(lane);
      this.pump(lane);
      return;
    }
    if (lane.sent > 0) this.failConnection(lane, "reset");
    else this.dropConnection(lane);
  }

  /** The server announced its close: let it close, and send the unanswered requests again. */
  private retireConnection(lane: Lane): void {
    const socket = lane.socket;
    lane.socket = null;
    lane.state = "idle";
    lane.sent = 0;
    if (socket === null || socket.destroyed) return;
    this.closing.add(socket);
    // A server that announced a close but does not close is not waited for past the timeout.
    const timer = setTimeout(() => socket.destroy(), this.options.timeoutMs);
    socket.once("close", () => clearTimeout(timer));
  }

  /** Lets go of the lane's connection (closed with no request lost, or failed and accounted by
   * failConnection) and opens another when there is work. */
  private dropConnection(lane: Lane): void {
    const socket = lane.socket;
    lane.socket = null;
    lane.state = "idle";
    lane.sent = 0;
    socket?.destroy();
    this.pump(lane);
  }

  /** The connection failed: each request it held that was sent (every one, for a failed
   * connect) ends as an error of `kind`. Requests not yet sent wait for the next connection. */
  private failConnection(lane: Lane, kind: BenchErrorKind): void {
    if (this.stopped) return;
    const failed = kind === "connect" ? lane.held : lane.sent;
    this.errors[kind] += failed;
    lane.head = (lane.head + failed) % this.options.pipeline;
    lane.held -= failed;
    lane.rotationAt = (lane.rotationAt + failed) % this.options.rotation.size;
    this.dropConnection(lane);
  }

  // ---------------------------------------------------------------------------------------------
  // Time and the end of the run

  private tick(): void {
    const nowMs = performance.now();
    const { timeoutMs } = this.options;
    for (const lane of this.lanes) {
      const waiting = lane.state === "connecting" || (lane.state === "open" && lane.sent > 0);
      if (waiting && nowMs - lane.lastProgressMs > timeoutMs) {
        this.failConnection(lane, lane.state === "connecting" ? "connect" : "timeout");
      }
    }
    if (
      this.options.onProgress !== undefined &&
      nowMs - this.lastProgressReportMs >= PROGRESS_INTERVAL_MS
    ) {
      this.lastProgressReportMs = nowMs;
      this.options.onProgress({
        elapsedMs: nowMs - this.startMs,
        responses: this.responses,
        errors: this.errors.connect + this.errors.reset + this.errors.timeout + this.errors.parse,
      });
    }
  }

  private finishLane(lane: Lane): void {
    if (lane.state === "finished") return;
    this.closeLane(lane);
    this.activeLanes--;
    if (this.activeLanes === 0) this.stop();
  }

  private closeLane(lane: Lane): void {
    lane.state = "finished";
    if (lane.timer !== null) clearTimeout(lane.timer);
    lane.timer = null;
    const socket = lane.socket;
    lane.socket = null;
    socket?.destroy();
  }

  /** Ends the run: at the deadline, on abort, or once every lane has finished. Requests still
   * in flight at a deadline are not counted, as wrk does not count them. */
  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.endMs = performance.now();
    if (this.deadline !== null) clearTimeout(this.deadline);
    if (this.ticker !== null) clearInterval(this.ticker);
    for (const lane of this.lanes) this.closeLane(lane);
    for (const socket of this.closing) socket.destroy();
    this.closing.clear();
    const statusCounts = new Map<number, number>();
    this.statusCounts.forEach((count, status) => {
      if (count > 0) statusCounts.set(status, count);
    });
    this.resolveRun?.({
      responses: this.responses,
      durationMs: this.endMs - this.startMs,
      bytesRead: this.bytesRead,
      histogram: this.histogram,
      statusCounts,
      errors: { ...this.errors },
    });
  }
}
