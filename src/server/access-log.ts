/**
 * Access-log formats (`--log-format`). Pure: the connection hands over a small record per answered
 * request; the formatter chosen at start-up turns it into one line. When access logging is off no
 * record is built at all (connection.ts), so the formats cost nothing then.
 *
 * Every byte that came from the peer is escaped so that a hostile request can never forge a line
 * or a field: the request-target, Referer, User-Agent and Host are the peer's bytes (as latin1
 * characters, one per byte).
 * - common, combined: like nginx, `"`, `\`, control characters, DEL and every non-ASCII byte are
 *   written as `\xHH`, so a quoted field never holds a quote and a line never holds a line break.
 * - json: each field through JSON.stringify, with everything from DEL up also written as `\u00HH`:
 *   the line is pure ASCII, so no reader can split it at U+0085, U+2028 or U+2029.
 */
import { fieldValue } from "../http/headers.js";
import { formatLogDate, SecondCache } from "../http/http-date.js";
import type { RequestHead } from "../http/request-types.js";

/** One answered request. */
export interface AccessRecord {
  /** The peer's address ("127.0.0.1", "::1"), or "-" (a Unix socket peer). */
  readonly remote: string;
  /** null when the request could not be parsed (a 400 for a malformed head, a 408). */
  readonly request: RequestHead | null;
  readonly status: number;
  /** Content bytes sent (the head not included). */
  readonly bodyBytes: number;
  /** Wall-clock time the request head was complete, epoch ms. */
  readonly startMs: number;
  /** From the complete head to the last byte handed to the socket, whole ms. */
  readonly durationMs: number;
}

export type AccessLogFormat = "common" | "combined" | "json";

export const ACCESS_LOG_FORMATS: readonly AccessLogFormat[] = ["common", "combined", "json"];

export type AccessFormatter = (record: AccessRecord) => string;

export interface AccessFormatterOptions {
  /** Starts every request id of this process (random per process in production, so ids from
   * several processes or restarts never collide); a counter follows it. */
  readonly requestIdPrefix: string;
}

/** The formatter for `format`; its request-id counter is its own. */
export function createAccessFormatter(
  format: AccessLogFormat,
  options: AccessFormatterOptions,
): AccessFormatter {
  switch (format) {
    case "common":
      return formatCommonLine;
    case "combined":
      return formatCombinedLine;
    case "json": {
      let sequence = 0;
      const prefix = `${options.requestIdPrefix}-`;
      return (record) => formatJsonLine(record, prefix + (++sequence).toString(36));
    }
  }
}

const clfDates = new SecondCache(formatLogDate);

/** Common Log Format: `remote - - [time] "request-line" status bytes`, "-" for no content. */
export function formatCommonLine(record: AccessRecord): string {
  const bytes = record.bodyBytes === 0 ? "-" : String(record.bodyBytes);
  return `${record.remote} - - [${clfDates.at(record.startMs)}] "${requestLineOf(record.request)}" ${record.status} ${bytes}`;
}

/** Combined Log Format: common plus `"Referer" "User-Agent"` ("-" when absent). */
export function formatCombinedLine(record: AccessRecord): string {
  const fields = record.request?.fields;
  const referer = fields === undefined ? null : fieldValue(fields, "referer");
  const userAgent = fields === undefined ? null : fieldValue(fields, "user-agent");
  return `${formatCommonLine(record)} "${referer === null ? "-" : escapeClfField(referer)}" "${userAgent === null ? "-" : escapeClfField(userAgent)}"`;
}

const isoSeconds = new SecondCache((epochMs) => new Date(epochMs).toISOString().slice(0, 20));

/**
 * One JSON object per line. Fields, in this order: time (ISO 8601 UTC with milliseconds), remote,
 * method, target, version, status, bytes, durationMs, requestId, referer, userAgent, host.
 * method, target, version, referer, userAgent and host are null when absent (a request that could
 * not be parsed has none of them).
 */
export function formatJsonLine(record: AccessRecord, requestId: string): string {
  const request = record.request;
  const fields = request?.fields;
  const ms = record.startMs % 1000;
  const time = `${isoSeconds.at(record.startMs)}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
  return (
    `{"time":"${time}","remote":${jsonString(record.remote)}` +
    `,"method":${jsonOrNull(request?.method)}` +
    `,"target":${jsonOrNull(request?.target)}` +
    `,"version":${jsonOrNull(request?.versionText)}` +
    `,"status":${record.status},"bytes":${record.bodyBytes},"durationMs":${record.durationMs}` +
    `,"requestId":${jsonString(requestId)}` +
    `,"referer":${jsonOrNull(fields === undefined ? null : fieldValue(fields, "referer"))}` +
    `,"userAgent":${jsonOrNull(fields === undefined ? null : fieldValue(fields, "user-agent"))}` +
    // An HTTP/1.0 request may have no Host: "" then, logged as null.
    `,"host":${jsonOrNull(request === null || request.host === "" ? null : request?.host)}}`
  );
}

function requestLineOf(request: RequestHead | null): string {
  if (request === null) return "-";
  // Each part on its own: they are flat slices of the head, a concatenation would be flattened
  // by the test. (The parser already limits method and version to tokens; escaped anyway.)
  return `${escapeClfField(request.method)} ${escapeClfField(request.target)} ${escapeClfField(request.versionText)}`;
}

/** Bytes a CLF field may hold as they are: visible ASCII and space, except `"` and `\`. */
const CLF_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** nginx's escaping for quoted log fields: `"`, `\`, controls, DEL and non-ASCII → `\xHH`.
 * Characters above U+00FF (never from the wire, which is latin1) go as their UTF-8 bytes. */
export function escapeClfField(text: string): string {
  if (CLF_SAFE.test(text)) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e && code !== 0x22 && code !== 0x5c) {
      out += text[i];
    } else if (code <= 0xff) {
      out += hexEscape(code);
    } else {
      const char = String.fromCodePoint(text.codePointAt(i) ?? code);
      if (char.length === 2) i++;
      for (const byte of Buffer.from(char, "utf8")) out += hexEscape(byte);
    }
  }
  return out;
}

function hexEscape(byte: number): string {
  return `\\x${byte < 16 ? "0" : ""}${byte.toString(16).toUpperCase()}`;
}

/** Everything from DEL up: JSON.stringify leaves these raw. */
const NON_ASCII = /[\u007f-\uffff]/g;

/** A JSON string literal holding only ASCII. */
export function jsonString(text: string): string {
  // The usual field needs no escaping: CLF's safe set is also JSON's (and stays ASCII).
  if (CLF_SAFE.test(text)) return `"${text}"`;
  const literal = JSON.stringify(text);
  NON_ASCII.lastIndex = 0;
  if (!NON_ASCII.test(literal)) return literal;
  return literal.replace(
    NON_ASCII,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function jsonOrNull(text: string | null | undefined): string {
  return text === null || text === undefined ? "null" : jsonString(text);
}
