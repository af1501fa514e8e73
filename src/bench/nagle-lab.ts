/**
 * `berth bench nagle`: what Nagle's algorithm and delayed ACKs do to a request written in two
 * small pieces, measured against `berth echo --framing length`.
 *
 * A round trip sends one frame (5-byte header, then the payload) and waits for its whole echo.
 * With Nagle on (TCP_NODELAY off), RFC 896 / RFC 1122 §4.2.3.4: a small segment may not be sent
 * while earlier data is unacknowledged. The header goes out at once (nothing is in flight); the
 * payload waits for the header's ACK. The echo server cannot answer before the whole frame is
 * there, so it has no data to carry that ACK, and the receiver delays a lone ACK (RFC 1122
 * §4.2.3.2; Linux waits at least 40 ms, TCP_DELACK_MIN) hoping for data to piggyback on. Each
 * round trip stalls ~40 ms. TCP_NODELAY sends the payload at once; one coalesced write (the
 * whole frame in one buffer, or writev/cork) avoids the second small segment altogether.
 *
 * Every mode gets a fresh connection, so each starts from the same TCP state.
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { encodeFrame, encodeFrameHeader, FrameDecoder } from "../net/frame-codec.js";
import { LatencyHistogram } from "./histogram.js";
import { createNagleRow, type NagleMode, type NagleRow } from "./summary.js";

export const DEFAULT_ROUND_TRIPS = 200;
/** A small payload: well under one MSS, as an RPC request or a keystroke batch is. */
export const DEFAULT_NAGLE_PAYLOAD_BYTES = 64;
/** A round trip not answered within this is an error: the peer is not a length-framed echo. */
export const DEFAULT_ROUND_TRIP_TIMEOUT_MS = 5000;
/** The message type of the frames sent; echoed back unchanged. */
const FRAME_TYPE = 1;

export interface NagleCase {
  readonly mode: NagleMode;
  readonly nodelay: boolean;
}

/** The table's rows, in order: the stall, its two cures. */
export const NAGLE_CASES: readonly NagleCase[] = [
  { mode: "write-write-read", nodelay: false },
  { mode: "write-write-read", nodelay: true },
  { mode: "single-write", nodelay: false },
  { mode: "single-write", nodelay: true },
];

export interface NagleLabOptions {
  /** An IP address (resolve names before) and port of `berth echo --framing length`. */
  readonly host: string;
  readonly port: number;
  readonly roundTrips: number;
  readonly payloadBytes: number;
  readonly roundTripTimeoutMs: number;
  readonly cases?: readonly NagleCase[];
  /** Told after each case, for a progress line. */
  readonly onCase?: (row: NagleRow) => void;
}

export type NagleLabResult =
  | { readonly kind: "rows"; readonly rows: readonly NagleRow[] }
  | { readonly kind: "error"; readonly message: string };

export async function runNagleLab(options: NagleLabOptions): Promise<NagleLabResult> {
  const rows: NagleRow[] = [];
  for (const labCase of options.cases ?? NAGLE_CASES) {
    const measured = await measureCase(labCase, options);
    if (measured.kind === "error") return measured;
    const row = createNagleRow(labCase.mode, labCase.nodelay, measured.histogram);
    options.onCase?.(row);
    rows.push(row);
  }
  return { kind: "rows", rows };
}

type CaseResult =
  | { readonly kind: "measured"; readonly histogram: LatencyHistogram }
  | { readonly kind: "error"; readonly message: string };

async function measureCase(labCase: NagleCase, options: NagleLabOptions): Promise<CaseResult> {
  const where = `${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
  const opened = await openSocket(options.host, options.port, labCase.nodelay);
  if (opened.kind === "error")
    return { kind: "error", message: `Cannot connect to ${where}: ${opened.message}` };
  const echo = new EchoReader(opened.socket, options.payloadBytes);
  const payload = Buffer.alloc(options.payloadBytes, 0x78);
  const header = encodeFrameHeader(FRAME_TYPE, payload.length);
  const frame = encodeFrame(FRAME_TYPE, payload);
  const histogram = new LatencyHistogram();
  try {
    for (let i = 0; i < options.roundTrips; i++) {
      const reply = echo.nextFrame(options.roundTripTimeoutMs);
      const startMs = performance.now();
      if (labCase.mode === "single-write") {
        opened.socket.write(frame);
      } else {
        // The payload is written once the header's write has completed, so the two are two
        // send()s and never one writev (Node could gather writes queued in the same tick).
        opened.socket.write(header, () => opened.socket.write(payload));
      }
      const outcome = await reply;
      if (outcome !== "frame") {
        return {
          kind: "error",
          message: `${where}: ${outcome} (is it berth echo --framing length?)`,
        };
      }
      histogram.record((performance.now() - startMs) * 1000);
    }
  } finally {
    opened.socket.destroy();
  }
  return { kind: "measured", histogram };
}

type Opened =
  | { readonly kind: "socket"; readonly socket: Socket }
  | { readonly kind: "error"; readonly message: string };

function openSocket(host: string, port: number, nodelay: boolean): Promise<Opened> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      resolve({ kind: "error", message: error.code ?? error.message });
    });
    socket.once("connect", () => {
      // Set both ways explicitly: setNoDelay(false) alone is skipped by Node when it believes
      // the option already off, and a runtime or kernel default could differ from that belief.
      socket.setNoDelay(true);
      if (!nodelay) socket.setNoDelay(false);
      resolve({ kind: "socket", socket });
    });
  });
}

type ReplyOutcome =
  | "frame"
  | `no echo within ${number} ms`
  | "the connection closed"
  | "an echoed frame of the wrong size";

/** Reads echoed frames; one pending wait at a time. */
class EchoReader {
  private readonly decoder: FrameDecoder;
  private framesReady = 0;
  private closed = false;
  private wrongSize = false;
  private waiter: ((outcome: ReplyOutcome) => void) | null = null;

  constructor(
    socket: Socket,
    private readonly payloadBytes: number,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: payloadBytes });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => this.onClose());
    socket.on("close", () => this.onClose());
  }

  /** Resolves once the next whole frame is back, or why it will not be. */
  nextFrame(timeoutMs: number): Promise<ReplyOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(`no echo within ${timeoutMs} ms`), timeoutMs);
      const settle = (outcome: ReplyOutcome): void => {
        clearTimeout(timer);
        this.waiter = null;
        resolve(outcome);
      };
      this.waiter = settle;
      this.check();
    });
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (
      let result = this.decoder.next();
      result.kind !== "need-more";
      result = this.decoder.next()
    ) {
      if (result.kind === "error" || result.frame.payload.length !== this.payloadBytes) {
        this.wrongSize = true;
        break;
      }
      this.framesReady++;
    }
    this.check();
  }

  private onClose(): void {
    this.closed = true;
    this.check();
  }

  private check(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    if (this.framesReady > 0) {
      this.framesReady--;
      waiter("frame");
    } else if (this.wrongSize) {
      waiter("an echoed frame of the wrong size");
    } else if (this.closed) {
      waiter("the connection closed");
    }
  }
}
