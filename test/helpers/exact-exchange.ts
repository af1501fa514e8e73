/**
 * One request over a fresh socket and its exact answer, split into a head (latin1 text, Date
 * normalised) and a body (bytes), for the integration tests that compare whole responses: the
 * head as text reads well in a failure, the body as bytes may be binary or large.
 *
 * The request is followed by a sentinel (OPTIONS * with Connection: close) whose answer must come
 * right after the row's response: that proves the response ended exactly where its framing said
 * (no body on HEAD or 304, no stray bytes), and the close ends the exchange. Test-only.
 */
import { exchange, parseResponses, showBytes } from "./raw-client.js";
import { normalizeDates } from "./test-server.js";

/** Sent after every request: its answer is known byte for byte. */
export const SENTINEL = "OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
export const SENTINEL_RESPONSE =
  "HTTP/1.1 204 No Content\r\nDate: <date>\r\nAllow: GET, HEAD, OPTIONS\r\nConnection: close\r\n\r\n";

export interface ExactResponse {
  readonly status: number;
  /** Status line through the blank line, latin1, every Date value replaced by `<date>`. */
  readonly head: string;
  readonly body: Buffer;
  /** The first value of the named field (case-insensitive), or undefined. */
  header(name: string): string | undefined;
}

/** `request` as the failure messages show it: "GET /a.txt Range: bytes=1-2". */
export function describeRequest(request: string): string {
  return showBytes(Buffer.from(request, "latin1"), 0, 400);
}

/**
 * Writes `request` (latin1, one complete request) and the sentinel on a new connection to
 * 127.0.0.1:`port`, waits for the server to close, and returns the request's response. Throws
 * when the bytes after it are not exactly the sentinel's answer, or the server reset.
 */
export async function exchangeOne(port: number, request: string): Promise<ExactResponse> {
  const method = request.slice(0, request.indexOf(" "));
  const result = await exchange(port, request + SENTINEL);
  const call = `exchange(${describeRequest(request)})`;
  if (result.reset) throw new Error(`${call}: the server reset the connection`);
  const { responses, rest } = parseResponses(result.raw, [method, "OPTIONS"]);
  const [response, sentinel] = responses;
  if (response === undefined || sentinel === undefined || rest.length > 0) {
    throw new Error(
      `${call}: want 2 complete responses and nothing more, got ${responses.length} and ` +
        `${rest.length} trailing bytes: ${showBytes(result.raw, 0, result.raw.length)}`,
    );
  }
  const sentinelText = normalizeDates(sentinel.raw);
  if (sentinelText !== SENTINEL_RESPONSE) {
    throw new Error(`${call}: the sentinel's answer = ${JSON.stringify(sentinelText)}`);
  }
  const headLength = response.raw.indexOf("\r\n\r\n", 0, "latin1") + 4;
  return {
    status: response.status,
    head: normalizeDates(response.raw.subarray(0, headLength)),
    body: response.raw.subarray(headLength),
    header: (name) => response.header(name),
  };
}
