import { parseHttpDate } from "../http/http-date.js";

/**
 * Range requests (RFC 9110 §14): the Range header as a list of byte spans of the selected
 * representation, and the If-Range condition that decides whether those spans may be honoured.
 * Pure: values in, values out.
 */

/** An inclusive-exclusive byte span of the selected representation. */
export interface ByteRange {
  readonly start: number;
  readonly length: number;
}

export type RangeResult =
  // One or more spans, coalesced, in the order the parts go out (RFC 9110 §15.3.7.2).
  | { readonly kind: "ranges"; readonly ranges: readonly ByteRange[] }
  // → 416 with "Content-Range: bytes */size" (RFC 9110 §14.4 unsatisfied-range, §15.5.17).
  | { readonly kind: "unsatisfiable" }
  // → 200 with the full representation (RFC 9110 §14.2: a server MAY ignore Range).
  | { readonly kind: "ignore" };

/** Default cap on range-specs in one header (abuse guard); more → ignore. 32 is far above what
 * real clients send (media players and download managers send 1, PDF viewers a handful) and keeps
 * the per-request work and the number of multipart parts small. */
export const DEFAULT_MAX_RANGES = 32;

const IGNORE: RangeResult = { kind: "ignore" };
const UNSATISFIABLE: RangeResult = { kind: "unsatisfiable" };

/**
 * RFC 9110 §14.1.1 / §14.2: evaluates a Range field value against a representation of
 * `sizeBytes` bytes. `header` is the field value with its surrounding OWS already removed
 * (RFC 9110 §5.5), as the request parser delivers it.
 *
 * Decisions beyond the RFC, each an "ignore" (a 200 is always a correct answer, §14.2):
 * - any invalid range-spec invalidates the whole header (§14.1.1 grammar; Go does the same);
 * - more than `maxRanges` specs as written;
 * - satisfiable spans whose lengths add up to more than the representation (Go's guard against
 *   "bytes=0-,0-,0-,…" amplification);
 * - an empty representation (`sizeBytes === 0`): nothing could ever be satisfiable, and a 200
 *   with an empty body serves the client better than a 416.
 */
export function parseRange(
  header: string,
  sizeBytes: number,
  maxRanges: number = DEFAULT_MAX_RANGES,
): RangeResult {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    throw new RangeError(
      `parseRange: sizeBytes must be a non-negative safe integer, got ${sizeBytes}`,
    );
  }
  if (!Number.isSafeInteger(maxRanges) || maxRanges < 1) {
    throw new RangeError(`parseRange: maxRanges must be a positive integer, got ${maxRanges}`);
  }
  if (sizeBytes === 0) return IGNORE;

  const specs = parseRangeSpecs(header, maxRanges);
  if (specs === null) return IGNORE;

  const satisfiable: ByteRange[] = [];
  let totalBytes = 0;
  for (const spec of specs) {
    const range = resolveSpec(spec, sizeBytes);
    if (range === null) continue;
    totalBytes += range.length;
    if (totalBytes > sizeBytes) return IGNORE;
    satisfiable.push(range);
  }
  // RFC 9110 §14.1.1: the set is satisfiable if at least one of its specs is; the others are
  // dropped, not reported.
  if (satisfiable.length === 0) return UNSATISFIABLE;
  return { kind: "ranges", ranges: coalesceRanges(satisfiable) };
}

/**
 * A range-spec as written. Positions too large for exact float arithmetic are Infinity; that is
 * exact enough because sizeBytes is a safe integer: an infinite first-pos is never < size, an
 * infinite last-pos clips to the end, an infinite suffix-length covers the whole representation.
 */
type RangeSpec =
  | { readonly kind: "int-range"; readonly firstPos: number; readonly lastPos: number | null }
  | { readonly kind: "suffix-range"; readonly suffixLength: number };

// RFC 9110 §14.1.1: int-range = first-pos "-" [ last-pos ], suffix-range = "-" suffix-length,
// each position 1*DIGIT. No sign, no inner whitespace.
const INT_RANGE = /^([0-9]+)-([0-9]*)$/;
const SUFFIX_RANGE = /^-([0-9]+)$/;
// RFC 9110 §14.1: range units compare case-insensitively. Without the `u` flag, `i` never folds
// a non-ASCII character onto an ASCII one, so only the 32 ASCII spellings match.
const BYTES_UNIT = /^bytes$/i;

/** The specs of a `bytes` ranges-specifier, or null when the header must be ignored (other unit,
 * bad syntax, no spec, or more than `maxRanges` specs). */
function parseRangeSpecs(header: string, maxRanges: number): RangeSpec[] | null {
  const equals = header.indexOf("=");
  if (equals === -1) return null;
  // RFC 9110 §14.1.1: ranges-specifier = range-unit "=" range-set, with no OWS around "=". A
  // space before "=" is part of the unit and fails this test. A space after "=" is the leading
  // OWS of the list (RFC 9110 §5.6.1.2 asks recipients to accept empty elements, so "bytes= ,1-2"
  // must parse; refusing "bytes= 1-2" would be inconsistent) and is accepted below.
  if (!BYTES_UNIT.test(header.slice(0, equals))) return null;

  const specs: RangeSpec[] = [];
  for (const element of header.slice(equals + 1).split(",")) {
    const text = trimOws(element);
    // RFC 9110 §5.6.1.2: empty list elements are skipped.
    if (text === "") continue;
    if (specs.length === maxRanges) return null;
    const spec = parseRangeSpec(text);
    if (spec === null) return null;
    specs.push(spec);
  }
  return specs.length === 0 ? null : specs;
}

function parseRangeSpec(text: string): RangeSpec | null {
  const suffix = SUFFIX_RANGE.exec(text);
  if (suffix !== null) {
    return { kind: "suffix-range", suffixLength: parseDecimal(suffix[1] ?? "") };
  }
  const int = INT_RANGE.exec(text);
  if (int === null) return null;
  const first = int[1] ?? "";
  const last = int[2] ?? "";
  if (last === "") return { kind: "int-range", firstPos: parseDecimal(first), lastPos: null };
  // RFC 9110 §14.1.1: last-pos < first-pos makes the spec invalid. Compared as digit strings,
  // because two huge positions may both have become Infinity.
  if (compareDecimal(last, first) < 0) return null;
  return { kind: "int-range", firstPos: parseDecimal(first), lastPos: parseDecimal(last) };
}

/** RFC 9110 §14.1.1–§14.1.2: the span a spec selects, or null when it is unsatisfiable. */
function resolveSpec(spec: RangeSpec, sizeBytes: number): ByteRange | null {
  switch (spec.kind) {
    case "int-range": {
      if (spec.firstPos >= sizeBytes) return null;
      // A last-pos at or beyond the end means "to the end".
      const end = spec.lastPos === null ? sizeBytes : Math.min(spec.lastPos + 1, sizeBytes);
      return { start: spec.firstPos, length: end - spec.firstPos };
    }
    case "suffix-range": {
      if (spec.suffixLength === 0) return null;
      // A suffix longer than the representation selects all of it.
      const start = Math.max(0, sizeBytes - spec.suffixLength);
      return { start, length: sizeBytes - start };
    }
  }
}

/**
 * RFC 9110 §14.2 lets a server coalesce overlapping or adjacent ranges; §15.3.7.2 has parts keep
 * the order of the request. Each group of ranges that overlap or touch (directly or through other
 * members) becomes one span, placed where its earliest member was requested; groups that do not
 * touch keep request order. Sorting by start and sweeping finds exactly these groups, because a
 * span touching the union of a group touches one of its members.
 */
function coalesceRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const byStart = ranges
    .map((range, order) => ({ start: range.start, end: range.start + range.length, order }))
    .sort((a, b) => a.start - b.start || a.order - b.order);

  const groups: { start: number; end: number; order: number }[] = [];
  for (const range of byStart) {
    const last = groups.at(-1);
    if (last !== undefined && range.start <= last.end) {
      last.end = Math.max(last.end, range.end);
      last.order = Math.min(last.order, range.order);
    } else {
      groups.push({ ...range });
    }
  }
  return groups
    .sort((a, b) => a.order - b.order)
    .map((group) => ({ start: group.start, length: group.end - group.start }));
}

/** OWS = *( SP / HTAB ) (RFC 9110 §5.6.3); String#trim would also strip CR, LF, NBSP and more. */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** 1*DIGIT as a number, Infinity when above Number.MAX_SAFE_INTEGER (see RangeSpec). */
function parseDecimal(digits: string): number {
  const significant = stripLeadingZeros(digits);
  // 16 digits reach past MAX_SAFE_INTEGER (9007199254740991); any 16-digit value above it rounds
  // to at least 2^53, so the comparison below cannot be fooled by rounding.
  if (significant.length > 16) return Number.POSITIVE_INFINITY;
  const value = Number(significant);
  return value > Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : value;
}

/** Compares two 1*DIGIT strings by value, exactly, at any length. */
function compareDecimal(a: string, b: string): number {
  const x = stripLeadingZeros(a);
  const y = stripLeadingZeros(b);
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

function stripLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 0x30) i++;
  return digits.slice(i);
}

// ---------------------------------------------------------------------------------------------
// If-Range

/** The current validators of the selected representation, as sent in ETag and Last-Modified. */
export interface RangeValidators {
  /** The ETag value as sent, quotes included, e.g. `"1a-2b"` or `W/"1a"`; null when none. */
  readonly etag: string | null;
  /** The Last-Modified time; compared at the one-second precision of an HTTP-date. */
  readonly lastModifiedMs: number | null;
}

/**
 * RFC 9110 §14.5 / §13.1.5: If-Range = entity-tag / HTTP-date. True when the ranges may be
 * honoured; false means the Range header must be ignored and the full representation sent.
 *
 * Step 2 of §13.1.5 (an HTTP-date that is not a strong validator in the sense of §8.8.2.2 makes
 * the condition false) needs the response's Date, which this pure function does not see: a
 * caller that cannot vouch for Last-Modified as strong passes `lastModifiedMs: null`.
 */
export function evaluateIfRange(ifRange: string, validators: RangeValidators): boolean {
  // RFC 9110 §13.1.5: an entity-tag starts with DQUOTE or "W/"; an HTTP-date never does.
  if (ifRange.startsWith('"') || ifRange.startsWith("W/")) {
    return isStrongEtagMatch(ifRange, validators.etag);
  }
  if (validators.lastModifiedMs === null) return false;
  // parseHttpDate reads an rfc850 two-digit year against "now" (RFC 9110 §5.6.7). Last-Modified
  // stands in for it: it is the only instant that can match, and it lies in the past, so the
  // century comes out as the RFC's for any file changed in the last 50 years, with no clock read.
  const dateMs = parseHttpDate(ifRange, validators.lastModifiedMs);
  // RFC 9110 §13.1.5: an exact match, unlike If-Unmodified-Since's "earlier than or equal to".
  // Last-Modified is sent at whole seconds, so the file's time is floored before comparing.
  return dateMs !== null && dateMs === Math.floor(validators.lastModifiedMs / 1000) * 1000;
}

/** RFC 9110 §8.8.3.2 strong comparison: both tags strong and identical character for character.
 * A weak tag in If-Range never matches (§13.1.5: clients MUST NOT send one). */
function isStrongEtagMatch(tag: string, current: string | null): boolean {
  return current !== null && isStrongEntityTag(tag) && tag === current;
}

/** RFC 9110 §8.8.3: opaque-tag = DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text. */
function isStrongEntityTag(text: string): boolean {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return false;
  for (let i = 1; i < text.length - 1; i++) {
    const code = text.charCodeAt(i);
    if (!(code === 0x21 || (code >= 0x23 && code <= 0x7e) || (code >= 0x80 && code <= 0xff))) {
      return false;
    }
  }
  return true;
}
