/**
 * CORS for a static server, following the Fetch standard's CORS protocol
 * (https://fetch.spec.whatwg.org/#http-cors-protocol). Pure: the policy is compiled at start-up
 * into a function of the request's four relevant values that returns precomputed header text.
 *
 * What berth answers:
 * - Any origin (`--cors`): every response carries `Access-Control-Allow-Origin: *`, whatever the
 *   request's Origin (or none): the response does not depend on it, so no `Vary: Origin` is due
 *   and caches keep one copy. Credentials are never allowed (no
 *   `Access-Control-Allow-Credentials`): `*` would be invalid with them (Fetch §3.2.5), and a
 *   static server has no per-user content to guard.
 * - Listed origins (`--cors-origin`): an Origin exactly equal to a listed one is echoed, and every
 *   response, allowed or not, carries `Vary: Origin`, since the answer differs per Origin and a
 *   shared cache must not hand one origin's copy to another (Fetch §3.2.5 "CORS protocol and
 *   HTTP caches").
 * - A CORS-preflight request (OPTIONS with Origin and Access-Control-Request-Method, Fetch §4.8)
 *   from an allowed origin → 204 with the allowed methods, the requested headers echoed (berth
 *   ignores request fields it does not know, so allowing them costs nothing), and a max-age. From
 *   an origin that is not allowed it is a plain OPTIONS, answered without CORS fields: the
 *   browser then fails the preflight, which is the refusal.
 * - `Access-Control-Expose-Headers` names the fields of a file response that scripts cannot read
 *   by default but need for caching and ranges: ETag, Content-Range, Accept-Ranges
 *   (Content-Length, Content-Type, Last-Modified and Cache-Control are CORS-safelisted already).
 */
import { fieldValue } from "./headers.js";
import { isTokenString } from "./tokens.js";

export interface CorsPolicy {
  /** `--cors`: `Access-Control-Allow-Origin: *`. */
  readonly anyOrigin: boolean;
  /** `--cors-origin`: serialized origins ("https://example.com:8443"), compared exactly. */
  readonly origins: ReadonlySet<string>;
}

export type CorsAnswer =
  /** Answer the request as usual, adding `headerLines` (possibly "") to the head. */
  | { readonly kind: "actual"; readonly headerLines: string }
  /** A CORS preflight from an allowed origin: answer 204 with `headerLines`, no content. */
  | { readonly kind: "preflight"; readonly headerLines: string };

/** Given the request method and its Origin, Access-Control-Request-Method and
 * Access-Control-Request-Headers values (null when absent). */
export type EvaluateCors = (
  method: string,
  origin: string | null,
  requestMethod: string | null,
  requestHeaders: string | null,
) => CorsAnswer;

/** The methods berth answers (RFC 9110 §9.3): what a preflight is told. */
export const CORS_ALLOWED_METHODS = "GET, HEAD, OPTIONS";

/** Response fields scripts may read beyond the CORS-safelisted ones (Fetch §2.2.6). */
export const CORS_EXPOSED_HEADERS = "ETag, Content-Range, Accept-Ranges";

/** How long a browser may cache a preflight answer. Chromium caps it at 7200 s (2 h), Firefox at
 * 86400 s; berth's CORS policy changes only on restart, so the cap is the right figure. */
export const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/** Most fields echoed into Access-Control-Allow-Headers: real preflights name a handful. A longer
 * list is answered without the field, and the browser fails the preflight. */
export const MAX_ECHOED_REQUEST_HEADERS = 64;

const EXPOSE_LINE = `Access-Control-Expose-Headers: ${CORS_EXPOSED_HEADERS}\r\n`;
const PREFLIGHT_LINES =
  `Access-Control-Allow-Methods: ${CORS_ALLOWED_METHODS}\r\n` +
  `Access-Control-Max-Age: ${PREFLIGHT_MAX_AGE_SECONDS}\r\n`;
const ANY_ORIGIN_LINE = "Access-Control-Allow-Origin: *\r\n";
const VARY_ORIGIN_LINE = "Vary: Origin\r\n";

/** Compiles the policy once; every per-origin header text is built here, not per request. */
export function createCors(policy: CorsPolicy): EvaluateCors {
  if (policy.anyOrigin) {
    const actual: CorsAnswer = { kind: "actual", headerLines: ANY_ORIGIN_LINE + EXPOSE_LINE };
    return (method, origin, requestMethod, requestHeaders) =>
      isPreflight(method, origin, requestMethod)
        ? preflight(ANY_ORIGIN_LINE, requestHeaders)
        : actual;
  }
  const allowed = new Map<string, { actual: CorsAnswer; originLines: string }>();
  for (const origin of policy.origins) {
    const originLines = `Access-Control-Allow-Origin: ${origin}\r\n${VARY_ORIGIN_LINE}`;
    allowed.set(origin, {
      actual: { kind: "actual", headerLines: originLines + EXPOSE_LINE },
      originLines,
    });
  }
  const refused: CorsAnswer = { kind: "actual", headerLines: VARY_ORIGIN_LINE };
  return (method, origin, requestMethod, requestHeaders) => {
    const entry = origin === null ? undefined : allowed.get(origin);
    if (entry === undefined) return refused;
    return isPreflight(method, origin, requestMethod)
      ? preflight(entry.originLines, requestHeaders)
      : entry.actual;
  };
}

/** The four values createCors's function takes, read from a request's field list. */
export function evaluateCorsFor(
  cors: EvaluateCors,
  method: string,
  fields: readonly string[],
): CorsAnswer {
  return cors(
    method,
    fieldValue(fields, "origin"),
    fieldValue(fields, "access-control-request-method"),
    fieldValue(fields, "access-control-request-headers"),
  );
}

/** Fetch §4.8: a CORS-preflight request is an OPTIONS request carrying Origin and
 * Access-Control-Request-Method. An OPTIONS without them is an ordinary OPTIONS. */
function isPreflight(method: string, origin: string | null, requestMethod: string | null): boolean {
  return method === "OPTIONS" && origin !== null && requestMethod !== null;
}

function preflight(originLines: string, requestHeaders: string | null): CorsAnswer {
  const echoed = requestHeaders === null ? null : normalizeHeaderNames(requestHeaders);
  // Echoing makes the answer depend on the request's list (Fetch §3.2.5).
  const allowHeaders =
    echoed === null || echoed === ""
      ? ""
      : `Access-Control-Allow-Headers: ${echoed}\r\nVary: Access-Control-Request-Headers\r\n`;
  return { kind: "preflight", headerLines: originLines + PREFLIGHT_LINES + allowHeaders };
}

/**
 * Access-Control-Request-Headers is a comma-separated list of lowercase field names (Fetch
 * §4.8 step 3); returns them lowercased and joined with ", ", "" for an empty list, or null when
 * anything is not a token (nothing is echoed then: only tokens can reach our head, so the echo
 * can never carry CR, LF or a quote).
 */
export function normalizeHeaderNames(list: string): string | null {
  const names: string[] = [];
  for (const part of list.split(",")) {
    const name = part.trim();
    if (name === "") continue; // RFC 9110 §5.6.1: empty list elements are ignored
    if (!isTokenString(name)) return null;
    names.push(name.toLowerCase());
    if (names.length > MAX_ECHOED_REQUEST_HEADERS) return null;
  }
  return names.join(", ");
}

export type ParsedOrigin =
  | { readonly kind: "origin"; readonly origin: string }
  | { readonly kind: "error"; readonly reason: string };

/**
 * Checks a `--cors-origin` value: it must be a serialized origin (Fetch §3.1, HTML's "ASCII
 * serialization of an origin"): `scheme://host[:port]`, lowercase, no default port, no path, no
 * trailing slash. That is the exact text a browser sends in Origin, and origins are compared
 * exactly, so anything else could never match; the reason says what to write instead.
 */
export function parseCorsOrigin(text: string): ParsedOrigin {
  if (text === "*") return { kind: "error", reason: 'for any origin use --cors ("cors": true)' };
  if (text === "null") {
    // Opaque origins (sandboxed frames, file: pages, data: URLs) all serialize to "null":
    // allowing it would allow every one of them.
    return { kind: "error", reason: '"null" stands for every opaque origin; it cannot be allowed' };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { kind: "error", reason: "not an origin (write scheme://host[:port])" };
  }
  const special = url.protocol === "http:" || url.protocol === "https:";
  const serialized = special ? url.origin : serializeOtherOrigin(url);
  if (serialized === text) return { kind: "origin", origin: text };
  return {
    kind: "error",
    reason:
      serialized === null
        ? "not an origin (write scheme://host[:port])"
        : `not a serialized origin (write ${serialized})`,
  };
}

/** Origins of non-special schemes ("tauri://localhost", "capacitor://localhost"): WHATWG URL
 * gives them an opaque origin, but browsers embedding such apps send scheme://host as Origin. */
function serializeOtherOrigin(url: URL): string | null {
  if (url.host === "" || !/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) return null;
  return `${url.protocol}//${url.host.toLowerCase()}`;
}
