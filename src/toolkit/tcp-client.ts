/**
 * The TCP (and Unix socket) side of `berth connect`: connect with Happy Eyeballs under one
 * deadline, then pump stdin → socket and socket → stdout through the framing codecs, with
 * backpressure both ways: a side whose destination is full is paused until it drains, so nothing
 * is buffered beyond one chunk (plus a line or frame the codec is assembling).
 */
import { connect as netConnect, type Socket } from "node:net";
import type { Duplex, Readable, Writable } from "node:stream";
import type { Tracer } from "../net/trace.js";
import { createInboundCodec, createOutboundCodec, type FramingOptions } from "./client-framing.js";
import {
  type ConnectTarget,
  describeSocketError,
  formatConnectAddress,
  formatConnectTarget,
  formatRaceFailure,
  type LookupAll,
  resolveConnectAddresses,
  systemLookup,
} from "./connect-target.js";
import {
  type ConnectAddress,
  connectHappyEyeballs,
  type HappyEyeballsResult,
} from "./happy-eyeballs.js";

export interface StreamConnectOptions {
  /** Bounds the whole connect, name resolution included. */
  readonly connectTimeoutMs: number;
  readonly attemptDelayMs: number;
  readonly lookup?: LookupAll;
  readonly connect?: (address: ConnectAddress, signal: AbortSignal) => Promise<Socket>;
  readonly onAttempt?: (address: ConnectAddress) => void;
  /** --trace: each attempt, its outcome, as connection #1. Absent: no trace work at all. */
  readonly trace?: Tracer;
}

/** The connection's number in trace lines: berth connect has one. */
export const TRACE_ID = 1;

export type StreamConnectResult =
  | { readonly kind: "connected"; readonly socket: Socket; readonly address: ConnectAddress }
  /** A whole one-line message: `Cannot connect to example:80: connection refused (tried …)`. */
  | { readonly kind: "error"; readonly message: string };

/** Resolves the target and races its addresses; never rejects. */
export async function connectStream(
  target: ConnectTarget,
  options: StreamConnectOptions,
): Promise<StreamConnectResult> {
  const fail = (reason: string): StreamConnectResult => ({
    kind: "error",
    message: `Cannot connect to ${formatConnectTarget(target)}: ${reason}`,
  });
  const startMs = performance.now();
  const resolved = await withDeadline(
    resolveConnectAddresses(target, options.lookup ?? systemLookup),
    options.connectTimeoutMs,
  );
  if (resolved === null) {
    return fail(`timed out after ${options.connectTimeoutMs} ms resolving the name`);
  }
  if (resolved.kind === "error") return fail(resolved.reason);
  const remainingMs = Math.max(0, options.connectTimeoutMs - (performance.now() - startMs));
  const connect = options.connect ?? connectSocket;
  const { trace } = options;
  const race = await connectHappyEyeballs(resolved.addresses, {
    connect: trace === undefined ? connect : traceAttempts(connect, trace),
    attemptDelayMs: options.attemptDelayMs,
    timeoutMs: remainingMs,
    ...(options.onAttempt === undefined ? {} : { onAttempt: options.onAttempt }),
  });
  if (race.kind === "connected") return race;
  // The message names the deadline the user set, not what was left of it after resolving.
  const reported: Exclude<HappyEyeballsResult<Socket>, { kind: "connected" }> = race.kind ===
  "timed-out"
    ? { ...race, timeoutMs: options.connectTimeoutMs }
    : race;
  return fail(formatRaceFailure(target, reported));
}

/** Wraps an attempt with "trying", "connected to" and "attempt to … failed" trace lines. */
function traceAttempts(
  connect: (address: ConnectAddress, signal: AbortSignal) => Promise<Socket>,
  trace: Tracer,
): (address: ConnectAddress, signal: AbortSignal) => Promise<Socket> {
  return async (address, signal) => {
    const where = formatConnectAddress(address);
    trace(TRACE_ID, `trying ${where}`);
    try {
      const socket = await connect(address, signal);
      trace(TRACE_ID, `connected to ${where}`);
      return socket;
    } catch (error) {
      const reason = signal.aborted
        ? "aborted (the race was decided)"
        : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      trace(TRACE_ID, `attempt to ${where} failed: ${reason}`);
      throw error;
    }
  };
}

/** One real connection attempt. allowHalfOpen: the peer's FIN must not end our side for us (we
 * decide when to stop), and our stdin EOF must be able to end our side alone. */
export function connectSocket(address: ConnectAddress, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      address.kind === "unix"
        ? netConnect({ path: address.path, allowHalfOpen: true })
        : netConnect({
            host: address.host,
            port: address.port,
            family: address.family,
            allowHalfOpen: true,
          });
    const cleanup = (): void => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      signal.removeEventListener("abort", onAbort);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(new Error("connection attempt aborted"));
    };
    socket.once("connect", onConnect);
    socket.once("error", onError);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves with the promise's value, or null when `timeoutMs` passes first. */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The session

export interface StreamSessionOptions extends FramingOptions {
  /** Called once stdin has ended and our side of the connection was closed (half-close). */
  readonly onInputEnd?: () => void;
  /** --trace: a line per socket event, as connection #1. Absent: no trace work at all. */
  readonly trace?: Tracer;
}

/** How a session ended. Only peer-closed and output-closed are a success. */
export type StreamSessionEnd =
  /** The peer closed its side (FIN) and everything received was printed. */
  | { readonly kind: "peer-closed" }
  /** stdout went away (a reader like `head` exited): nothing more can be printed. */
  | { readonly kind: "output-closed" }
  | { readonly kind: "socket-error"; readonly reason: string }
  /** A framing limit was crossed (by a stdin line or by what the peer sent) or a frame was cut
   * short; the message is one line. */
  | { readonly kind: "protocol-error"; readonly from: "stdin" | "peer"; readonly message: string }
  | { readonly kind: "input-error"; readonly reason: string };

/**
 * Pumps `input` → `socket` and `socket` → `output` until the peer closes or something fails.
 * stdin EOF half-closes the connection (socket.end()) and reading goes on. Resolves once
 * `output` has taken every byte printed; the socket is destroyed by then, and `input` is paused
 * with its listeners removed (the caller owns it).
 */
export function runStreamSession(
  socket: Duplex,
  input: Readable,
  output: Writable,
  options: StreamSessionOptions,
): Promise<StreamSessionEnd> {
  return new Promise((resolve) => {
    const outbound = createOutboundCodec(options);
    const inbound = createInboundCodec(options);
    const { trace } = options;
    let done = false;
    // Which side we paused for backpressure; each is resumed only by its destination's drain.
    let inputPaused = false;
    let socketPaused = false;

    const finish = (end: StreamSessionEnd): void => {
      if (done) return;
      done = true;
      trace?.(TRACE_ID, `closed (${describeSessionEnd(end)})`);
      input.off("data", onInputData);
      input.off("end", onInputEnd);
      input.off("error", onInputError);
      input.pause();
      socket.off("data", onSocketData);
      socket.off("end", onSocketEnd);
      socket.off("drain", onSocketDrain);
      output.off("drain", onOutputDrain);
      // The error listeners stay: an error while closing (a reset) then changes nothing, and
      // is not thrown for want of a listener.
      socket.destroy();
      if (end.kind === "output-closed") resolve(end);
      else output.write(EMPTY, () => resolve(end));
    };

    const print = (bytes: Buffer): void => {
      if (bytes.length === 0 || done) return;
      if (!output.write(bytes) && !socketPaused) {
        socketPaused = true;
        socket.pause();
      }
    };
    const onOutputDrain = (): void => {
      if (!socketPaused) return;
      socketPaused = false;
      socket.resume();
    };
    const onSocketData = (chunk: Buffer): void => {
      trace?.(TRACE_ID, `read ${chunk.length} B`);
      const step = inbound.push(chunk);
      print(step.bytes);
      if (step.error !== null)
        finish({ kind: "protocol-error", from: "peer", message: step.error });
    };
    const onSocketEnd = (): void => {
      trace?.(TRACE_ID, "peer FIN (half-close)");
      const step = inbound.end();
      print(step.bytes);
      finish(
        step.error === null
          ? { kind: "peer-closed" }
          : { kind: "protocol-error", from: "peer", message: step.error },
      );
    };
    const onSocketError = (error: NodeJS.ErrnoException): void => {
      trace?.(TRACE_ID, `socket error ${error.code ?? error.message}`);
      finish({ kind: "socket-error", reason: describeSocketError(error) });
    };

    const send = (bytes: Buffer): void => {
      if (bytes.length === 0) return;
      const flushed = socket.write(bytes);
      trace?.(
        TRACE_ID,
        `write ${bytes.length} B${flushed ? "" : `, socket buffer full (${socket.writableLength} B queued): waiting for drain`}`,
      );
      if (!flushed && !inputPaused) {
        inputPaused = true;
        input.pause();
      }
    };
    const onSocketDrain = (): void => {
      trace?.(TRACE_ID, "drain");
      if (!inputPaused) return;
      inputPaused = false;
      input.resume();
    };
    const onInputData = (chunk: Buffer): void => {
      const step = outbound.push(chunk);
      send(step.bytes);
      if (step.error !== null)
        finish({ kind: "protocol-error", from: "stdin", message: step.error });
    };
    const onInputEnd = (): void => {
      const step = outbound.end();
      send(step.bytes);
      if (step.error !== null) {
        finish({ kind: "protocol-error", from: "stdin", message: step.error });
        return;
      }
      socket.end();
      trace?.(TRACE_ID, "stdin EOF: FIN sent (half-close)");
      options.onInputEnd?.();
    };
    const onInputError = (error: Error): void => {
      finish({ kind: "input-error", reason: describeSocketError(error) });
    };
    const onOutputError = (): void => {
      finish({ kind: "output-closed" });
    };

    output.on("error", onOutputError);
    output.on("drain", onOutputDrain);
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("error", onSocketError);
    socket.on("drain", onSocketDrain);
    input.on("data", onInputData);
    input.on("end", onInputEnd);
    input.on("error", onInputError);
  });
}

/** Why the session ended, as --trace's "closed (…)" names it. */
function describeSessionEnd(end: StreamSessionEnd): string {
  switch (end.kind) {
    case "peer-closed":
      return "peer FIN";
    case "output-closed":
      return "stdout closed";
    case "socket-error":
      return end.reason;
    case "protocol-error":
      return `${end.from === "peer" ? "peer" : "stdin"} protocol error: ${end.message}`;
    case "input-error":
      return `stdin error: ${end.reason}`;
  }
}

const EMPTY = Buffer.alloc(0);
