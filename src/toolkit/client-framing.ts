/**
 * What `berth connect --framing` does to each direction of a TCP session, as pure codecs: bytes
 * in, bytes out, no I/O. The outbound codec turns stdin into what is sent; the inbound codec turns
 * what is received into what is printed.
 *
 *   raw     both directions byte for byte
 *   line    stdin lines (LF or CRLF) are sent ending in LF; whole received lines are printed
 *           ending in LF, never a partial one (an unterminated last line is printed at EOF)
 *   length  each stdin line is sent as one frame (frame-codec.ts) of type frameType; each
 *           received frame is printed as one line in frameFormat:
 *             text  the payload as it is
 *             hex   TYPE:HEX, e.g. 1:68690a
 *             json  {"type":1,"bytes":3,"payload":"hi\n"} (payload decoded as UTF-8, invalid
 *                   sequences become U+FFFD; bytes is the exact payload length)
 *
 * Lines are held until complete, so their length is bounded by maxLineBytes; frames by
 * maxFrameBytes. Crossing a limit is an error step, after which the codec yields nothing more.
 */
import { encodeFrame, type Frame, FrameDecoder } from "../net/frame-codec.js";
import { LineSplitter } from "../net/line-splitter.js";

export const FRAMINGS = ["raw", "line", "length"] as const;
export type Framing = (typeof FRAMINGS)[number];

export const FRAME_FORMATS = ["text", "hex", "json"] as const;
export type FrameFormat = (typeof FRAME_FORMATS)[number];

/** The message type stdin lines are sent with by default (--frame-type). */
export const DEFAULT_FRAME_TYPE = 1;

export interface FramingOptions {
  readonly framing: Framing;
  readonly frameType: number;
  readonly frameFormat: FrameFormat;
  readonly maxFrameBytes: number;
  readonly maxLineBytes: number;
}

/** What one push or end produced: bytes to pass on (possibly none), then maybe an error that
 * ends the session. */
export interface CodecStep {
  readonly bytes: Buffer;
  readonly error: string | null;
}

export interface StreamCodec {
  push(chunk: Buffer): CodecStep;
  /** End of input: whatever was held back, or an error for a truncated frame. */
  end(): CodecStep;
}

const LF = Buffer.from("\n");
const EMPTY = Buffer.alloc(0);
const NOTHING: CodecStep = Object.freeze({ bytes: EMPTY, error: null });

/** stdin → socket. */
export function createOutboundCodec(options: FramingOptions): StreamCodec {
  switch (options.framing) {
    case "raw":
      return RAW_CODEC;
    case "line":
      return createLineCodec(options.maxLineBytes, "a stdin line", (line) => [line, LF]);
    case "length":
      return createLineCodec(options.maxLineBytes, "a stdin line", (line) => [
        encodeFrame(options.frameType, line),
      ]);
  }
}

/** socket → stdout. */
export function createInboundCodec(options: FramingOptions): StreamCodec {
  switch (options.framing) {
    case "raw":
      return RAW_CODEC;
    case "line":
      return createLineCodec(options.maxLineBytes, "a received line", (line) => [line, LF]);
    case "length":
      return createFrameCodec(options.maxFrameBytes, options.frameFormat);
  }
}

/** One received frame as the line printed for it (LF included). */
export function formatFrame(frame: Frame, format: FrameFormat): Buffer {
  switch (format) {
    case "text":
      return Buffer.concat([frame.payload, LF]);
    case "hex":
      return Buffer.from(`${frame.type}:${frame.payload.toString("hex")}\n`);
    case "json": {
      const record = {
        type: frame.type,
        bytes: frame.payload.length,
        payload: frame.payload.toString("utf8"),
      };
      return Buffer.from(`${JSON.stringify(record)}\n`);
    }
  }
}

const RAW_CODEC: StreamCodec = Object.freeze({
  push: (chunk: Buffer): CodecStep => ({ bytes: chunk, error: null }),
  end: (): CodecStep => NOTHING,
});

function createLineCodec(
  maxLineBytes: number,
  what: string,
  encode: (line: Buffer) => Buffer[],
): StreamCodec {
  const splitter = new LineSplitter({ maxLineBytes });
  let ended = false;
  const drain = (): CodecStep => {
    const parts: Buffer[] = [];
    for (;;) {
      const result = ended ? splitter.end() : splitter.next();
      switch (result.kind) {
        case "line":
          parts.push(...encode(result.line));
          break;
        case "need-more":
          return { bytes: concat(parts), error: null };
        case "error":
          return {
            bytes: concat(parts),
            error: `${what} is longer than --max-line-bytes (${maxLineBytes})`,
          };
      }
    }
  };
  return {
    push(chunk) {
      if (ended) throw new Error("line codec: push() after end()");
      splitter.push(chunk);
      return drain();
    },
    end() {
      ended = true;
      return drain();
    },
  };
}

function createFrameCodec(maxFrameBytes: number, format: FrameFormat): StreamCodec {
  const decoder = new FrameDecoder({ maxFrameBytes });
  const drain = (): CodecStep => {
    const parts: Buffer[] = [];
    for (;;) {
      const result = decoder.next();
      switch (result.kind) {
        case "frame":
          parts.push(formatFrame(result.frame, format));
          break;
        case "need-more":
          return { bytes: concat(parts), error: null };
        case "error":
          return {
            bytes: concat(parts),
            error: `received a frame of ${result.declaredBytes} bytes, over --max-frame-bytes (${maxFrameBytes})`,
          };
      }
    }
  };
  return {
    push(chunk) {
      decoder.push(chunk);
      return drain();
    },
    end() {
      // push() drained every complete frame, so anything left is a frame cut short.
      if (decoder.isIdle) return NOTHING;
      return { bytes: EMPTY, error: "the connection closed in the middle of a frame" };
    },
  };
}

function concat(parts: readonly Buffer[]): Buffer {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0] ?? EMPTY;
  return Buffer.concat(parts);
}
