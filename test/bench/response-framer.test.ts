/**
 * The response framer of `berth bench http`, fed every row whole, split at every byte and byte by
 * byte (STYLE.md rule 9), through one reused read buffer that is scribbled over after each
 * need-more (the framer must not keep a reference to a chunk it has been given). Every chunking
 * must find the same responses, so pipelined responses are counted exactly.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ResponseFramer,
  type ResponseFramerEnd,
  type ResponseFramerResult,
} from "../../src/bench/response-framer.js";
import { chunkings } from "../helpers/chunkings.js";

interface Row {
  readonly name: string;
  /** Latin1 bytes the server sends. */
  readonly input: string;
  /** The request method of each response, in order (G = GET, H = HEAD). */
  readonly methods: string;
  /** What the framer reports, in order: "200 5B", "200 5B close", "error CODE", then at the
   * end of the stream "end idle", "end 200 3B close" or "end error CODE". */
  readonly want: readonly string[];
  readonly maxHeadBytes?: number;
}

const OK_5 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const CHUNKED =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext="a b"\r\nhello\r\n1\r\n!\r\n0\r\nTrailer-A: x\r\nB: y z\r\n\r\n';
const NOT_MODIFIED = 'HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: "x"\r\n\r\n';
const HEAD_200 = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
const CONTINUE_THEN_200 =
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

// biome-ignore format: one row per line
const ROWS: readonly Row[] = [
  { name: "Content-Length body", input: OK_5, methods: "G", want: ["200 5B", "end idle"] },
  { name: "Content-Length 0", input: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", methods: "G", want: ["200 0B", "end idle"] },
  { name: "field names in any case", input: "HTTP/1.1 200 OK\r\ncontent-LENGTH:3\r\nCONNECTION: Keep-Alive, CLOSE\r\n\r\nabc", methods: "G", want: ["200 3B close", "end idle"] },
  { name: "status line without reason", input: "HTTP/1.1 404\r\nContent-Length: 1\r\n\r\nx", methods: "G", want: ["404 1B", "end idle"] },
  { name: "empty reason", input: "HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n", methods: "G", want: ["500 0B", "end idle"] },
  { name: "chunked with extension and trailers", input: CHUNKED, methods: "G", want: ["200 6B", "end idle"] },
  { name: "chunked, uppercase hex, no trailers", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", methods: "G", want: ["200 10B", "end idle"] },
  { name: "chunked overrides Content-Length", input: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", methods: "G", want: ["200 2B", "end idle"] },
  { name: "304 has no body whatever Content-Length says", input: NOT_MODIFIED, methods: "G", want: ["304 0B", "end idle"] },
  { name: "204 has no body", input: "HTTP/1.1 204 No Content\r\n\r\n", methods: "G", want: ["204 0B", "end idle"] },
  { name: "HEAD has no body whatever Content-Length says", input: HEAD_200, methods: "H", want: ["200 0B", "end idle"] },
  { name: "HEAD has no body whatever Transfer-Encoding says", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", methods: "H", want: ["200 0B", "end idle"] },
  { name: "100 Continue skipped", input: CONTINUE_THEN_200, methods: "G", want: ["200 2B", "end idle"] },
  { name: "103 Early Hints skipped before a 204", input: "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", methods: "G", want: ["204 0B", "end idle"] },
  { name: "Connection: close", input: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", methods: "G", want: ["200 1B close", "end idle"] },
  { name: "Connection: CLOSE in capitals", input: "HTTP/1.1 200 OK\r\nConnection: CLOSE \r\nContent-Length: 1\r\n\r\nx", methods: "G", want: ["200 1B close", "end idle"] },
  { name: "Connection: upgrade is not close", input: "HTTP/1.1 200 OK\r\nConnection: upgrade\r\nContent-Length: 1\r\n\r\nx", methods: "G", want: ["200 1B", "end idle"] },
  { name: "HTTP/1.0 closes by default", input: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", methods: "G", want: ["200 1B close", "end idle"] },
  { name: "HTTP/1.0 with keep-alive persists", input: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", methods: "G", want: ["200 1B", "end idle"] },
  { name: "no framing: body until close", input: "HTTP/1.1 200 OK\r\n\r\nabc", methods: "G", want: ["end 200 3B close"] },
  { name: "coding not chunked: body until close", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabcd", methods: "G", want: ["end 200 4B close"] },
  { name: "equal duplicate Content-Length", input: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi", methods: "G", want: ["200 2B", "end idle"] },
  { name: "pipelined: CL, chunked, 304, HEAD, 1xx + 200, 204", input: `${OK_5}${CHUNKED}${NOT_MODIFIED}${HEAD_200}${CONTINUE_THEN_200}HTTP/1.1 204 No Content\r\n\r\n`, methods: "GGGHGG", want: ["200 5B", "200 6B", "304 0B", "200 0B", "200 2B", "204 0B", "end idle"] },
  { name: "pipelined, the last one closes", input: `${OK_5}HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, methods: "GG", want: ["200 5B", "503 0B close", "end idle"] },
  { name: "differing duplicate Content-Length", input: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi", methods: "G", want: ["error BAD_CONTENT_LENGTH", "end error BAD_CONTENT_LENGTH"] },
  { name: "Content-Length as a list", input: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi", methods: "G", want: ["error BAD_CONTENT_LENGTH", "end error BAD_CONTENT_LENGTH"] },
  { name: "Content-Length not a number", input: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", methods: "G", want: ["error BAD_CONTENT_LENGTH", "end error BAD_CONTENT_LENGTH"] },
  { name: "not HTTP at all", input: "SSH-2.0-OpenSSH_9.6\r\n", methods: "G", want: ["error BAD_STATUS_LINE", "end error BAD_STATUS_LINE"] },
  { name: "HTTP/2 status line", input: "HTTP/2 200\r\n\r\n", methods: "G", want: ["error BAD_STATUS_LINE", "end error BAD_STATUS_LINE"] },
  { name: "status code out of range", input: "HTTP/1.1 600 Nope\r\n\r\n", methods: "G", want: ["error BAD_STATUS_LINE", "end error BAD_STATUS_LINE"] },
  { name: "two-digit status", input: "HTTP/1.1 20 OK\r\n\r\n", methods: "G", want: ["error BAD_STATUS_LINE", "end error BAD_STATUS_LINE"] },
  { name: "obs-fold", input: "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", methods: "G", want: ["error BAD_HEADER_LINE", "end error BAD_HEADER_LINE"] },
  { name: "space before the colon", input: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", methods: "G", want: ["error BAD_HEADER_LINE", "end error BAD_HEADER_LINE"] },
  { name: "bare LF in a field", input: "HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\n\r\n", methods: "G", want: ["error BAD_HEADER_LINE", "end error BAD_HEADER_LINE"] },
  { name: "CR without LF in a value", input: "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n", methods: "G", want: ["error BAD_HEADER_LINE", "end error BAD_HEADER_LINE"] },
  { name: "a bad line in a head that never ends is a truncation", input: "HTTP/1.1 200 OK\r\nBad\r\n", methods: "G", want: ["end error TRUNCATED"] },
  { name: "a bad line, then the next response", input: `HTTP/1.1 200 OK\r\nBad\r\n\r\n${"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"}`, methods: "GG", want: ["error BAD_HEADER_LINE", "end error BAD_HEADER_LINE"] },
  { name: "101 Switching Protocols", input: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", methods: "G", want: ["error SWITCHING_PROTOCOLS", "end error SWITCHING_PROTOCOLS"] },
  { name: "chunk size not hex", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", methods: "G", want: ["error BAD_CHUNK_SIZE", "end error BAD_CHUNK_SIZE"] },
  { name: "chunk size too long", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000\r\n", methods: "G", want: ["error BAD_CHUNK_SIZE", "end error BAD_CHUNK_SIZE"] },
  { name: "chunk data longer than its size", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n", methods: "G", want: ["error BAD_CHUNK_END", "end error BAD_CHUNK_END"] },
  { name: "bad trailer line", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n: x\r\n\r\n", methods: "G", want: ["error BAD_TRAILER", "end error BAD_TRAILER"] },
  { name: "head larger than the limit", input: "HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", methods: "G", want: ["error HEAD_TOO_LARGE", "end error HEAD_TOO_LARGE"], maxHeadBytes: 32 },
  { name: "head of exactly the limit (32 bytes)", input: "HTTP/1.1 200 OK\r\nA: 12345678\r\n\r\n", methods: "G", want: ["end 200 0B close"], maxHeadBytes: 32 },
  { name: "head one byte over the limit", input: "HTTP/1.1 200 OK\r\nA: 12345678\r\n\r\n", methods: "G", want: ["error HEAD_TOO_LARGE", "end error HEAD_TOO_LARGE"], maxHeadBytes: 31 },
  { name: "truncated head", input: "HTTP/1.1 200 OK\r\nContent-Len", methods: "G", want: ["end error TRUNCATED"] },
  { name: "truncated Content-Length body", input: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", methods: "G", want: ["end error TRUNCATED"] },
  { name: "truncated chunked body", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", methods: "G", want: ["end error TRUNCATED"] },
  { name: "a response, then a truncated one", input: `${OK_5}HTTP/1.1 200 OK\r\n`, methods: "GG", want: ["200 5B", "end error TRUNCATED"] },
];

function describeResult(result: ResponseFramerResult | ResponseFramerEnd): string {
  switch (result.kind) {
    case "need-more":
      return "need-more";
    case "idle":
      return "idle";
    case "error":
      return `error ${result.code}`;
    case "response":
      return `${result.status} ${result.bodyBytes}B${result.closeAfter ? " close" : ""}`;
  }
}

/** Feeds `chunks` through one scratch buffer, as a socket reading into a reused buffer would. */
function frame(row: Row, chunks: readonly Buffer[]): string[] {
  const framer = new ResponseFramer(
    row.maxHeadBytes === undefined ? {} : { maxHeadBytes: row.maxHeadBytes },
  );
  const scratch = Buffer.alloc(Math.max(1, ...chunks.map((chunk) => chunk.length)));
  const seen: string[] = [];
  let answered = 0;
  for (const chunk of chunks) {
    chunk.copy(scratch);
    framer.push(scratch.subarray(0, chunk.length));
    for (;;) {
      const result = framer.next(row.methods[answered] === "H");
      if (result.kind === "need-more") break;
      seen.push(describeResult(result));
      if (result.kind === "error") break;
      answered++;
    }
    scratch.fill(0xff);
    if (seen.at(-1)?.startsWith("error") === true) break;
  }
  seen.push(`end ${describeResult(framer.end())}`);
  return seen;
}

describe("ResponseFramer: every row at every split", () => {
  for (const row of ROWS) {
    test(row.name, () => {
      const input = Buffer.from(row.input, "latin1");
      for (const { name, chunks } of chunkings(input)) {
        assert.deepEqual(frame(row, chunks), row.want, `${row.name} (${name})`);
      }
    });
  }
});

describe("ResponseFramer: state between calls", () => {
  test("counts skipped interim responses", () => {
    const framer = new ResponseFramer();
    framer.push(Buffer.from(CONTINUE_THEN_200 + CONTINUE_THEN_200, "latin1"));
    assert.equal(describeResult(framer.next(false)), "200 2B");
    assert.equal(describeResult(framer.next(false)), "200 2B");
    assert.equal(framer.next(false).kind, "need-more");
    assert.equal(framer.interimResponses, 2);
    assert.equal(framer.isIdle, true);
  });

  test("a push before the previous chunk is drained keeps both", () => {
    const framer = new ResponseFramer();
    framer.push(Buffer.from(OK_5 + OK_5.slice(0, 20), "latin1"));
    assert.equal(describeResult(framer.next(false)), "200 5B");
    framer.push(Buffer.from(OK_5.slice(20), "latin1"));
    assert.equal(describeResult(framer.next(false)), "200 5B");
    assert.equal(framer.isIdle, true);
  });

  test("an error is sticky and drops later input", () => {
    const framer = new ResponseFramer();
    framer.push(Buffer.from("garbage", "latin1"));
    assert.equal(describeResult(framer.next(false)), "error BAD_STATUS_LINE");
    framer.push(Buffer.from(OK_5, "latin1"));
    assert.equal(describeResult(framer.next(false)), "error BAD_STATUS_LINE");
  });

  test("10,000 pipelined responses in 64 KiB reads are all counted", () => {
    const framer = new ResponseFramer();
    const stream = Buffer.from((OK_5 + CHUNKED).repeat(5000), "latin1");
    let count = 0;
    let bodyBytes = 0;
    for (let at = 0; at < stream.length; at += 65_536) {
      framer.push(stream.subarray(at, at + 65_536));
      for (
        let result = framer.next(false);
        result.kind === "response";
        result = framer.next(false)
      ) {
        count++;
        bodyBytes += result.bodyBytes;
      }
    }
    assert.deepEqual(
      { count, bodyBytes, idle: framer.isIdle },
      { count: 10_000, bodyBytes: 55_000, idle: true },
    );
  });
});
