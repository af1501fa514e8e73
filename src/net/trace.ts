/**
 * --trace: one line per socket event, so a user can see what really happens on the wire (chunk
 * boundaries as they arrived, partial writes and drains, who closed and why). Off by default, and
 * then free: every call site checks `trace !== null` before building a line.
 */
export type Tracer = (connectionId: number, event: string) => void;

/** Writes "trace HH:MM:SS.mmm #ID event" lines to a stream (stderr for the CLI). */
export function createStreamTracer(
  stream: NodeJS.WritableStream,
  nowMs: () => number = Date.now,
): Tracer {
  return (connectionId, event) => {
    const time = new Date(nowMs()).toISOString().slice(11, 23);
    stream.write(`trace ${time} #${connectionId} ${event}\n`);
  };
}

/** Why a connection ended, as the trace and logs name it. */
export type CloseReason =
  | "peer FIN"
  | "peer reset"
  | "Connection: close"
  | "keep-alive timeout"
  | "header timeout"
  | "body timeout"
  | "send timeout"
  | "parse error"
  | "body framing error"
  | "shutdown"
  | "file error"
  | "socket error";
