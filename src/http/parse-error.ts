/**
 * The closed set of reasons the request parser refuses a peer's bytes, and the one table that maps
 * each to the status berth answers with. Codes are stable: logs, tests and docs name them.
 * Response bodies stay generic; the code goes to the log only.
 */
export type ParseErrorCode =
  // request-line (RFC 9112 §3)
  | "BAD_REQUEST_LINE"
  | "BAD_METHOD"
  | "BAD_TARGET"
  | "ASTERISK_WITHOUT_OPTIONS"
  | "BAD_VERSION"
  | "UNSUPPORTED_VERSION"
  | "REQUEST_LINE_TOO_LONG"
  | "TOO_MANY_EMPTY_LINES"
  // field lines (RFC 9112 §5)
  | "BAD_FIELD_NAME"
  | "WHITESPACE_BEFORE_COLON"
  | "OBS_FOLD"
  | "BAD_FIELD_VALUE"
  | "BARE_CR"
  | "BARE_LF"
  | "MISSING_HOST"
  | "DUPLICATE_HOST"
  | "BAD_HOST"
  | "HEAD_TOO_LARGE"
  | "TOO_MANY_FIELDS"
  // message framing (RFC 9112 §6)
  | "BAD_CONTENT_LENGTH"
  | "DUPLICATE_CONTENT_LENGTH"
  | "CONTENT_LENGTH_WITH_TRANSFER_ENCODING"
  | "BAD_TRANSFER_ENCODING"
  | "UNSUPPORTED_TRANSFER_ENCODING"
  | "BODY_TOO_LARGE"
  // chunked coding (RFC 9112 §7.1)
  | "BAD_CHUNK_SIZE"
  | "CHUNK_SIZE_TOO_LONG"
  | "BAD_CHUNK_EXTENSION"
  | "CHUNK_EXTENSION_TOO_LONG"
  | "BAD_CHUNK_DATA_END"
  | "BAD_TRAILER"
  | "TRAILERS_TOO_LARGE";

/** RFC 9110 §15 status for each parse error. */
export const STATUS_FOR_PARSE_ERROR: Readonly<Record<ParseErrorCode, number>> = {
  BAD_REQUEST_LINE: 400,
  BAD_METHOD: 400,
  BAD_TARGET: 400,
  ASTERISK_WITHOUT_OPTIONS: 400,
  BAD_VERSION: 400,
  // RFC 9110 §15.6.6: 505 for a major version the server does not support.
  UNSUPPORTED_VERSION: 505,
  // RFC 9112 §3: "A server that receives a request-target longer than any URI it wishes to
  // parse MUST respond with a 414". A request-line over the limit is almost always a long target.
  REQUEST_LINE_TOO_LONG: 414,
  TOO_MANY_EMPTY_LINES: 400,
  BAD_FIELD_NAME: 400,
  // RFC 9112 §5.1: MUST reject with 400.
  WHITESPACE_BEFORE_COLON: 400,
  // RFC 9112 §5.2: a server MUST either reject obs-fold with 400 or replace it; we reject.
  OBS_FOLD: 400,
  BAD_FIELD_VALUE: 400,
  BARE_CR: 400,
  BARE_LF: 400,
  // RFC 9112 §3.2: MUST respond 400 to HTTP/1.1 without Host, or with more than one.
  MISSING_HOST: 400,
  DUPLICATE_HOST: 400,
  BAD_HOST: 400,
  // RFC 6585 §5.
  HEAD_TOO_LARGE: 431,
  TOO_MANY_FIELDS: 431,
  // RFC 9112 §6.3: invalid Content-Length is unrecoverable: 400 and close.
  BAD_CONTENT_LENGTH: 400,
  DUPLICATE_CONTENT_LENGTH: 400,
  CONTENT_LENGTH_WITH_TRANSFER_ENCODING: 400,
  BAD_TRANSFER_ENCODING: 400,
  // RFC 9112 §6.1: a transfer coding we do not understand → 501.
  UNSUPPORTED_TRANSFER_ENCODING: 501,
  BODY_TOO_LARGE: 413,
  BAD_CHUNK_SIZE: 400,
  CHUNK_SIZE_TOO_LONG: 400,
  BAD_CHUNK_EXTENSION: 400,
  CHUNK_EXTENSION_TOO_LONG: 400,
  BAD_CHUNK_DATA_END: 400,
  BAD_TRAILER: 400,
  TRAILERS_TOO_LARGE: 431,
};

export function statusForParseError(code: ParseErrorCode): number {
  return STATUS_FOR_PARSE_ERROR[code];
}
