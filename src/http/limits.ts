/**
 * Every limit the HTTP layer enforces on a peer, as a named constant with its unit. Each one has a
 * CLI flag (see README "Limits") and a test that crosses it.
 */

/** Longest request-line (method SP target SP version, without CRLF) accepted; longer → 414.
 * 8 KiB matches nginx's large_client_header_buffers line size and is far above any real URL. */
export const DEFAULT_MAX_REQUEST_LINE_BYTES = 8 * 1024;

/** Largest request head (request-line, fields and CRLFs) accepted; larger → 431 (RFC 6585 §5).
 * 16 KiB is Node's own default and fits every browser's cookies in practice. */
export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;

/** Most field lines in one head; more → 431. Browsers send 10–20. */
export const DEFAULT_MAX_HEADER_FIELDS = 100;

/** Empty lines tolerated before a request-line (RFC 9112 §2.2 asks us to ignore "at least one");
 * more → 400, so a peer cannot keep a connection busy with CRLFs alone. */
export const DEFAULT_MAX_EMPTY_LINES_BEFORE_REQUEST = 4;

/** Largest request body berth will read and discard to keep a connection usable (it never needs
 * a body); a declared Content-Length above it → 413 and close, a chunked body that grows past it →
 * close. 1 MiB bounds the work a peer can make us do per request. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Hex digits in a chunk-size; more → 400. 16 digits already exceed any size we would accept. */
export const MAX_CHUNK_SIZE_DIGITS = 16;

/** Bytes of chunk extensions on one chunk line; more → 400. Extensions carry nothing we use. */
export const MAX_CHUNK_EXTENSION_BYTES = 1024;

/** Bytes of the trailer section of a chunked body; more → 431. */
export const MAX_TRAILER_BYTES = 8 * 1024;
