/**
 * Request path → the segments of a file path below the served root, or the reason it must not be
 * served. Pure: no fs, no I/O. open-servable.ts re-checks the answer against the real file system
 * (symlinks can undo anything decided here), so this is the first wall, not the only one.
 *
 * Order of work, and why:
 * 1. Split the still-encoded path on "/" first, then percent-decode each segment once. A "%2F"
 *    can then never become a segment boundary, and "%252e" decodes to the name "%2e", never ".".
 * 2. Remove dot segments (RFC 3986 §5.2.4) on the decoded segments, so "%2e%2e" is ".." too
 *    (RFC 3986 §2.3/§6.2.2.2 make "%2E" and "." equivalent). Climbing above the root is refused,
 *    never clamped to the root: a client that asks for "/../x" is not asking for "/x".
 * 3. Judge what remains: dotfiles, segment length.
 *
 * When a path has several faults the answer is stable: a malformed path (bad-request) wins over
 * a refusal (not-found); among ENCODED_SLASH, BACKSLASH and ESCAPES_ROOT the first in path order
 * wins; then DOTFILE, then SEGMENT_TOO_LONG, judged on the segments that remain ("/.env/.." is
 * "/", so it is not a dotfile request).
 */

export type DotfilePolicy = "allow" | "deny";

export type ResolvedPath =
  | {
      readonly kind: "ok";
      readonly segments: readonly string[];
      /** The path names a directory ("/a/", "/a/."): the caller serves its index or lists it,
       * and never serves a file at a directory-form path. */
      readonly directoryForm: boolean;
    }
  | {
      readonly kind: "bad-request";
      readonly reason: "BAD_PERCENT_ENCODING" | "ENCODED_NUL" | "BAD_UTF8" | "NOT_ABSOLUTE";
    }
  | {
      readonly kind: "not-found";
      readonly reason:
        | "ESCAPES_ROOT"
        | "DOTFILE"
        | "ENCODED_SLASH"
        | "BACKSLASH"
        | "SEGMENT_TOO_LONG";
    };

type BadRequest = Extract<ResolvedPath, { kind: "bad-request" }>;
type NotFound = Extract<ResolvedPath, { kind: "not-found" }>;

/** Longest path segment, in UTF-8 bytes: NAME_MAX on Linux and macOS, and the limit of ext4, XFS,
 * btrfs and APFS. A longer segment cannot name a file, so it is refused without asking the fs. */
export const MAX_SEGMENT_BYTES = 255;

/** RFC 8615 §3: "/.well-known/" is the one dot-directory meant to be public (ACME challenges,
 * security.txt), and only directly under the root. */
export const WELL_KNOWN_SEGMENT = ".well-known";

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const DOT = 0x2e;
const FIRST_VISIBLE_ASCII = 0x21;
const LAST_VISIBLE_ASCII = 0x7e;

const NOT_ABSOLUTE: BadRequest = { kind: "bad-request", reason: "NOT_ABSOLUTE" };
const BAD_PERCENT_ENCODING: BadRequest = { kind: "bad-request", reason: "BAD_PERCENT_ENCODING" };
const ENCODED_NUL: BadRequest = { kind: "bad-request", reason: "ENCODED_NUL" };
const BAD_UTF8: BadRequest = { kind: "bad-request", reason: "BAD_UTF8" };
const ESCAPES_ROOT: NotFound = { kind: "not-found", reason: "ESCAPES_ROOT" };
const DOTFILE: NotFound = { kind: "not-found", reason: "DOTFILE" };
const ENCODED_SLASH: NotFound = { kind: "not-found", reason: "ENCODED_SLASH" };
const BACKSLASH_IN_SEGMENT: NotFound = { kind: "not-found", reason: "BACKSLASH" };
const SEGMENT_TOO_LONG: NotFound = { kind: "not-found", reason: "SEGMENT_TOO_LONG" };

// fatal: a malformed sequence (truncated "%C3", overlong "%C0%AE" for ".", a lone surrogate
// "%ED%A0%80") is refused instead of becoming U+FFFD, so two different byte strings never name the
// same file. ignoreBOM: keep a leading U+FEFF as part of the name; by default the decoder drops it
// and "/%EF%BB%BFsecret" would open "secret".
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Resolves `rawPath` (the request path exactly as sent, percent-encoded, without the query) to
 * the segments it names below the root.
 *
 * Precondition: `rawPath` holds only visible ASCII (the request parser rejects anything else,
 * RFC 9112 §3.2). A raw space, control or non-ASCII character here is our bug and throws.
 */
export function resolveRequestPath(rawPath: string, dotfiles: DotfilePolicy): ResolvedPath {
  if (rawPath.charCodeAt(0) !== SLASH) {
    return NOT_ABSOLUTE;
  }
  return isPlainPath(rawPath) ? resolvePlainPath(rawPath) : resolveEncodedPath(rawPath, dotfiles);
}

/**
 * Whether `segments` hold a dotfile that the "deny" policy hides: any segment starting with ".",
 * except a first segment exactly ".well-known" (RFC 8615; case-sensitive, as paths are).
 * open-servable.ts applies the same rule to the real path of what it opened.
 */
export function hasDeniedDotfile(segments: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment.charCodeAt(0) === DOT && !(i === 0 && segment === WELL_KNOWN_SEGMENT)) {
      return true;
    }
  }
  return false;
}

/** Most requests ("/", "/index.html", "/assets/app.3f2a.js") take this path: no "%" means nothing
 * to decode, and a "." only inside a name (never at a segment's start) means no dot segment and no
 * dotfile. Anything else, including "\\", "//" and characters outside visible ASCII, takes the
 * careful path. */
function isPlainPath(rawPath: string): boolean {
  let previous = 0;
  for (let i = 0; i < rawPath.length; i++) {
    const code = rawPath.charCodeAt(i);
    if (
      code === PERCENT ||
      code === BACKSLASH ||
      (code === DOT && previous === SLASH) ||
      (code === SLASH && previous === SLASH) ||
      code < FIRST_VISIBLE_ASCII ||
      code > LAST_VISIBLE_ASCII
    ) {
      return false;
    }
    previous = code;
  }
  return true;
}

function resolvePlainPath(rawPath: string): ResolvedPath {
  const directoryForm = rawPath.charCodeAt(rawPath.length - 1) === SLASH;
  const body = directoryForm ? rawPath.slice(1, -1) : rawPath.slice(1);
  const segments = body === "" ? [] : body.split("/");
  for (const segment of segments) {
    // Plain segments are ASCII: one character is one byte.
    if (segment.length > MAX_SEGMENT_BYTES) {
      return SEGMENT_TOO_LONG;
    }
  }
  return { kind: "ok", segments, directoryForm };
}

function resolveEncodedPath(rawPath: string, dotfiles: DotfilePolicy): ResolvedPath {
  const rawSegments = rawPath.split("/");
  const segments: string[] = [];
  let refusal: NotFound | undefined;
  let directoryForm = false;
  // rawSegments[0] is the empty string before the leading "/".
  for (let i = 1; i < rawSegments.length; i++) {
    const decoded = decodeSegment(rawSegments[i] as string);
    if (typeof decoded !== "string") {
      return decoded;
    }
    // RFC 3986 §5.2.4 leaves a trailing "/" after a final "." or "..": "/a/.." is "/".
    directoryForm = decoded === "" || decoded === "." || decoded === "..";
    if (refusal !== undefined) {
      // Already refused; keep decoding only so a later malformed segment still answers 400.
      continue;
    }
    refusal = refusalForDecodedSegment(decoded);
    if (refusal !== undefined || decoded === "" || decoded === ".") {
      continue;
    }
    if (decoded === "..") {
      if (segments.pop() === undefined) {
        refusal = ESCAPES_ROOT;
      }
      continue;
    }
    segments.push(decoded);
  }
  if (refusal !== undefined) {
    return refusal;
  }
  return judgeRemainingSegments(segments, directoryForm, dotfiles);
}

function refusalForDecodedSegment(decoded: string): NotFound | undefined {
  // RFC 3986 §2.2: "%2F" is data, not a separator, and no file name can hold a "/". Refused, as
  // Apache does by default (AllowEncodedSlashes Off), rather than guessing what was meant.
  if (decoded.includes("/")) {
    return ENCODED_SLASH;
  }
  // A backslash is a separator on Windows and in some proxies' and CDNs' normalisation; a name
  // holding one is never worth the ambiguity.
  if (decoded.includes("\\")) {
    return BACKSLASH_IN_SEGMENT;
  }
  return undefined;
}

function judgeRemainingSegments(
  segments: readonly string[],
  directoryForm: boolean,
  dotfiles: DotfilePolicy,
): ResolvedPath {
  if (dotfiles === "deny" && hasDeniedDotfile(segments)) {
    return DOTFILE;
  }
  for (const segment of segments) {
    if (utf8ByteLengthExceeds(segment, MAX_SEGMENT_BYTES)) {
      return SEGMENT_TOO_LONG;
    }
  }
  return { kind: "ok", segments, directoryForm };
}

/** Percent-decodes one segment (RFC 3986 §2.1) and reads the bytes as UTF-8. */
function decodeSegment(raw: string): string | BadRequest {
  let hasPercent = false;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code < FIRST_VISIBLE_ASCII || code > LAST_VISIBLE_ASCII) {
      throw new RangeError(
        `resolveRequestPath: character U+${code.toString(16).padStart(4, "0")} in a request path; the parser must reject it`,
      );
    }
    hasPercent ||= code === PERCENT;
  }
  return hasPercent ? percentDecode(raw) : raw;
}

function percentDecode(raw: string): string | BadRequest {
  // Every raw character is one byte and every escape three characters for one byte, so the
  // decoded bytes never outnumber the raw characters.
  const bytes = new Uint8Array(raw.length);
  let length = 0;
  let isAscii = true;
  for (let i = 0; i < raw.length; ) {
    const code = raw.charCodeAt(i);
    if (code !== PERCENT) {
      bytes[length++] = code;
      i += 1;
      continue;
    }
    const high = hexDigitValue(raw.charCodeAt(i + 1));
    const low = hexDigitValue(raw.charCodeAt(i + 2));
    if (high < 0 || low < 0) {
      return BAD_PERCENT_ENCODING;
    }
    const byte = high * 16 + low;
    // A NUL ends the name at the syscall (and Node throws on it): never a legitimate name.
    if (byte === 0) {
      return ENCODED_NUL;
    }
    isAscii &&= byte < 0x80;
    bytes[length++] = byte;
    i += 3;
  }
  const decodedBytes = bytes.subarray(0, length);
  if (isAscii) {
    return String.fromCharCode(...decodedBytes);
  }
  try {
    return utf8.decode(decodedBytes);
  } catch {
    return BAD_UTF8;
  }
}

/** The value of one hex digit (RFC 3986 §2.1: either case), or -1. NaN (past the end) gives -1. */
function hexDigitValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/** Whether the UTF-8 encoding of `text` is longer than `limitBytes`, without encoding it. */
function utf8ByteLengthExceeds(text: string, limitBytes: number): boolean {
  // A UTF-16 code unit takes at most 3 bytes (a surrogate pair: 2 units, 4 bytes).
  if (text.length * 3 <= limitBytes) {
    return false;
  }
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    // Each half of a surrogate pair counts 2, so the pair counts 4.
    else if (code >= 0xd800 && code <= 0xdfff) bytes += 2;
    else bytes += 3;
  }
  return bytes > limitBytes;
}
