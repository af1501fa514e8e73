import type { Stats } from "node:fs";

/**
 * A strong entity tag (RFC 9110 §8.8.3) from the file's identity, size and modification time:
 * inode, size and mtime in microseconds, hex. Any rewrite of the file changes its size or mtime,
 * and a replaced file changes its inode, so two representations never share a tag; computing it
 * costs no read of the content (hashing a 3 GB file before answering is what stalls `serve`).
 */
export function formatStrongEtag(stats: Stats): string {
  const mtimeMicros = Math.round(stats.mtimeMs * 1000);
  return `"${stats.ino.toString(16)}-${stats.size.toString(16)}-${mtimeMicros.toString(16)}"`;
}

/** Last-Modified is only worth sending for a plausible date: a file stamped at the epoch
 * (reproducible builds) or in the future would cause false 304s (RFC 9110 §8.8.2.1). */
export function hasPlausibleMtime(stats: Stats, nowMs: number): boolean {
  return stats.mtimeMs > 0 && stats.mtimeMs <= nowMs;
}

/** RFC 9110 §8.8.3: entity-tag = [ "W/" ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE;
 * etagc = %x21 / %x23-7E / obs-text */
export interface EntityTag {
  readonly weak: boolean;
  /** The opaque-tag with its quotes, e.g. `"1a-2b"`. */
  readonly opaque: string;
}

const DQUOTE = 0x22;
const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;

/** RFC 9110 §8.8.3 etagc: visible ASCII except DQUOTE, plus obs-text. Field values are latin1
 * strings (one char per byte), so obs-text is U+0080–U+00FF and anything above is not a byte. */
function isEtagChar(code: number): boolean {
  return code === 0x21 || (code >= 0x23 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/** Reads one entity-tag starting exactly at `start`; returns it and the index after it, or null. */
function readEntityTag(text: string, start: number): { tag: EntityTag; end: number } | null {
  // "W/" is case-sensitive (%s"W/") and nothing may stand between it and the quote.
  const weak = text.startsWith("W/", start);
  const open = weak ? start + 2 : start;
  if (text.charCodeAt(open) !== DQUOTE) return null;
  let i = open + 1;
  while (i < text.length && isEtagChar(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== DQUOTE) return null;
  return { tag: { weak, opaque: text.slice(open, i + 1) }, end: i + 1 };
}

/** One entity-tag and nothing else (an ETag or If-Range value), or null when malformed. */
export function parseEntityTag(text: string): EntityTag | null {
  const read = readEntityTag(text, 0);
  return read !== null && read.end === text.length ? read.tag : null;
}

function isOws(code: number): boolean {
  return code === SP || code === HTAB;
}

/**
 * Parses an If-Match / If-None-Match value, `"*" / #entity-tag` (RFC 9110 §13.1.1, §13.1.2):
 * "any" for `*`, else the listed tags. List elements may have OWS around them and empty elements
 * are skipped (RFC 9110 §5.6.1), so `""` and `" , "` are valid empty lists. Anything else —
 * a tag without quotes, `W/ "a"`, an unterminated or unseparated tag, a control character, or `*`
 * inside a list — makes the whole value null: RFC 9110 §13.1.2 calls a list holding `*`
 * "syntactically invalid", and guessing which part the sender meant could turn a mistake into a
 * match. The caller decides what null means for its field (see preconditions.ts).
 */
export function parseEntityTagList(value: string): "any" | readonly EntityTag[] | null {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  const text = value.slice(start, end);
  if (text === "*") return "any";

  const tags: EntityTag[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) === COMMA || isOws(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const read = readEntityTag(text, i);
    if (read === null) return null;
    tags.push(read.tag);
    i = read.end;
    while (i < text.length && isOws(text.charCodeAt(i))) i++;
    // The next element starts only after a comma: `"a" "b"` and `"a""b"` are not lists.
    if (i < text.length && text.charCodeAt(i) !== COMMA) return null;
  }
  return tags;
}

/** RFC 9110 §8.8.3.2 strong comparison: neither is weak and the opaque-tags are identical. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** RFC 9110 §8.8.3.2 weak comparison: the opaque-tags are identical, weakness ignored. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}
