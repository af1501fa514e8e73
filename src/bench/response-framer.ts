/**
 * Incremental HTTP/1.1 response framer for `berth bench http`. Pure: bytes in, results out.
 *
 * It finds where each response ends, which is all a load generator needs to count pipelined
 * responses exactly (RFC 9112 §6.3, message body length): the status code, the body length, and
 * whether the server will close the connection after it. Bodies are skipped, never kept. It reads:
 *   - the status line (HTTP/1.0 or HTTP/1.1, three-digit code) and header fields;
 *   - no body for a response to HEAD, nor for 204 and 304, whatever the fields say (§6.3 rule 1);
 *   - 1xx interim responses (100 Continue, 103 Early Hints) skipped: the final response follows;
 *     101 is an error, since a benchmark never asks to switch protocols;
 *   - Transfer-Encoding with chunked last (chunk extensions and trailers included; §7.1); a
 *     Transfer-Encoding without chunked last, or no framing at all, means a body delimited by
 *     the connection's close (§6.3 rules 3 and 8), completed by end();
 *   - Content-Length (§6.3 rule 5), duplicates accepted only when equal;
 *   - Connection: close (and HTTP/1.0 without keep-alive) as `closeAfter` (§9.3, §9.6).
 *
 * push(chunk), then next(isHeadRequest) until it returns need-more: each call gives one complete
 * response, need-more, or a sticky error with a stable code. A chunk is only read during those
 * calls: once next() has returned need-more (or an error) the framer keeps no reference to it (a
 * partial head is copied), so a caller may reuse one read buffer for every read. Every answer is
 * the same whatever the chunking (STYLE.md rule 9).
 */
import {
  COLON,
  CR,
  FIELD_VALUE_CHAR,
  HEX_VALUE,
  HTAB,
  LF,
  SP,
  TOKEN_CHAR,
} from "../http/tokens.js";

/** Largest response head (status line and fields) accepted. 64 KiB: four times what berth and
 * Node accept for a request head; a real server's response head is a few hundred bytes. */
export const DEFAULT_MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** Hex digits of a chunk size: 13 reach 2^52, past anything a benchmark will download, and keep
 * the size an exact integer in a JS number. */
export const MAX_CHUNK_SIZE_DIGITS = 13;

/** Bytes of a chunk line after the size (extensions); they carry nothing we use. */
export const MAX_CHUNK_EXTENSION_BYTES = 4096;

/** Bytes of the trailer section of a chunked body. */
export const MAX_TRAILER_BYTES = 64 * 1024;

/** Content-Length digits: 15 stay below 2^53, so the length is an exact integer. */
const MAX_CONTENT_LENGTH_DIGITS = 15;

export type ResponseFramerErrorCode =
  | "BAD_STATUS_LINE"
  | "BAD_HEADER_LINE"
  | "HEAD_TOO_LARGE"
  | "BAD_CONTENT_LENGTH"
  | "BAD_CHUNK_SIZE"
  | "BAD_CHUNK_EXTENSION"
  | "BAD_CHUNK_END"
  | "BAD_TRAILER"
  | "TRAILERS_TOO_LARGE"
  | "SWITCHING_PROTOCOLS"
  | "TRUNCATED";

export interface FramedResponse {
  readonly kind: "response";
  /** The final status code, 200..599 (interim 1xx responses are skipped). */
  readonly status: number;
  /** Payload bytes: Content-Length, the sum of chunk sizes, or what arrived before the close. */
  readonly bodyBytes: number;
  /** The server closes the connection after this response: requests pipelined behind it were
   * not answered and must be sent again on a new connection. */
  readonly closeAfter: boolean;
}

export interface FramerError {
  readonly kind: "error";
  readonly code: ResponseFramerErrorCode;
}

export type ResponseFramerResult = { readonly kind: "need-more" } | FramedResponse | FramerError;

/** At the end of the stream: nothing pending, the close-delimited body it completed, or a
 * response cut short (TRUNCATED). */
export type ResponseFramerEnd = { readonly kind: "idle" } | FramedResponse | FramerError;

export interface ResponseFramerOptions {
  readonly maxHeadBytes?: number;
}

/** Where the framer is in the response grammar (RFC 9112 §2.1, §6, §7.1). */
type Phase =
  | "head"
  | "body-length"
  | "body-until-close"
  | "chunk-size"
  | "chunk-ext"
  | "chunk-size-lf"
  | "chunk-data"
  | "chunk-data-cr"
  | "chunk-data-lf"
  | "trailer-line-start"
  | "trailer-line"
  | "trailer-lf"
  | "trailer-end-lf"
  | "dead";

/** How the body of the response whose head was just read is delimited. */
type BodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly bytes: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "until-close" };

/** A head read in one pass: not all here yet, what it says (before the request method is taken
 * into account), or the first mistake in it. Either of the last two ends at `headEnd`, just past
 * its final CRLF. */
type HeadScan =
  | { readonly kind: "incomplete" }
  | {
      readonly kind: "head";
      readonly headEnd: number;
      readonly status: number;
      readonly framing: BodyFraming;
      readonly closeAfter: boolean;
    }
  | { readonly kind: "error"; readonly headEnd: number; readonly code: ResponseFramerErrorCode };

const NEED_MORE: ResponseFramerResult = Object.freeze({ kind: "need-more" });
const IDLE: ResponseFramerEnd = Object.freeze({ kind: "idle" });
const NO_BODY: BodyFraming = Object.freeze({ kind: "none" });
const CHUNKED: BodyFraming = Object.freeze({ kind: "chunked" });
const UNTIL_CLOSE: BodyFraming = Object.freeze({ kind: "until-close" });
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
const EMPTY = Buffer.alloc(0);

/** "HTTP/1." as bytes. */
const VERSION_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e] as const;

export class ResponseFramer {
  readonly maxHeadBytes: number;
  /** Interim (1xx) responses skipped so far. */
  interimResponses = 0;

  // Unread input is buf[pos, inputEnd). buf is the caller's chunk, or our own copy of a partial head.
  private buf: Buffer = EMPTY;
  private pos = 0;
  private inputEnd = 0;
  private owned = false;
  /** Where the search for the head's end resumes, relative to pos. */
  private scanFrom = 0;

  private phase: Phase = "head";
  private failure: FramerError | null = null;

  // The response in progress.
  private status = 0;
  private closeAfter = false;
  private bodyBytes = 0;
  private remaining = 0;
  private chunkDigits = 0;
  private chunkSize = 0;
  private extensionBytes = 0;
  private trailerBytes = 0;

  constructor(options: ResponseFramerOptions = {}) {
    this.maxHeadBytes = options.maxHeadBytes ?? DEFAULT_MAX_RESPONSE_HEAD_BYTES;
  }

  /** True between responses with nothing buffered. */
  get isIdle(): boolean {
    return this.phase === "head" && this.pos === this.inputEnd;
  }

  /** Queues a chunk, read (not copied) by the next calls to next(). */
  push(chunk: Buffer): void {
    if (this.failure !== null || chunk.length === 0) return;
    if (this.pos === this.inputEnd) {
      this.buf = chunk;
      this.pos = 0;
      this.inputEnd = chunk.length;
      this.owned = false;
      return;
    }
    // Unread bytes remain (a partial head, or a caller that pushes before draining): append.
    this.keepUnread(chunk.length);
    chunk.copy(this.buf, this.inputEnd);
    this.inputEnd += chunk.length;
  }

  /** The next complete response, need-more, or the error that ended framing. `isHeadRequest`
   * says whether the oldest unanswered request was a HEAD (read when its response starts). */
  next(isHeadRequest: boolean): ResponseFramerResult {
    if (this.failure !== null) return this.failure;
    for (;;) {
      if (this.phase === "head") {
        const started = this.readHead(isHeadRequest);
        if (started === NEED_MORE) return this.needMore();
        if (started !== null) return started;
        if (this.phase === "head") continue; // an interim response was skipped
      }
      const result = this.readBody();
      if (result !== null) return result;
      return this.needMore();
    }
  }

  /** The peer closed the connection: completes a close-delimited body, or reports a response
   * cut short. */
  end(): ResponseFramerEnd {
    if (this.failure !== null) return this.failure;
    switch (this.phase) {
      case "head":
        return this.pos === this.inputEnd ? IDLE : this.fail("TRUNCATED");
      case "body-until-close":
        return this.complete();
      default:
        return this.fail("TRUNCATED");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Head

  /** Reads a head if it is complete. Returns need-more or an error, a body-less response, or
   * null once the phase has moved on (to a body phase, or back to "head" after a 1xx). */
  private readHead(isHeadRequest: boolean): ResponseFramerResult | null {
    const available = this.inputEnd - this.pos;
    if (available === 0) return NEED_MORE;
    // A peer that is not speaking HTTP is caught at its first bytes, not after 64 KiB.
    if (
      this.scanFrom < VERSION_PREFIX.length &&
      !startsLikeStatusLine(this.buf, this.pos, this.inputEnd)
    ) {
      return this.fail("BAD_STATUS_LINE");
    }
    const limit = Math.min(this.inputEnd, this.pos + this.maxHeadBytes);
    if (this.scanFrom > 0) {
      // A head that did not arrive whole is read again only once its end is here, so bytes
      // trickled in one at a time cost O(1) each, not a re-read of the head so far.
      const searchFrom = this.pos + Math.max(0, this.scanFrom - 3);
      const found = this.searchableInput().indexOf(HEAD_END, searchFrom);
      if (found === -1 || found + HEAD_END.length > limit) return this.awaitHead(available);
    }
    const reading = scanHead(this.buf, this.pos, limit);
    if (reading.kind === "incomplete") return this.awaitHead(available);
    this.pos = reading.headEnd;
    this.scanFrom = 0;
    if (reading.kind === "error") return this.fail(reading.code);
    const { status } = reading;
    if (status === 101) return this.fail("SWITCHING_PROTOCOLS");
    if (status < 200) {
      // RFC 9110 §15.2: interim responses precede the final one and have no content.
      this.interimResponses++;
      return null;
    }
    this.status = status;
    this.closeAfter = reading.closeAfter;
    this.bodyBytes = 0;
    // RFC 9112 §6.3 rule 1: HEAD, 204 and 304 responses end at their head.
    const framing = isHeadRequest || status === 204 || status === 304 ? NO_BODY : reading.framing;
    switch (framing.kind) {
      case "none":
        return this.complete();
      case "length":
        if (framing.bytes === 0) return this.complete();
        this.remaining = framing.bytes;
        this.phase = "body-length";
        return null;
      case "chunked":
        this.chunkDigits = 0;
        this.chunkSize = 0;
        this.phase = "chunk-size";
        return null;
      case "until-close":
        this.closeAfter = true;
        this.phase = "body-until-close";
        return null;
    }
  }

  /** The head is not complete: wait for more, unless it is already longer than the limit. */
  private awaitHead(available: number): ResponseFramerResult {
    if (available >= this.maxHeadBytes) return this.fail("HEAD_TOO_LARGE");
    this.scanFrom = available;
    return NEED_MORE;
  }

  /** The input as a buffer indexOf may search to its end. */
  private searchableInput(): Buffer {
    return this.owned ? this.buf.subarray(0, this.inputEnd) : this.buf;
  }

  // ---------------------------------------------------------------------------------------------
  // Body

  /** Consumes body bytes; a completed response or an error, or null when the input ran out. */
  private readBody(): ResponseFramerResult | null {
    switch (this.phase) {
      case "body-length": {
        const take = Math.min(this.remaining, this.inputEnd - this.pos);
        this.pos += take;
        this.remaining -= take;
        this.bodyBytes += take;
        return this.remaining === 0 ? this.complete() : null;
      }
      case "body-until-close":
        this.bodyBytes += this.inputEnd - this.pos;
        this.pos = this.inputEnd;
        return null;
      case "head":
      case "dead":
        throw new Error(`readBody in phase ${this.phase}`);
      default:
        return this.readChunked();
    }
  }

  /** RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk, then the
   * trailer section and a final CRLF. Read byte by byte, except chunk data, skipped in one step. */
  private readChunked(): ResponseFramerResult | null {
    const { buf } = this;
    while (this.pos < this.inputEnd) {
      if (this.phase === "chunk-data") {
        const take = Math.min(this.remaining, this.inputEnd - this.pos);
        this.pos += take;
        this.remaining -= take;
        this.bodyBytes += take;
        if (this.remaining === 0) this.phase = "chunk-data-cr";
        continue;
      }
      const byte = buf[this.pos] ?? 0;
      this.pos++;
      const code = this.readChunkByte(byte);
      if (code === "done") return this.complete();
      if (code !== null) return this.fail(code);
    }
    return null;
  }

  /** One byte of chunk framing outside chunk data: an error code, "done" after the final CRLF,
   * or null. */
  private readChunkByte(byte: number): ResponseFramerErrorCode | "done" | null {
    switch (this.phase) {
      case "chunk-size": {
        const digit = HEX_VALUE[byte] ?? 255;
        if (digit !== 255) {
          if (++this.chunkDigits > MAX_CHUNK_SIZE_DIGITS) return "BAD_CHUNK_SIZE";
          this.chunkSize = this.chunkSize * 16 + digit;
          return null;
        }
        if (this.chunkDigits === 0) return "BAD_CHUNK_SIZE";
        if (byte === CR) {
          this.phase = "chunk-size-lf";
          return null;
        }
        // RFC 9112 §7.1.1: BWS ";" starts an extension; its content is not ours to check.
        if (byte !== 0x3b && byte !== SP && byte !== HTAB) return "BAD_CHUNK_SIZE";
        this.phase = "chunk-ext";
        this.extensionBytes = 1;
        return null;
      }
      case "chunk-ext":
        if (byte === CR) {
          this.phase = "chunk-size-lf";
          return null;
        }
        if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES) return "BAD_CHUNK_EXTENSION";
        return FIELD_VALUE_CHAR[byte] === 1 ? null : "BAD_CHUNK_EXTENSION";
      case "chunk-size-lf": {
        if (byte !== LF) return "BAD_CHUNK_SIZE";
        const size = this.chunkSize;
        this.chunkDigits = 0;
        this.chunkSize = 0;
        if (size === 0) {
          this.phase = "trailer-line-start";
          this.trailerBytes = 0;
        } else {
          this.remaining = size;
          this.phase = "chunk-data";
        }
        return null;
      }
      case "chunk-data-cr":
        if (byte !== CR) return "BAD_CHUNK_END";
        this.phase = "chunk-data-lf";
        return null;
      case "chunk-data-lf":
        if (byte !== LF) return "BAD_CHUNK_END";
        this.phase = "chunk-size";
        return null;
      default:
        return this.readTrailerByte(byte);
    }
  }

  /** RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then CRLF. Lines are skipped. */
  private readTrailerByte(byte: number): ResponseFramerErrorCode | "done" | null {
    if (++this.trailerBytes > MAX_TRAILER_BYTES) return "TRAILERS_TOO_LARGE";
    switch (this.phase) {
      case "trailer-line-start":
        if (byte === CR) this.phase = "trailer-end-lf";
        else if (TOKEN_CHAR[byte] === 1) this.phase = "trailer-line";
        else return "BAD_TRAILER";
        return null;
      case "trailer-line":
        if (byte === CR) this.phase = "trailer-lf";
        else if (FIELD_VALUE_CHAR[byte] !== 1) return "BAD_TRAILER";
        return null;
      case "trailer-lf":
        if (byte !== LF) return "BAD_TRAILER";
        this.phase = "trailer-line-start";
        return null;
      case "trailer-end-lf":
        return byte === LF ? "done" : "BAD_TRAILER";
      default:
        throw new Error(`readTrailerByte in phase ${this.phase}`);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private complete(): FramedResponse {
    this.phase = "head";
    this.remaining = 0;
    return {
      kind: "response",
      status: this.status,
      bodyBytes: this.bodyBytes,
      closeAfter: this.closeAfter,
    };
  }

  /** Returns need-more after making sure no caller chunk is referenced past this call. */
  private needMore(): ResponseFramerResult {
    if (this.pos === this.inputEnd) this.releaseInput();
    else if (!this.owned) this.keepUnread(0);
    return NEED_MORE;
  }

  /** Copies the unread bytes into a buffer of our own with room for `extraBytes` more. */
  private keepUnread(extraBytes: number): void {
    const unread = this.inputEnd - this.pos;
    const needed = unread + extraBytes;
    if (this.owned && this.pos === 0 && this.buf.length >= needed) return;
    const target =
      this.owned && this.buf.length >= needed
        ? this.buf
        : Buffer.allocUnsafe(Math.max(needed * 2, 1024));
    this.buf.copy(target, 0, this.pos, this.inputEnd);
    this.buf = target;
    this.pos = 0;
    this.inputEnd = unread;
    this.owned = true;
  }

  private releaseInput(): void {
    if (!this.owned) this.buf = EMPTY;
    this.pos = 0;
    this.inputEnd = 0;
  }

  private fail(code: ResponseFramerErrorCode): FramerError {
    this.failure = { kind: "error", code };
    this.phase = "dead";
    this.buf = EMPTY;
    this.pos = 0;
    this.inputEnd = 0;
    this.owned = false;
    return this.failure;
  }
}

const INCOMPLETE: HeadScan = Object.freeze({ kind: "incomplete" });

/**
 * Reads the head starting at buf[start] in one pass, up to `limit`: the status line, then field
 * lines up to the empty line. Strict on the grammar a server controls: CRLF line ends, token field
 * names, no whitespace before the colon, no obs-fold (RFC 9112 §5.2), no control bytes in values.
 * A mistake is only reported once the head's end (the first CRLFCRLF) is within `limit`, so the
 * answer is the same whatever the chunking.
 */
function scanHead(buf: Buffer, start: number, limit: number): HeadScan {
  const statusLine = readStatusLine(buf, start, limit);
  if (statusLine === "incomplete") return INCOMPLETE;
  if (statusLine === "error") return failedHead(buf, start, limit, "BAD_STATUS_LINE");
  let contentLength = -1;
  let transferCodingSeen = false;
  let chunkedLast = false;
  let closeSeen = false;
  let keepAliveSeen = false;
  let lineStart = statusLine.lineEnd + 2;
  for (;;) {
    if (lineStart + 1 >= limit) return INCOMPLETE;
    if (buf[lineStart] === CR && buf[lineStart + 1] === LF) {
      // RFC 9112 §6.3 rules 4, 5 and 8 for a response: Transfer-Encoding overrides
      // Content-Length; neither means the body runs to the close.
      const framing: BodyFraming = transferCodingSeen
        ? chunkedLast
          ? CHUNKED
          : UNTIL_CLOSE
        : contentLength === -1
          ? UNTIL_CLOSE
          : { kind: "length", bytes: contentLength };
      // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
      const closeAfter = closeSeen || (statusLine.minorVersion === 0 && !keepAliveSeen);
      return {
        kind: "head",
        headEnd: lineStart + 2,
        status: statusLine.status,
        framing,
        closeAfter,
      };
    }
    let colon = lineStart;
    while (colon < limit && TOKEN_CHAR[buf[colon] ?? 0] === 1) colon++;
    if (colon === limit) return INCOMPLETE;
    if (colon === lineStart || buf[colon] !== COLON) {
      return failedHead(buf, lineStart, limit, "BAD_HEADER_LINE");
    }
    let lineEnd = colon + 1;
    while (lineEnd < limit && FIELD_VALUE_CHAR[buf[lineEnd] ?? 0] === 1) lineEnd++;
    if (lineEnd + 1 >= limit) return INCOMPLETE;
    if (buf[lineEnd] !== CR || buf[lineEnd + 1] !== LF) {
      return failedHead(buf, lineStart, limit, "BAD_HEADER_LINE");
    }
    const name = fieldNameOf(buf, lineStart, colon);
    if (name !== "other") {
      let valueStart = colon + 1;
      let valueEnd = lineEnd;
      while (valueStart < valueEnd && isOws(buf[valueStart] ?? 0)) valueStart++;
      while (valueEnd > valueStart && isOws(buf[valueEnd - 1] ?? 0)) valueEnd--;
      switch (name) {
        case "content-length": {
          const length = parseContentLength(buf, valueStart, valueEnd);
          // RFC 9110 §8.6: differing or malformed lengths leave the framing unknown.
          if (length === -1 || (contentLength !== -1 && contentLength !== length)) {
            return failedHead(buf, lineEnd, limit, "BAD_CONTENT_LENGTH");
          }
          contentLength = length;
          break;
        }
        case "transfer-encoding": {
          const codings = listTokens(buf.toString("latin1", valueStart, valueEnd));
          if (codings.length > 0) {
            transferCodingSeen = true;
            chunkedLast = codings[codings.length - 1] === "chunked";
          }
          break;
        }
        case "connection": {
          // The usual values, alone, are read without making a string.
          const valueBytes = valueEnd - valueStart;
          if (valueBytes === 10 && equalsLowercase(buf, valueStart, "keep-alive")) {
            keepAliveSeen = true;
            break;
          }
          if (valueBytes === 5 && equalsLowercase(buf, valueStart, "close")) {
            closeSeen = true;
            break;
          }
          for (const option of listTokens(buf.toString("latin1", valueStart, valueEnd))) {
            if (option === "close") closeSeen = true;
            else if (option === "keep-alive") keepAliveSeen = true;
          }
          break;
        }
      }
    }
    lineStart = lineEnd + 2;
  }
}

/** A mistake at or after `from` (a line start, or a line's CR): reported with the head's end,
 * once that is within `limit`. The head ends at the first CRLFCRLF; it cannot start before
 * `from`, since every line before was well formed and not empty. */
function failedHead(
  buf: Buffer,
  from: number,
  limit: number,
  code: ResponseFramerErrorCode,
): HeadScan {
  const found = buf.indexOf(HEAD_END, from);
  if (found === -1 || found + HEAD_END.length > limit) return INCOMPLETE;
  return { kind: "error", headEnd: found + HEAD_END.length, code };
}

/** The bytes buf[start, end) so far agree with "HTTP/1.". */
function startsLikeStatusLine(buf: Buffer, start: number, end: number): boolean {
  const checked = Math.min(end - start, VERSION_PREFIX.length);
  for (let i = 0; i < checked; i++) {
    if (buf[start + i] !== VERSION_PREFIX[i]) return false;
  }
  return true;
}

/** RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. A missing SP
 * before an empty reason is tolerated, as most clients do. */
function readStatusLine(
  buf: Buffer,
  start: number,
  limit: number,
):
  | { readonly status: number; readonly minorVersion: number; readonly lineEnd: number }
  | "incomplete"
  | "error" {
  // "HTTP/1.x NNN" then SP or CR, then the line's LF at the earliest.
  if (start + 13 >= limit) return "incomplete";
  for (let i = 0; i < VERSION_PREFIX.length; i++) {
    if (buf[start + i] !== VERSION_PREFIX[i]) return "error";
  }
  const minor = buf[start + 7];
  if ((minor !== 0x30 && minor !== 0x31) || buf[start + 8] !== SP) return "error";
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = (buf[start + i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return "error";
    status = status * 10 + digit;
  }
  if (status < 100 || status > 599) return "error";
  let lineEnd = start + 12;
  if (buf[lineEnd] === SP) {
    while (lineEnd < limit && FIELD_VALUE_CHAR[buf[lineEnd] ?? 0] === 1) lineEnd++;
  }
  if (lineEnd + 1 >= limit) return "incomplete";
  if (buf[lineEnd] !== CR || buf[lineEnd + 1] !== LF) return "error";
  return { status, minorVersion: minor - 0x30, lineEnd };
}

type FramingField = "content-length" | "transfer-encoding" | "connection" | "other";

/** Which framing field buf[start, end) names, case-insensitively, without making a string. */
function fieldNameOf(buf: Buffer, start: number, end: number): FramingField {
  switch (end - start) {
    case 14:
      return equalsLowercase(buf, start, "content-length") ? "content-length" : "other";
    case 17:
      return equalsLowercase(buf, start, "transfer-encoding") ? "transfer-encoding" : "other";
    case 10:
      return equalsLowercase(buf, start, "connection") ? "connection" : "other";
    default:
      return "other";
  }
}

/** buf[start..] equals `lower` (lowercase ASCII letters and "-") ignoring case. Only letters
 * and CR become a letter or "-" with 0x20 set, and CR never reaches here (field values and
 * names exclude it). */
function equalsLowercase(buf: Buffer, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    // 0x20 lowercases an ASCII letter and leaves "-" (0x2d) as it is.
    if (((buf[start + i] ?? 0) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** 1*DIGIT → its value, else -1. */
function parseContentLength(buf: Buffer, start: number, end: number): number {
  if (end === start || end - start > MAX_CONTENT_LENGTH_DIGITS) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = (buf[i] ?? 0) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** RFC 9110 §5.6.1 list: comma-separated, OWS around elements, empty elements dropped,
 * lowercased. */
function listTokens(value: string): string[] {
  return value
    .split(",")
    .map((element) => element.trim().toLowerCase())
    .filter((element) => element.length > 0);
}

function isOws(byte: number): boolean {
  return byte === SP || byte === HTAB;
}
