/**
 * Length-prefixed framing. Pure: bytes in, frames out, no I/O.
 *
 * Wire format: a 4-byte big-endian unsigned payload length, a 1-byte message type, then the
 * payload; the length counts the payload only, and zero is a valid length.
 *
 * push(chunk) queues a chunk of any size without copying it; next() returns one result at a time:
 * a frame, need-more, or a sticky error. The limit is judged as soon as the 5-byte header is
 * complete, before any payload byte is kept. A payload that lies inside one pushed chunk comes back
 * as a view of that chunk (no copy); one that straddles chunks is copied once, chunk by chunk,
 * into a buffer allocated when its first byte arrives, so assembling a frame is linear in its size.
 * Returned payloads are never written to again; callers must not modify chunks they pushed.
 * Every answer is the same whatever the chunking (STYLE.md rule 9).
 */

/** Payload length (4 bytes) + message type (1 byte). */
export const FRAME_HEADER_BYTES = 5;

/** Default largest payload accepted (--max-frame-bytes): 16 MiB. A frame is held whole before it
 * is returned, so this bounds the memory one connection can make us allocate. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Largest payload the 4-byte length field can declare. */
export const MAX_ENCODABLE_PAYLOAD_BYTES = 0xffff_ffff;

/** Largest message type the 1-byte type field can carry. */
export const MAX_FRAME_TYPE = 0xff;

export interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

export type FrameDecoderErrorCode = "FRAME_TOO_LARGE";

export type FrameResult =
  | { readonly kind: "need-more" }
  | { readonly kind: "frame"; readonly frame: Frame }
  | {
      readonly kind: "error";
      readonly code: FrameDecoderErrorCode;
      readonly declaredBytes: number;
    };

export interface FrameDecoderOptions {
  /** Largest payload accepted; a header declaring more → FRAME_TOO_LARGE. */
  readonly maxFrameBytes?: number;
}

/** Where the decoder is in the frame grammar. */
type DecoderPhase = "header" | "payload" | "dead";

const NEED_MORE: FrameResult = Object.freeze({ kind: "need-more" });
const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  readonly maxFrameBytes: number;

  private phase: DecoderPhase = "header";
  private failure: FrameResult | null = null;

  // Pushed chunks not yet read: queue[0][chunkPos..], queue[1], ...
  private readonly queue: Buffer[] = [];
  private chunkPos = 0;
  private queuedBytes = 0;

  // A header split across chunks is gathered here.
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;

  // The frame in progress, once its header is known.
  private frameType = 0;
  private payloadBytes = 0;
  private payload: Buffer = EMPTY;
  private payloadFill = 0;

  constructor(options: FrameDecoderOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 0) {
      throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /** True between frames (nothing partial buffered) — at EOF, false means a truncated frame.
   * False after an error. */
  get isIdle(): boolean {
    return this.phase === "header" && this.headerFill === 0 && this.queuedBytes === 0;
  }

  /** Queues a chunk; it is read, not copied, so the caller must not modify it afterwards. After an
   * error, chunks are dropped: nothing more will be read. */
  push(chunk: Buffer): void {
    if (this.failure !== null || chunk.length === 0) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
  }

  next(): FrameResult {
    if (this.failure !== null) return this.failure;
    if (this.phase === "header") {
      const headerResult = this.readHeader();
      if (headerResult !== null) return headerResult;
    }
    return this.readPayload();
  }

  /** Reads the header; null once it is complete and accepted (the phase is then "payload"). */
  private readHeader(): FrameResult | null {
    const chunk = this.queue[0];
    if (chunk === undefined) return NEED_MORE;
    let source: Buffer = this.header;
    let at = 0;
    if (this.headerFill === 0 && chunk.length - this.chunkPos >= FRAME_HEADER_BYTES) {
      // Common case: the whole header is in one chunk, read it in place.
      source = chunk;
      at = this.chunkPos;
      this.consume(chunk, FRAME_HEADER_BYTES);
    } else {
      if (!this.fillHeader()) return NEED_MORE;
      this.headerFill = 0;
    }
    const declaredBytes = source.readUInt32BE(at);
    // Judged before any payload byte is kept: an oversized frame costs us five bytes.
    if (declaredBytes > this.maxFrameBytes) return this.fail(declaredBytes);
    this.frameType = source.readUInt8(at + 4);
    this.payloadBytes = declaredBytes;
    this.payloadFill = 0;
    this.phase = "payload";
    return null;
  }

  /** Copies queued bytes into the header; true once it holds all five. */
  private fillHeader(): boolean {
    for (;;) {
      if (this.headerFill === FRAME_HEADER_BYTES) return true;
      const chunk = this.queue[0];
      if (chunk === undefined) return false;
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - this.chunkPos);
      chunk.copy(this.header, this.headerFill, this.chunkPos, this.chunkPos + take);
      this.headerFill += take;
      this.consume(chunk, take);
    }
  }

  private readPayload(): FrameResult {
    const total = this.payloadBytes;
    if (this.payloadFill === 0) {
      // No byte of this payload has arrived yet: it may lie whole inside the next chunk.
      if (total === 0) return this.completeFrame(EMPTY);
      const chunk = this.queue[0];
      if (chunk === undefined) return NEED_MORE;
      if (chunk.length - this.chunkPos >= total) {
        const view = chunk.subarray(this.chunkPos, this.chunkPos + total);
        this.consume(chunk, total);
        return this.completeFrame(view);
      }
      // Allocated once, when the first byte arrives: a bare header costs no allocation.
      this.payload = Buffer.allocUnsafe(total);
    }
    for (;;) {
      if (this.payloadFill === total) {
        const payload = this.payload;
        this.payload = EMPTY;
        return this.completeFrame(payload);
      }
      const chunk = this.queue[0];
      if (chunk === undefined) return NEED_MORE;
      const take = Math.min(total - this.payloadFill, chunk.length - this.chunkPos);
      chunk.copy(this.payload, this.payloadFill, this.chunkPos, this.chunkPos + take);
      this.payloadFill += take;
      this.consume(chunk, take);
    }
  }

  private completeFrame(payload: Buffer): FrameResult {
    this.phase = "header";
    this.payloadBytes = 0;
    this.payloadFill = 0;
    return { kind: "frame", frame: { type: this.frameType, payload } };
  }

  /** Marks `bytes` of the queue's first chunk as read, dropping the chunk once it is used up. */
  private consume(chunk: Buffer, bytes: number): void {
    this.chunkPos += bytes;
    this.queuedBytes -= bytes;
    if (this.chunkPos === chunk.length) {
      this.queue.shift();
      this.chunkPos = 0;
    }
  }

  private fail(declaredBytes: number): FrameResult {
    this.failure = Object.freeze({ kind: "error", code: "FRAME_TOO_LARGE", declaredBytes });
    this.phase = "dead";
    this.queue.length = 0;
    this.chunkPos = 0;
    this.queuedBytes = 0;
    this.payload = EMPTY;
    return this.failure;
  }
}

/** One buffer: header + payload (one write per frame); a string payload is sent as UTF-8.
 * Throws RangeError for a type outside 0..255 or a payload over 2^32-1 bytes (our bug, not a
 * peer's). */
export function encodeFrame(type: number, payload: Buffer | string): Buffer {
  assertFrameType(type);
  const payloadBytes =
    typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.length;
  assertPayloadBytes(payloadBytes);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  writeHeader(frame, type, payloadBytes);
  if (typeof payload === "string") frame.write(payload, FRAME_HEADER_BYTES, "utf8");
  else payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** Header alone, for callers that write header and payload separately (the Nagle demonstration
 * does exactly that). Throws RangeError like encodeFrame. */
export function encodeFrameHeader(type: number, payloadBytes: number): Buffer {
  assertFrameType(type);
  assertPayloadBytes(payloadBytes);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeHeader(header, type, payloadBytes);
  return header;
}

function writeHeader(target: Buffer, type: number, payloadBytes: number): void {
  target.writeUInt32BE(payloadBytes, 0);
  target.writeUInt8(type, 4);
}

function assertFrameType(type: number): void {
  if (!Number.isInteger(type) || type < 0 || type > MAX_FRAME_TYPE) {
    throw new RangeError(`frame type must be an integer in 0..${MAX_FRAME_TYPE}, got ${type}`);
  }
}

function assertPayloadBytes(payloadBytes: number): void {
  if (
    !Number.isInteger(payloadBytes) ||
    payloadBytes < 0 ||
    payloadBytes > MAX_ENCODABLE_PAYLOAD_BYTES
  ) {
    throw new RangeError(
      `frame payload must be 0..${MAX_ENCODABLE_PAYLOAD_BYTES} bytes, got ${payloadBytes}`,
    );
  }
}
