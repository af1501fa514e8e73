/**
 * Response header fields the user adds (`--header "Name: value"`, `headers` and `rules[].headers`
 * in berth.json). Pure: checked once at start-up, turned into precomputed "Name: value\r\n" text
 * that a handler appends to a response head without any per-request work.
 *
 * What is refused, and why:
 * - a name that is not a token (RFC 9110 §5.1), or a value with a character outside field-vchar,
 *   SP and HTAB (RFC 9110 §5.5): CR, LF and NUL could split the head (response splitting);
 *   non-ASCII is refused too, since heads are written byte per character and RFC 9110 §5.5 only
 *   tolerates obs-text for old senders;
 * - fields berth writes itself (framing, Date, the file's own metadata): a second copy would
 *   contradict ours (two Content-Lengths are a smuggling vector, RFC 9112 §6.3) or leave the
 *   client to choose between two values.
 */
import { trimOws } from "./headers.js";
import { FIELD_VALUE_CHAR, isTokenString } from "./tokens.js";

export interface ExtraHeader {
  /** As the user spelled it (field names are case-insensitive, RFC 9110 §5.1). */
  readonly name: string;
  /** Without leading or trailing whitespace (RFC 9110 §5.5). */
  readonly value: string;
}

export type ParsedHeader =
  | { readonly kind: "header"; readonly header: ExtraHeader }
  | { readonly kind: "error"; readonly reason: string };

/** Lowercased name → why berth refuses to add it. */
const REFUSED: ReadonlyMap<string, string> = new Map([
  ...[
    "content-length",
    "transfer-encoding",
    "content-range",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
    "te",
    "trailer",
  ].map((name) => [name, "berth frames every response itself (RFC 9112 §6, §9.6)"] as const),
  ["date", "berth sends Date on every response (RFC 9110 §6.6.1)"],
  ...["content-type", "content-encoding", "etag", "last-modified", "accept-ranges", "vary"].map(
    (name) => [name, "berth sets it from the file it serves"] as const,
  ),
  ["location", "berth sets it on its own redirects"],
  ["allow", "berth sets it on OPTIONS, 405 and 501 answers"],
  ["x-content-type-options", "berth always sends X-Content-Type-Options: nosniff"],
  ["cache-control", "use --max-age, --immutable or a rule's cacheControl"],
  ["host", "it is a request field"],
]);

/** Access-Control-* fields are the CORS module's (--cors, --cors-origin). */
export const CORS_FIELD_PREFIX = "access-control-";

/** Every name berth refuses to add, lowercased (besides Access-Control-*). */
export const REFUSED_HEADER_NAMES: readonly string[] = [...REFUSED.keys()];

/** `"Name: value"` as given to --header. */
export function parseHeaderLine(text: string): ParsedHeader {
  const colon = text.indexOf(":");
  if (colon === -1) return error('expected "Name: value"');
  return checkHeader(text.slice(0, colon), text.slice(colon + 1));
}

/**
 * Checks one name and value (a berth.json `headers` entry); the value's surrounding SP/HTAB is
 * removed, as a recipient would (RFC 9110 §5.5).
 */
export function checkHeader(name: string, rawValue: string): ParsedHeader {
  if (name.length === 0) return error("the field name is empty");
  if (!isTokenString(name)) {
    // RFC 9112 §5.1: no whitespace between name and colon; RFC 9110 §5.1: name = token.
    return error(
      `"${printable(name)}" is not a valid field name (letters, digits and !#$%&'*+-.^_\`|~ only)`,
    );
  }
  const lower = name.toLowerCase();
  const refusal = REFUSED.get(lower);
  if (refusal !== undefined) return error(`${name} cannot be set: ${refusal}`);
  if (lower.startsWith(CORS_FIELD_PREFIX))
    return error(`${name} cannot be set: use --cors or --cors-origin`);
  const value = trimOws(rawValue);
  const bad = findBadValueChar(value);
  if (bad !== null) return error(`the value of ${name} holds ${bad}`);
  return { kind: "header", header: { name, value } };
}

/** Why `value` cannot be a field value as berth writes it, or null when it can. */
export function findBadValueChar(value: string): string | null {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0x7e || FIELD_VALUE_CHAR[code] !== 1) {
      return `${describeChar(code)} (allowed: visible ASCII, space, tab)`;
    }
  }
  return null;
}

/** The precomputed lines a handler appends to a head: "Name: value\r\n" for each, in order. */
export function formatExtraHeaderLines(headers: readonly ExtraHeader[]): string {
  let lines = "";
  for (const { name, value } of headers) lines += `${name}: ${value}\r\n`;
  return lines;
}

/**
 * `later` overrides `earlier` by name (case-insensitive); names `later` does not set keep every
 * line of `earlier`, in order. Used for rule headers over the global ones.
 */
export function overrideHeaders(
  earlier: readonly ExtraHeader[],
  later: readonly ExtraHeader[],
): ExtraHeader[] {
  const overridden = new Set(later.map(({ name }) => name.toLowerCase()));
  return [...earlier.filter(({ name }) => !overridden.has(name.toLowerCase())), ...later];
}

function describeChar(code: number): string {
  if (code === 0x0d) return "a CR";
  if (code === 0x0a) return "an LF";
  if (code === 0) return "a NUL";
  if (code > 0x7f)
    return `a non-ASCII character (U+${code.toString(16).toUpperCase().padStart(4, "0")})`;
  return `a control character (0x${code.toString(16).padStart(2, "0")})`;
}

/** A name for an error message, with control characters made visible. */
function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function error(reason: string): ParsedHeader {
  return { kind: "error", reason };
}
