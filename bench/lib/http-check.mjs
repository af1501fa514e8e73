// A raw-socket HTTP/1.1 client that checks a response byte for byte before any timing: a server
// that answers fast but wrongly must not win a workload.
import { createHash } from "node:crypto";
import { connect } from "node:net";

const CRLF_CRLF = Buffer.from("\r\n\r\n");
/** Longest a check may take: the 256 MiB body on a slow peer included. */
const CHECK_TIMEOUT_MS = 60_000;
/** After the last response of a Connection: close exchange, the server must close within this. */
const CLOSE_WAIT_MS = 5_000;

/** The request wrk sends for the URL, with extra header lines. */
export function formatRequest(port, path, headers = {}) {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/**
 * Sends each round's request bytes on one connection and reads that round's number of responses
 * before the next round. Resolves with every response ({ status, headers, headBytes, bodyBytes,
 * bodySha256 }) and whether the server closed the connection after the last one.
 */
export function exchange(port, rounds, { expectClose = false } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const responses = [];
    const parser = createResponseParser();
    let roundIndex = 0;
    let wantedInRound = 0;
    let closeTimer;
    const timer = setTimeout(
      () => finish(new Error("no complete answer in time")),
      CHECK_TIMEOUT_MS,
    );

    function finish(error, closedByServer = false) {
      clearTimeout(timer);
      clearTimeout(closeTimer);
      socket.destroy();
      if (error) reject(error);
      else resolve({ responses, closedByServer });
    }

    function sendRound() {
      const round = rounds[roundIndex];
      wantedInRound = round.responses ?? 1;
      socket.write(round.request);
    }

    socket.on("connect", sendRound);
    socket.on("error", (error) => finish(error));
    socket.on("end", () => {
      const complete = roundIndex >= rounds.length;
      if (complete && parser.hasPartialInput()) finish(new Error("bytes after the last response"));
      else if (complete) finish(null, true);
      else finish(new Error(`connection closed after ${responses.length} responses`));
    });
    socket.on("data", (chunk) => {
      if (roundIndex >= rounds.length) {
        finish(new Error(`${chunk.length} unexpected bytes after the last response`));
        return;
      }
      let parsed;
      try {
        parsed = parser.push(chunk);
      } catch (error) {
        finish(error);
        return;
      }
      for (const response of parsed) {
        responses.push(response);
        wantedInRound -= 1;
        if (wantedInRound < 0) {
          finish(new Error("more responses than requests"));
          return;
        }
        if (wantedInRound === 0) {
          roundIndex += 1;
          if (roundIndex < rounds.length) sendRound();
        }
      }
      if (roundIndex < rounds.length) return;
      if (parser.hasPartialInput()) {
        finish(new Error("bytes after the last response"));
      } else if (expectClose) {
        closeTimer ??= setTimeout(
          () => finish(new Error("the server kept the connection open after Connection: close")),
          CLOSE_WAIT_MS,
        );
      } else {
        finish(null, false);
      }
    });
  });
}

/**
 * An incremental parser of responses framed by Content-Length (what every peer sends for a
 * static file): push(chunk) returns the responses completed by the chunk. The body is hashed as
 * it arrives, so that a 256 MiB body is never held.
 */
function createResponseParser() {
  let head = Buffer.alloc(0);
  let current = null; // the response whose body is being read
  let bodyRemaining = 0;
  let hash = null;

  function startResponse(headBuffer) {
    const lines = headBuffer.toString("latin1").split("\r\n");
    const statusMatch = /^HTTP\/1\.1 (\d{3}) /.exec(`${lines[0]} `);
    if (statusMatch === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const status = Number(statusMatch[1]);
    const headers = new Map();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (headers.has("transfer-encoding")) throw new Error("chunked, not Content-Length, framing");
    // RFC 9112 §6.3: a 304 (or 204, 1xx) has no body whatever its Content-Length says.
    const hasBody = status !== 304 && status !== 204 && status >= 200;
    const contentLength = headers.get("content-length");
    if (hasBody && contentLength === undefined) throw new Error(`${status} without Content-Length`);
    current = {
      status,
      headers,
      headBytes: headBuffer.length + CRLF_CRLF.length,
      bodyBytes: 0,
      bodySha256: "",
    };
    bodyRemaining = hasBody ? Number(contentLength) : 0;
    hash = createHash("sha256");
  }

  function push(chunk) {
    const completed = [];
    let input = chunk;
    while (input.length > 0) {
      if (current === null) {
        head = head.length === 0 ? input : Buffer.concat([head, input]);
        const end = head.indexOf(CRLF_CRLF);
        if (end === -1) return completed;
        input = head.subarray(end + CRLF_CRLF.length);
        startResponse(head.subarray(0, end));
        head = Buffer.alloc(0);
      }
      const take = Math.min(bodyRemaining, input.length);
      hash.update(input.subarray(0, take));
      current.bodyBytes += take;
      bodyRemaining -= take;
      input = input.subarray(take);
      if (bodyRemaining === 0) {
        current.bodySha256 = hash.digest("hex");
        completed.push(current);
        current = null;
      }
    }
    return completed;
  }

  return { push, hasPartialInput: () => current !== null || head.length > 0 };
}
