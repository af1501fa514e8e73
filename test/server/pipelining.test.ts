/**
 * Pipelining (RFC 9112 §9.3.2): requests written together are answered in order, request bodies
 * are skipped exactly, every chunking of the same bytes gives the same responses, and a client
 * that half-closes after its requests still gets every answer.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { errorBody } from "../../src/server/response-plan.js";
import { exchange, type ParsedResponse, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  normalizeDates,
  type RunningServer,
  startServer,
  writeStampedTree,
} from "../helpers/test-server.js";

let root = "";
let running: RunningServer;

before(async () => {
  root = await makeTempDir("berth-pipelining-");
  await writeStampedTree(root, {
    "digits.txt": "0123456789",
    "hello.txt": "hello\n",
    "index.html": "<p>index</p>\n",
  });
  running = await startServer({ root });
});

after(async () => {
  await running?.server.close();
  await removeTempDir(root);
});

const request = (method: string, target: string, fields = ""): string =>
  `${method} ${target} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;
const closing = (method: string, target: string): string =>
  request(method, target, "Connection: close\r\n");

/** `status body` per response, the shape every pipelining assertion compares. */
function summarize(responses: readonly ParsedResponse[]): string[] {
  return responses.map((r) => `${r.status} ${JSON.stringify(r.body.toString("latin1"))}`);
}

/** A POST body that is itself a complete request: if berth parsed it as one, a seventh response
 * (a 404 for /smuggled) would appear. */
const smuggled = request("GET", "/smuggled");

// The batch: a 200, a 404, a 405 whose Content-Length body must be skipped exactly, a HEAD, a 405
// with a chunked body, and a last GET that closes.
const batch = Buffer.from(
  request("GET", "/digits.txt") +
    request("GET", "/missing") +
    request("POST", "/hello.txt", `Content-Length: ${smuggled.length}\r\n`) +
    smuggled +
    request("HEAD", "/hello.txt") +
    request("PUT", "/x", "Transfer-Encoding: chunked\r\n") +
    "5\r\nhello\r\n0\r\n\r\n" +
    closing("GET", "/hello.txt"),
  "latin1",
);
const batchMethods = ["GET", "GET", "POST", "HEAD", "PUT", "GET"];
const batchWant = [
  `200 "0123456789"`,
  `404 ${JSON.stringify(errorTextFor(404))}`,
  `405 ${JSON.stringify(errorTextFor(405))}`,
  `200 ""`,
  `405 ${JSON.stringify(errorTextFor(405))}`,
  `200 "hello\\n"`,
];

function errorTextFor(status: number): string {
  return errorBody(status).toString("latin1");
}

/** Where a split is most likely to find a bug: around every CRLF, and a spread in between. */
function interestingSplitPoints(input: Buffer): number[] {
  const points = new Set<number>();
  for (let at = input.indexOf("\r\n"); at !== -1; at = input.indexOf("\r\n", at + 1)) {
    for (const point of [at, at + 1, at + 2]) {
      if (point > 0 && point < input.length) points.add(point);
    }
  }
  for (let at = 1; at < input.length; at += 7) points.add(at);
  return [...points].sort((a, b) => a - b);
}

describe("pipelining", () => {
  test("GET, HEAD, GET of different files in one write: answered in order", async () => {
    const requests =
      request("GET", "/digits.txt") + request("HEAD", "/hello.txt") + closing("GET", "/");
    const result = await exchange(running.port, requests);
    const { responses, rest } = parseResponses(result.raw, ["GET", "HEAD", "GET"]);
    const got = summarize(responses);
    const want = [`200 "0123456789"`, `200 ""`, `200 "<p>index</p>\\n"`];
    assert.deepEqual(got, want, `pipelined GET, HEAD, GET = ${JSON.stringify(got)}`);
    assert.equal(responses[1]?.header("content-length"), "6", "HEAD /hello.txt Content-Length");
    assert.equal(rest.length, 0, "bytes after the last response");
  });

  test("a batch with a 404, a 405 with a body and a chunked body: bodies skipped exactly", async () => {
    const result = await exchange(running.port, batch);
    const { responses, rest } = parseResponses(result.raw, batchMethods);
    const got = summarize(responses);
    assert.deepEqual(got, batchWant, `pipelined batch = ${JSON.stringify(got)}`);
    assert.equal(rest.length, 0, "bytes after the last response");
    assert.ok(result.closedByServer && !result.reset, "server did not close cleanly");
  });

  test("the batch gives the same bytes at every chunking (split points, byte by byte)", async () => {
    const whole = normalizeDates((await exchange(running.port, batch)).raw);
    assert.deepEqual(
      summarize(parseResponses(Buffer.from(whole, "latin1"), batchMethods).responses),
      batchWant,
    );
    const chunkings: Array<readonly [string, Buffer[], number]> = [];
    for (const at of interestingSplitPoints(batch)) {
      chunkings.push([`split@${at}`, [batch.subarray(0, at), batch.subarray(at)], 2]);
    }
    const bytes = [...batch].map((_, at) => batch.subarray(at, at + 1));
    chunkings.push(["bytewise", bytes, 1]);
    const threes: Buffer[] = [];
    for (let at = 0; at < batch.length; at += 3) threes.push(batch.subarray(at, at + 3));
    chunkings.push(["every 3 bytes", threes, 0]);
    for (const [name, chunks, writeDelayMs] of chunkings) {
      const result = await exchange(running.port, chunks, { writeDelayMs, timeoutMs: 5000 });
      const got = normalizeDates(result.raw);
      assert.equal(got, whole, `exchange(batch, ${name}) differs from exchange(batch, whole)`);
    }
  });

  test("21 pipelined sync answers (OPTIONS, 405, 501) arrive complete and in order", async () => {
    const kinds = [
      ["OPTIONS", "*", 204],
      ["DELETE", "/x", 405],
      ["FOO", "/x", 501],
    ] as const;
    let requests = "";
    const methods: string[] = [];
    const want: number[] = [];
    for (let i = 0; i < 21; i++) {
      const [method, target, status] = kinds[i % kinds.length] ?? kinds[0];
      requests += i === 20 ? closing(method, target) : request(method, target);
      methods.push(method);
      want.push(status);
    }
    const result = await exchange(running.port, requests);
    const { responses, rest } = parseResponses(result.raw, methods);
    const got = responses.map((r) => r.status);
    assert.deepEqual(got, want, `21 pipelined sync requests = ${got.join(" ")}`);
    assert.equal(rest.length, 0, "bytes after the last response");
    assert.equal(responses.at(-1)?.header("connection"), "close", "last response's Connection");
  });

  test("a pipelined backlog over 64 KiB of file GETs is answered completely and in order", async () => {
    // More than MAX_PIPELINED_BYTES (64 KiB) of requests, so berth must pause reading and
    // resume once it has caught up, without losing or reordering a request.
    const count = 800;
    let requests = "";
    const methods: string[] = [];
    const want: string[] = [];
    for (let i = 0; i < count; i++) {
      const query = `?n=${i}&pad=${"x".repeat(50)}`;
      const target = i % 2 === 0 ? `/digits.txt${query}` : `/hello.txt${query}`;
      requests += i === count - 1 ? closing("GET", target) : request("GET", target);
      methods.push("GET");
      want.push(i % 2 === 0 ? `200 "0123456789"` : `200 "hello\\n"`);
    }
    assert.ok(requests.length > 64 * 1024, `backlog is ${requests.length} bytes`);
    const result = await exchange(running.port, requests, { timeoutMs: 10_000 });
    const { responses, rest } = parseResponses(result.raw, methods);
    const got = summarize(responses);
    const firstWrong = got.findIndex((line, i) => line !== want[i]);
    assert.equal(got.length, count, `responses to ${count} pipelined GETs = ${got.length}`);
    assert.equal(firstWrong, -1, `response #${firstWrong + 1} = ${got[firstWrong]}`);
    assert.equal(rest.length, 0, "bytes after the last response");
  });
});

// Request bodies berth reads and discards (README "Connections"): a well-framed body leaves the
// next request parsed from exactly the right byte; broken chunked framing found after the answer
// closes the connection, with no second answer.
const chunkedPost = request("POST", "/x", "Transfer-Encoding: chunked\r\n");
const next = request("GET", "/digits.txt", "Connection: close\r\n");
// biome-ignore format: one row per line
const bodyRows: ReadonlyArray<readonly [name: string, sent: string, statuses: string]> = [
  ["Content-Length body",                  `${request("POST", "/x", "Content-Length: 5\r\n")}hello${next}`,   "405 200, closed"],
  ["chunked with extension and trailer",   `${chunkedPost}5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n${next}`, "405 200, closed"],
  ["chunked in two chunks",                `${chunkedPost}3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n${next}`,         "405 200, closed"],
  ["bad chunk size",                       `${chunkedPost}zz\r\nhello\r\n0\r\n\r\n${next}`,                    "405, closed"],
  ["chunk data not followed by CRLF",      `${chunkedPost}5\r\nhelloXX0\r\n\r\n${next}`,                         "405, closed"],
  ["chunked body over maxBodyBytes",       `${chunkedPost}200000\r\n${"x".repeat(100)}`,                             "405, closed"],
];

describe("request bodies", () => {
  for (const [name, sent, want] of bodyRows) {
    test(`${name}: ${want}`, async () => {
      const result = await exchange(running.port, sent);
      const { responses, rest } = parseResponses(result.raw, ["POST", "GET"]);
      const end = result.reset ? "reset" : result.closedByServer ? "closed" : "open";
      const got = `${responses.map((r) => r.status).join(" ")}, ${end}`;
      assert.equal(got, want, `exchange(${name}) = ${got}, want ${want}`);
      assert.equal(rest.length, 0, `exchange(${name}): bytes after the last response`);
      if (responses.length === 2) {
        assert.equal(responses[1]?.body.toString("latin1"), "0123456789", `${name}: next body`);
      }
    });
  }
});

describe("half-close", () => {
  test("requests then end(): every response arrives, then the server closes", async () => {
    const requests =
      request("GET", "/digits.txt") + request("HEAD", "/hello.txt") + request("GET", "/hello.txt");
    const result = await exchange(running.port, requests, { halfClose: true });
    const { responses, rest } = parseResponses(result.raw, ["GET", "HEAD", "GET"]);
    const got = summarize(responses);
    const want = [`200 "0123456789"`, `200 ""`, `200 "hello\\n"`];
    assert.deepEqual(got, want, `half-closed GET, HEAD, GET = ${JSON.stringify(got)}`);
    assert.equal(rest.length, 0, "bytes after the last response");
    assert.ok(result.closedByServer && !result.reset, "server did not close cleanly");
  });

  test("requests written byte by byte then end(): every response arrives", async () => {
    const requests = Buffer.from(request("GET", "/digits.txt") + request("GET", "/"), "latin1");
    const bytes = [...requests].map((_, at) => requests.subarray(at, at + 1));
    const result = await exchange(running.port, bytes, { halfClose: true, writeDelayMs: 1 });
    const got = summarize(parseResponses(result.raw, ["GET", "GET"]).responses);
    const want = [`200 "0123456789"`, `200 "<p>index</p>\\n"`];
    assert.deepEqual(got, want, `half-closed bytewise GET, GET = ${JSON.stringify(got)}`);
    assert.ok(result.closedByServer && !result.reset, "server did not close cleanly");
  });
});
