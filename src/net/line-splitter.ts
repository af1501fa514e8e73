/**
 * Incremental line splitter for line-oriented protocols (echo, chat). Pure: bytes in, lines out,
 * no I/O.
 *
 * push(chunk) queues a chunk of any size without copying it; next() returns one result at a time:
 * a line, need-more, or a sticky error. A line ends at LF; a CR right before that LF belongs to the
 * terminator ("crlf"), a CR anywhere else is data. At end of input, end() hands back an
 * unterminated last line once (ending "eof").
 *
 * A line that lies inside one pushed chunk comes back as a view of that chunk (no copy); a line
 * that straddles chunks is assembled in an owned buffer, growing by doubling, and comes back as a
 * copy. Either way it stays valid after later pushes, provided callers do not modify the chunks
 * they pushed (socket chunks are never reused).
 *
 * The limit is enforced before the terminator arrives: the owned buffer never holds more than
 * maxLineBytes + 1 bytes, the extra byte being the CR of a line exactly at the limit whose LF has
 * not arrived yet. Every answer is the same whatever the chunking (STYLE.md rule 9).
 */

/** How a returned line ended: "eof" is an unterminated last line handed back by end(). */
export type LineEnding = "lf" | "crlf" | "eof";

/** Default longest line accepted, without its terminator. 64 KiB is far above any chat or echo
 * line a person types, and small enough to hold per connection. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

export type LineSplitterErrorCode = "LINE_TOO_LONG";

export type LineResult =
  | { readonly kind: "need-more" }
  /** line excludes its terminator. */
  | { readonly kind: "line"; readonly line: Buffer; readonly ending: LineEnding }
  | { readonly kind: "error"; readonly code: LineSplitterErrorCode };

export interface LineSplitterOptions {
  /** Longest line accepted, without its terminator; longer → LINE_TOO_LONG. */
  readonly maxLineBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;

const NEED_MORE: LineResult = Object.freeze({ kind: "need-more" });
const LINE_TOO_LONG: LineResult = Object.freeze({ kind: "error", code: "LINE_TOO_LONG" });
const EMPTY = Buffer.alloc(0);

/** First capacity of the owned buffer for a line that straddles chunks. */
const INITIAL_PARTIAL_BYTES = 256;

/** After a straddling line completes, a bigger owned buffer is dropped rather than kept: one long
 * line should not pin up to maxLineBytes for the rest of an idle connection. */
const RETAINED_PARTIAL_BYTES = 4 * 1024;

export class LineSplitter {
  readonly maxLineBytes: number;

  // Unread input is partial[0, partialBytes) (the start of the current line, known to hold no LF)
  // followed by queue[0][chunkPos..], queue[1], ... (pushed chunks not yet scanned).
  private partial: Buffer = EMPTY;
  private partialBytes = 0;
  private readonly queue: Buffer[] = [];
  private chunkPos = 0;
  private queuedBytes = 0;

  private ended = false;
  private failure: LineResult | null = null;

  constructor(options: LineSplitterOptions = {}) {
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 0) {
      throw new RangeError(`maxLineBytes must be a non-negative integer, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes pushed and not yet returned in a line. Once next() has answered need-more, exactly the
   * unterminated last line, which never exceeds maxLineBytes + 1. Zero after an error. */
  get pendingBytes(): number {
    return this.partialBytes + this.queuedBytes;
  }

  /** Queues a chunk; it is read, not copied, so the caller must not modify it afterwards. After an
   * error, chunks are dropped: nothing more will be read. */
  push(chunk: Buffer): void {
    if (this.ended) throw new Error("LineSplitter.push() after end()");
    if (this.failure !== null || chunk.length === 0) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
  }

  next(): LineResult {
    for (;;) {
      if (this.failure !== null) return this.failure;
      const chunk = this.queue[0];
      if (chunk === undefined) return this.ended ? this.takeTail() : NEED_MORE;
      const lf = chunk.indexOf(LF, this.chunkPos);
      if (lf !== -1) return this.completeLine(chunk, lf);
      if (!this.keepPartial(chunk)) return this.fail();
    }
  }

  /**
   * Marks the end of input (idempotent) and returns what next() would, except that an
   * unterminated last line comes back once as a line with ending "eof" (LINE_TOO_LONG if it is
   * over the limit). need-more then means nothing is left. Drain with next() after it.
   */
  end(): LineResult {
    this.ended = true;
    return this.next();
  }

  /** The line ending at `lf` in `chunk`, preceded by the owned partial line if any. */
  private completeLine(chunk: Buffer, lf: number): LineResult {
    const from = this.chunkPos;
    let contentEnd = lf;
    let partialEnd = this.partialBytes;
    let ending: LineEnding = "lf";
    if (lf > from) {
      if (chunk[lf - 1] === CR) {
        contentEnd = lf - 1;
        ending = "crlf";
      }
    } else if (partialEnd > 0 && this.partial[partialEnd - 1] === CR) {
      // The CR arrived at the end of an earlier chunk: it was held as data until now.
      partialEnd--;
      ending = "crlf";
    }
    if (partialEnd + (contentEnd - from) > this.maxLineBytes) return this.fail();
    let line: Buffer;
    if (this.partialBytes === 0) {
      line = chunk.subarray(from, contentEnd);
    } else {
      line = Buffer.allocUnsafe(partialEnd + (contentEnd - from));
      this.partial.copy(line, 0, 0, partialEnd);
      chunk.copy(line, partialEnd, from, contentEnd);
      this.releasePartial();
    }
    this.consume(chunk, lf + 1 - from);
    return { kind: "line", line, ending };
  }

  /** Moves the rest of `chunk`, which holds no LF, into the owned partial line. False when that
   * line is already over the limit whatever comes next. */
  private keepPartial(chunk: Buffer): boolean {
    const from = this.chunkPos;
    const lineBytes = this.partialBytes + (chunk.length - from);
    // One byte past the limit is still fine if it is the CR of a line exactly at the limit.
    const overLimit =
      lineBytes > this.maxLineBytes + 1 ||
      (lineBytes === this.maxLineBytes + 1 && chunk[chunk.length - 1] !== CR);
    if (overLimit) return false;
    if (this.partial.length < lineBytes) this.growPartial(lineBytes);
    chunk.copy(this.partial, this.partialBytes, from);
    this.partialBytes = lineBytes;
    this.consume(chunk, chunk.length - from);
    return true;
  }

  /** At end of input: the unterminated last line, once. */
  private takeTail(): LineResult {
    if (this.partialBytes === 0) return NEED_MORE;
    if (this.partialBytes > this.maxLineBytes) return this.fail();
    // No push can follow end(), so the owned buffer can be handed out as it is.
    const line = this.partial.subarray(0, this.partialBytes);
    this.partial = EMPTY;
    this.partialBytes = 0;
    return { kind: "line", line, ending: "eof" };
  }

  private growPartial(neededBytes: number): void {
    // Doubling keeps a line trickled byte by byte at O(1) per byte; the limit caps the capacity.
    const capacity = Math.min(
      Math.max(neededBytes, this.partial.length * 2, INITIAL_PARTIAL_BYTES),
      this.maxLineBytes + 1,
    );
    const grown = Buffer.allocUnsafe(capacity);
    this.partial.copy(grown, 0, 0, this.partialBytes);
    this.partial = grown;
  }

  private releasePartial(): void {
    this.partialBytes = 0;
    if (this.partial.length > RETAINED_PARTIAL_BYTES) this.partial = EMPTY;
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

  private fail(): LineResult {
    this.failure = LINE_TOO_LONG;
    this.partial = EMPTY;
    this.partialBytes = 0;
    this.queue.length = 0;
    this.chunkPos = 0;
    this.queuedBytes = 0;
    return this.failure;
  }
}
