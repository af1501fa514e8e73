import { randomBytes } from "node:crypto";
import { isTokenString } from "../http/tokens.js";
import type { ByteRange } from "./range.js";

/** RFC 9110 §14.6: the body of a 206 multipart/byteranges response, laid out before sending. */
export interface MultipartLayout {
  /** The Content-Type header value: `multipart/byteranges; boundary=<boundary>` */
  readonly contentType: string;
  /** In order: Buffer (part headers, delimiters) and ByteRange (bytes of the file) segments. */
  readonly segments: readonly (Buffer | ByteRange)[];
  /** Exact total body length: sum of buffers' lengths and ranges' lengths. */
  readonly contentLength: number;
}

/** Random bytes in a boundary: 192 bits, so no file, however crafted, can contain the delimiter
 * except by a guess with odds of 2^-192 (RFC 2046 §5.1.1: the boundary must not occur in the
 * encapsulated content; we cannot scan the file for it without reading it first). */
const BOUNDARY_RANDOM_BYTES = 24;

/**
 * A boundary that cannot be guessed from the content: random (node:crypto randomBytes), 1..70
 * chars from RFC 2046's bchars, no spaces. base64url gives 32 chars of [A-Za-z0-9_-]: all of them
 * bchars and all tchars, so the Content-Type parameter needs no quoting (RFC 9110 §5.6.6).
 */
export function createBoundary(): string {
  return randomBytes(BOUNDARY_RANDOM_BYTES).toString("base64url");
}

// RFC 2046 §5.1.1: boundary := 0*69<bchars> bcharsnospace.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * Lays out a multipart/byteranges body (RFC 9110 §14.6, RFC 2046 §5.1.1):
 *
 *     --B CRLF Content-Type: t CRLF Content-Range: bytes f-l/size CRLF CRLF <bytes>
 *     CRLF --B CRLF … <bytes>
 *     CRLF --B-- CRLF
 *
 * Each part's delimiter and headers form one Buffer, so the writer makes one write per part head.
 * An empty `partContentType` leaves Content-Type out of the parts: §14.6 sends it only when a 200
 * would have carried one. Arguments that break these rules are our bug and throw RangeError.
 */
export function layoutMultipart(
  ranges: readonly ByteRange[],
  sizeBytes: number,
  partContentType: string,
  boundary: string,
): MultipartLayout {
  assertLayoutArguments(ranges, sizeBytes, partContentType, boundary);
  const typeLine = partContentType === "" ? "" : `Content-Type: ${partContentType}\r\n`;

  const segments: (Buffer | ByteRange)[] = [];
  let contentLength = 0;
  const pushText = (text: string): void => {
    const bytes = Buffer.from(text, "latin1");
    segments.push(bytes);
    contentLength += bytes.length;
  };
  ranges.forEach((range, index) => {
    // RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter, so the first one,
    // with no preamble before it, starts directly with "--".
    const delimiter = index === 0 ? `--${boundary}\r\n` : `\r\n--${boundary}\r\n`;
    const last = range.start + range.length - 1;
    pushText(
      `${delimiter}${typeLine}Content-Range: bytes ${range.start}-${last}/${sizeBytes}\r\n\r\n`,
    );
    segments.push(range);
    contentLength += range.length;
  });
  pushText(`\r\n--${boundary}--\r\n`);

  return {
    contentType: `multipart/byteranges; boundary=${formatBoundaryParameter(boundary)}`,
    segments,
    contentLength,
  };
}

/** RFC 9110 §5.6.6: a parameter value is a token or a quoted-string. bchars hold no DQUOTE or
 * backslash, so quoting needs no escapes. */
function formatBoundaryParameter(boundary: string): string {
  return isTokenString(boundary) ? boundary : `"${boundary}"`;
}

function assertLayoutArguments(
  ranges: readonly ByteRange[],
  sizeBytes: number,
  partContentType: string,
  boundary: string,
): void {
  if (!BOUNDARY.test(boundary)) {
    throw new RangeError(`layoutMultipart: not an RFC 2046 boundary: ${JSON.stringify(boundary)}`);
  }
  // Part headers go out as latin1; a CR or LF here would let the value forge headers.
  if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(partContentType)) {
    throw new RangeError(`layoutMultipart: not a field value: ${JSON.stringify(partContentType)}`);
  }
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1) {
    throw new RangeError(`layoutMultipart: sizeBytes must be a positive integer, got ${sizeBytes}`);
  }
  if (ranges.length === 0) throw new RangeError("layoutMultipart: no ranges");
  for (const { start, length } of ranges) {
    const isInside =
      Number.isSafeInteger(start) && Number.isSafeInteger(length) && start >= 0 && length >= 1;
    if (!isInside || start + length > sizeBytes) {
      throw new RangeError(
        `layoutMultipart: range {start: ${start}, length: ${length}} is not inside ${sizeBytes} bytes`,
      );
    }
  }
}
