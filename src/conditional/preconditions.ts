/**
 * Conditional request evaluation, RFC 9110 §13.2.2, for a GET or HEAD of a representation that
 * exists: the static handler calls this only after the file is open, so "a current representation
 * for the target resource" (§13.1.1, §13.1.2) is always true here. Range and If-Range (step 5)
 * are range.ts's business, after this returns "proceed".
 *
 * Each field is evaluated by its own function, which answers "none" when the field is absent or
 * must be ignored, so the precedence reads as the five steps of §13.2.2 and nothing else.
 */
import { parseHttpDate } from "../http/http-date.js";
import {
  type EntityTag,
  parseEntityTag,
  parseEntityTagList,
  strongMatch,
  weakMatch,
} from "./etag.js";

export interface Validators {
  /** The representation's strong ETag as sent, with quotes, e.g. "\"1a-2b\"", or null. */
  readonly etag: string | null;
  /** Last modification time in epoch ms, or null when berth does not send Last-Modified. */
  readonly lastModifiedMs: number | null;
}

/** The four precondition field values, OWS-trimmed, duplicates combined; null when absent. */
export interface ConditionalFields {
  readonly ifMatch: string | null;
  readonly ifNoneMatch: string | null;
  readonly ifModifiedSince: string | null;
  readonly ifUnmodifiedSince: string | null;
}

export type PreconditionOutcome =
  | { readonly kind: "proceed" } // go on to Range evaluation and a 200/206
  | { readonly kind: "not-modified" } // 304
  | { readonly kind: "precondition-failed" }; // 412

/** The answer of one precondition: "none" when the field is absent or to be ignored. */
type Condition = "none" | "true" | "false";

const PROCEED: PreconditionOutcome = { kind: "proceed" };
const NOT_MODIFIED: PreconditionOutcome = { kind: "not-modified" };
const PRECONDITION_FAILED: PreconditionOutcome = { kind: "precondition-failed" };

/** RFC 9110 §13.2.2, in its order, for a GET or HEAD (berth serves no other method with content). */
export function evaluatePreconditions(
  method: "GET" | "HEAD",
  fields: ConditionalFields,
  validators: Validators,
  nowMs: number,
): PreconditionOutcome {
  // Steps 1 and 2: If-Unmodified-Since only counts when If-Match is absent (§13.1.4), and a
  // malformed If-Match is still present.
  const unchanged =
    fields.ifMatch !== null
      ? evaluateIfMatch(fields.ifMatch, validators.etag)
      : evaluateIfUnmodifiedSince(fields.ifUnmodifiedSince, validators.lastModifiedMs, nowMs);
  if (unchanged === "false") return PRECONDITION_FAILED;

  // Step 3: when If-None-Match is present its answer is final and If-Modified-Since is ignored
  // (§13.1.3), even when If-None-Match is true or malformed.
  if (fields.ifNoneMatch !== null) {
    return evaluateIfNoneMatch(fields.ifNoneMatch, validators.etag) === "false"
      ? failedIfNoneMatch(method)
      : PROCEED;
  }

  // Step 4, for GET and HEAD only; then step 5 is the caller's (Range, If-Range).
  const modified = evaluateIfModifiedSince(
    method,
    fields.ifModifiedSince,
    validators.lastModifiedMs,
    nowMs,
  );
  return modified === "false" ? NOT_MODIFIED : PROCEED;
}

/**
 * RFC 9110 §13.1.1: "*" is true (a current representation exists); a list is true when any tag
 * matches the current one by the STRONG comparison, so a weak tag never does; "Otherwise, the
 * condition is false". A malformed value is neither "*" nor a list of tags, so it falls to that
 * "otherwise": 412. That is also the safe way for the field's purpose — the client asked for
 * this exact representation and we cannot tell which one it meant (Go's fs.go does the same).
 */
function evaluateIfMatch(value: string, etag: string | null): Condition {
  const listed = parseEntityTagList(value);
  const currentTag = parseCurrentTag(etag);
  if (listed === "any") return "true";
  if (listed === null || currentTag === null) return "false";
  return listed.some((tag) => strongMatch(tag, currentTag)) ? "true" : "false";
}

/**
 * RFC 9110 §13.1.4: ignored when the value is not a valid HTTP-date (a list of dates included)
 * and when the resource has no modification date (the "MUST ignore" for both); otherwise true
 * when the last modification, at the one-second precision of HTTP-date, is not after the date.
 */
function evaluateIfUnmodifiedSince(
  value: string | null,
  lastModifiedMs: number | null,
  nowMs: number,
): Condition {
  if (value === null || lastModifiedMs === null) return "none";
  const dateMs = parseHttpDate(value, nowMs);
  if (dateMs === null) return "none";
  return floorToSecond(lastModifiedMs) <= dateMs ? "true" : "false";
}

/**
 * RFC 9110 §13.1.2: "*" is false (a current representation exists); a list is false when any tag
 * matches the current one by the WEAK comparison; "Otherwise, the condition is true". A malformed
 * value falls to that "otherwise", which serves the full content: the worst case is a transfer
 * the client did not need, never a 304 for content it does not have.
 */
function evaluateIfNoneMatch(value: string, etag: string | null): Condition {
  const listed = parseEntityTagList(value);
  const currentTag = parseCurrentTag(etag);
  if (listed === "any") return "false";
  if (listed === null || currentTag === null) return "true";
  return listed.some((tag) => weakMatch(tag, currentTag)) ? "false" : "true";
}

/**
 * RFC 9110 §13.1.3: ignored for methods other than GET and HEAD, for a value that is not a valid
 * HTTP-date (a list of dates included) and for a resource without a modification date; otherwise
 * false when the last modification, at one-second precision, is not after the date.
 *
 * Also ignored when the date is later than our clock. RFC 2616 §14.25 said so outright ("A date
 * which is later than the server's current time is invalid"); RFC 9110 §13.1.3 dropped the
 * sentence but still has the date read "in terms of the origin server's clock", and a date from
 * the future can only come from a wrong clock or a guess, which would otherwise turn every later
 * change of the file into a 304 until that date passes.
 */
function evaluateIfModifiedSince(
  method: "GET" | "HEAD",
  value: string | null,
  lastModifiedMs: number | null,
  nowMs: number,
): Condition {
  if (!isRetrieval(method) || value === null || lastModifiedMs === null) return "none";
  const dateMs = parseHttpDate(value, nowMs);
  if (dateMs === null || dateMs > nowMs) return "none";
  return floorToSecond(lastModifiedMs) <= dateMs ? "false" : "true";
}

/** RFC 9110 §13.1.2: a false If-None-Match is 304 for GET and HEAD, 412 for any other method. */
function failedIfNoneMatch(method: "GET" | "HEAD"): PreconditionOutcome {
  return isRetrieval(method) ? NOT_MODIFIED : PRECONDITION_FAILED;
}

/** Exhaustive on purpose: adding a method to the union must decide its answer here. */
function isRetrieval(method: "GET" | "HEAD"): boolean {
  switch (method) {
    case "GET":
    case "HEAD":
      return true;
  }
}

/** Last-Modified is sent in whole seconds (RFC 9110 §5.6.7), so a client's date carries no
 * fraction: a file changed at 12:00:00.900 was sent as 12:00:00 and must still match it. */
function floorToSecond(epochMs: number): number {
  return Math.floor(epochMs / 1000) * 1000;
}

/** The ETag we send is ours to get right: an unparseable one is a bug, not a peer mistake. */
function parseCurrentTag(etag: string | null): EntityTag | null {
  if (etag === null) return null;
  const tag = parseEntityTag(etag);
  if (tag === null) throw new TypeError(`Invalid ETag for the current representation: ${etag}`);
  return tag;
}
