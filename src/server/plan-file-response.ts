import { close } from "node:fs";
import { formatStrongEtag, hasPlausibleMtime } from "../conditional/etag.js";
import { createBoundary, layoutMultipart } from "../conditional/multipart.js";
import { evaluatePreconditions, type Validators } from "../conditional/preconditions.js";
import { type ByteRange, evaluateIfRange, parseRange } from "../conditional/range.js";
import { contentTypeForFileName } from "../files/mime.js";
import type { PathRuleAnswer } from "../files/path-rules.js";
import type { Representation, VariantChoice } from "../files/select-variant.js";
import { fieldValue } from "../http/headers.js";
import { formatHttpDate } from "../http/http-date.js";
import type { RequestHead } from "../http/request-types.js";
import type { PrebuiltResponse } from "./prebuilt-response.js";
import { type BodySegment, errorBody, type ResponsePlan, statusLine } from "./response-plan.js";

/** Sent with every response that has content: never let a browser sniff a file into a more
 * dangerous type than the one we name. */
export const NOSNIFF_HEADER = "X-Content-Type-Options: nosniff\r\n";

export interface FileResponseOptions {
  /** Cache-Control value for a file, from its path below the root and its Content-Type. */
  readonly cacheControl: (relativePath: string, contentType: string) => string;
  /** --header fields and berth.json rules for a file's path below the root: header lines for
   * its responses, and a Cache-Control that overrides `cacheControl`. */
  readonly pathRules: (relativePath: string) => PathRuleAnswer;
  /** The `requestHeaders` most requests carry (CORS lines for a request without Origin, or ""):
   * the prebuilt answers of cached files include them. */
  readonly usualRequestHeaders: string;
  /** Range-specs accepted in one Range field; more → the full file (abuse guard). */
  readonly maxRanges: number;
}

/** The cached answers of a representation in memory (file-cache.ts), used when the outcome is
 * one of them: they were planned by this very function. */
export interface PrebuiltAnswers {
  readonly ok: PrebuiltResponse;
  readonly okHead: PrebuiltResponse;
  readonly notModified: PrebuiltResponse;
}

export interface FileResponseRequest {
  readonly request: RequestHead;
  readonly method: "GET" | "HEAD";
  readonly nowMs: number;
  readonly dateLine: string;
  /** The resource's path below the root ("docs/index.html") and its own file name. */
  readonly relativePath: string;
  readonly fileName: string;
  /** Header lines this request adds to whatever is answered (CORS), "" for none. */
  readonly requestHeaders: string;
}

/**
 * Plans the answer for an opened file, in RFC 9110's order: validators → preconditions
 * (§13.2.2: 412/304) → Range (§14: 206/416, GET only) → 200. Owns the representation's
 * descriptor: it is closed here unless the plan streams it.
 */
export function planFileResponse(
  input: FileResponseRequest,
  choice: VariantChoice,
  options: FileResponseOptions,
  prebuilt: PrebuiltAnswers | null = null,
): ResponsePlan {
  const { request, method, nowMs, dateLine } = input;
  const representation = choice.representation;
  const { stats, coding } = representation;
  const isHead = method === "HEAD";
  const validators: Validators = {
    // Each representation (a sidecar is another file) has its own tag (RFC 9110 §8.8.3).
    etag: representation.etag ?? formatStrongEtag(stats),
    lastModifiedMs: hasPlausibleMtime(stats, nowMs) ? stats.mtimeMs : null,
  };
  const fields = request.fields;
  const outcome = evaluatePreconditions(
    method,
    {
      ifMatch: fieldValue(fields, "if-match"),
      ifNoneMatch: fieldValue(fields, "if-none-match"),
      ifModifiedSince: fieldValue(fields, "if-modified-since"),
      ifUnmodifiedSince: fieldValue(fields, "if-unmodified-since"),
    },
    validators,
    nowMs,
  );
  if (outcome.kind === "not-modified" && prebuilt !== null) return prebuilt.notModified;
  // RFC 9110 §14.2: Range applies to GET, and only once the preconditions let it through.
  // RFC 9110 §8.4: Content-Encoding says how to decode the content into its Content-Type; beside
  // multipart/byteranges it would claim the multipart itself is coded. A coded representation is
  // therefore sent whole or as one range (RFC 9110 §14.2 lets a server ignore a Range).
  const maxRanges = coding === null ? options.maxRanges : 1;
  const ranges =
    outcome.kind === "proceed"
      ? selectRanges(request, method, validators, stats.size, maxRanges)
      : null;
  if (ranges === null && outcome.kind === "proceed" && prebuilt !== null) {
    return isHead ? prebuilt.okHead : prebuilt.ok;
  }

  const contentType = contentTypeForFileName(input.fileName);
  const rules = options.pathRules(input.relativePath);
  // Lines every answer about this file carries, errors included: Vary (RFC 9110 §12.5.5) and
  // the request's own (CORS: a script must be able to read a 412 or 416 too).
  const vary = (choice.hasVariants ? "Vary: Accept-Encoding\r\n" : "") + input.requestHeaders;
  // RFC 9110 §15.4.5: what a 304 must repeat from the 200 (ETag, Cache-Control, Vary, Date),
  // plus Last-Modified, which guides cache updates.
  let validatorHeaders = `ETag: ${validators.etag}\r\n`;
  if (validators.lastModifiedMs !== null) {
    validatorHeaders += `Last-Modified: ${formatHttpDate(validators.lastModifiedMs)}\r\n`;
  }
  const cacheControl = rules.cacheControl ?? options.cacheControl(input.relativePath, contentType);
  validatorHeaders += `Cache-Control: ${cacheControl}\r\n`;
  // The site's own fields (--header, rules) go with the file's 200, 206 and 304, as nginx's
  // add_header does, not with error answers.
  validatorHeaders += vary + rules.headerLines;

  if (outcome.kind === "not-modified") {
    releaseRepresentation(representation);
    return {
      kind: "bytes",
      status: 304,
      head: statusLine(304) + dateLine + validatorHeaders,
      body: null,
    };
  }
  if (outcome.kind === "precondition-failed") {
    releaseRepresentation(representation);
    return planErrorWithHeaders(412, isHead, dateLine, vary);
  }

  if (ranges === "unsatisfiable") {
    releaseRepresentation(representation);
    // RFC 9110 §15.5.17: a 416 names the current length.
    return planErrorWithHeaders(
      416,
      isHead,
      dateLine,
      `Content-Range: bytes */${stats.size}\r\n${vary}`,
    );
  }

  let head =
    dateLine +
    NOSNIFF_HEADER +
    "Accept-Ranges: bytes\r\n" +
    validatorHeaders +
    (coding === null ? "" : `Content-Encoding: ${coding}\r\n`);
  let status = 200;
  let segments: readonly BodySegment[];
  if (ranges === null) {
    head += `Content-Type: ${contentType}\r\nContent-Length: ${stats.size}\r\n`;
    segments = [{ start: 0, length: stats.size }];
  } else if (ranges.length === 1) {
    const [range] = ranges as [ByteRange];
    status = 206;
    head +=
      `Content-Type: ${contentType}\r\n` +
      `Content-Range: bytes ${range.start}-${range.start + range.length - 1}/${stats.size}\r\n` +
      `Content-Length: ${range.length}\r\n`;
    segments = [range];
  } else {
    // RFC 9110 §14.6: several ranges travel as multipart/byteranges, each part with its own
    // Content-Type and Content-Range; the boundary is random so no content can forge it.
    const layout = layoutMultipart(ranges, stats.size, contentType, createBoundary());
    status = 206;
    head += `Content-Type: ${layout.contentType}\r\nContent-Length: ${layout.contentLength}\r\n`;
    segments = layout.segments;
  }
  head = statusLine(status) + head;
  if (isHead) {
    // RFC 9110 §9.3.2: the same fields as GET, no content.
    releaseRepresentation(representation);
    return { kind: "bytes", status, head, body: null };
  }
  if (representation.content !== null) {
    return { kind: "bytes", status, head, body: bodyFromMemory(representation.content, segments) };
  }
  return { kind: "file", status, head, fd: representation.fd, segments };
}

/** The body of a representation held in memory: a view of it for one span (no copy), or the
 * parts joined (multipart). */
function bodyFromMemory(content: Buffer, segments: readonly BodySegment[]): Buffer {
  const [only] = segments;
  if (segments.length === 1 && only !== undefined && !Buffer.isBuffer(only)) {
    return content.subarray(only.start, only.start + only.length);
  }
  return Buffer.concat(
    segments.map((segment) =>
      Buffer.isBuffer(segment)
        ? segment
        : content.subarray(segment.start, segment.start + segment.length),
    ),
  );
}

/** Closes the representation's descriptor, if it has one (a cached one has none). */
function releaseRepresentation(representation: Representation): void {
  if (representation.fd !== -1) closeQuietly(representation.fd);
}

/** RFC 9110 §14.2: Range applies to GET only; If-Range (§13.1.5) that does not match means
 * "send it all". Returns the ranges to send, null for the whole file, or "unsatisfiable". */
function selectRanges(
  request: RequestHead,
  method: "GET" | "HEAD",
  validators: Validators,
  sizeBytes: number,
  maxRanges: number,
): readonly ByteRange[] | null | "unsatisfiable" {
  if (method !== "GET") return null;
  const rangeField = fieldValue(request.fields, "range");
  if (rangeField === null) return null;
  const ifRange = fieldValue(request.fields, "if-range");
  if (ifRange !== null && !evaluateIfRange(ifRange, validators)) return null;
  const result = parseRange(rangeField, sizeBytes, maxRanges);
  switch (result.kind) {
    case "ranges":
      return result.ranges;
    case "unsatisfiable":
      return "unsatisfiable";
    case "ignore":
      return null;
  }
}

/** An error answer with a small HTML body and extra header lines. */
export function planErrorWithHeaders(
  status: number,
  isHead: boolean,
  dateLine: string,
  extraHeaders: string,
): ResponsePlan {
  const body = errorBody(status);
  const head =
    statusLine(status) +
    dateLine +
    NOSNIFF_HEADER +
    extraHeaders +
    "Content-Type: text/html; charset=utf-8\r\n" +
    `Content-Length: ${body.length}\r\n`;
  return { kind: "bytes", status, head, body: isHead ? null : body };
}

export function closeQuietly(fd: number): void {
  // Nothing useful can be done if close fails; the descriptor is released either way.
  close(fd, ignoreError);
}

function ignoreError(): void {}
