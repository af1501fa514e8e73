/**
 * Exact responses over a real socket: what berth answers to each method and target, byte for
 * byte (only the Date value is normalised), and how it keeps or closes connections.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { formatStrongEtag } from "../../src/conditional/etag.js";
import { errorBody } from "../../src/server/response-plan.js";
import { exchange, parseResponses, showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  FIXTURE_LAST_MODIFIED,
  normalizeDates,
  RawConnection,
  type RunningServer,
  startServer,
  writeStampedTree,
} from "../helpers/test-server.js";

let root = "";
let running: RunningServer;

before(async () => {
  root = await makeTempDir("berth-responses-");
  await writeStampedTree(root, {
    "digits.txt": "0123456789",
    "hello.txt": "hello\n",
    "empty.txt": "",
    "index.html": "<p>index</p>\n",
    "sub/index.html": "<p>sub</p>\n",
    "a dir/index.html": "<p>a dir</p>\n",
    "empty/": "",
  });
  running = await startServer({ root });
});

after(async () => {
  await running?.server.close();
  await removeTempDir(root);
});

const TEXT = "text/plain; charset=utf-8";
const HTML = "text/html; charset=utf-8";
const ALLOW = "GET, HEAD, OPTIONS";

const request = (method: string, target: string, fields = ""): string =>
  `${method} ${target} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;

/** The exact head of a 200 for a fixture file, without the final CRLF. */
function fileHead(relativePath: string, contentType: string): string {
  const stats = statSync(join(root, relativePath));
  return (
    "HTTP/1.1 200 OK\r\n" +
    "Date: <date>\r\n" +
    "X-Content-Type-Options: nosniff\r\n" +
    "Accept-Ranges: bytes\r\n" +
    `ETag: ${formatStrongEtag(stats)}\r\n` +
    `Last-Modified: ${FIXTURE_LAST_MODIFIED}\r\n` +
    // RFC 9111 §5.2.2: HTML is always revalidated; other files get the default max-age.
    `Cache-Control: ${contentType.startsWith("text/html") ? "no-cache" : "public, max-age=60"}\r\n` +
    `Content-Type: ${contentType}\r\n` +
    `Content-Length: ${stats.size}\r\n`
  );
}

/** The exact head of an error response (generic HTML body), without the final CRLF. */
function errorHead(status: string, extraFields = ""): string {
  const code = Number(status.slice(0, 3));
  return (
    `HTTP/1.1 ${status}\r\n` +
    "Date: <date>\r\n" +
    "X-Content-Type-Options: nosniff\r\n" +
    extraFields +
    `Content-Type: ${HTML}\r\n` +
    `Content-Length: ${errorBody(code).length}\r\n`
  );
}

const errorText = (status: number): string => errorBody(status).toString("latin1");

function redirectHead(location: string): string {
  return (
    "HTTP/1.1 301 Moved Permanently\r\n" +
    "Date: <date>\r\n" +
    "X-Content-Type-Options: nosniff\r\n" +
    `Location: ${location}\r\n` +
    `Content-Type: ${HTML}\r\n` +
    `Content-Length: ${errorBody(301).length}\r\n`
  );
}

const NO_CONTENT = `HTTP/1.1 204 No Content\r\nDate: <date>\r\nAllow: ${ALLOW}\r\n`;

/** Sent after every exact row: its answer proves the row's response ended exactly where its
 * framing said, with no stray bytes, and the close ends the exchange. */
const SENTINEL = request("OPTIONS", "*", "Connection: close\r\n");
const SENTINEL_RESPONSE = `${NO_CONTENT}Connection: close\r\n\r\n`;

// Expected responses are functions: ETags need the fixture's inode, known once it exists.
// biome-ignore format: one row per line
const exactRows: ReadonlyArray<readonly [string, () => string]> = [
  [request("GET", "/digits.txt"),           () => `${fileHead("digits.txt", TEXT)}\r\n0123456789`],
  [request("HEAD", "/digits.txt"),          () => `${fileHead("digits.txt", TEXT)}\r\n`],
  [request("GET", "/hello.txt"),            () => `${fileHead("hello.txt", TEXT)}\r\nhello\n`],
  [request("GET", "/empty.txt"),            () => `${fileHead("empty.txt", TEXT)}\r\n`],
  [request("GET", "/"),                     () => `${fileHead("index.html", HTML)}\r\n<p>index</p>\n`],
  [request("HEAD", "/"),                    () => `${fileHead("index.html", HTML)}\r\n`],
  [request("GET", "/sub/"),                 () => `${fileHead("sub/index.html", HTML)}\r\n<p>sub</p>\n`],
  [request("GET", "/a%20dir/"),             () => `${fileHead("a dir/index.html", HTML)}\r\n<p>a dir</p>\n`],
  [request("GET", "/sub"),                  () => `${redirectHead("/sub/")}\r\n${errorText(301)}`],
  [request("GET", "/sub?x=1"),              () => `${redirectHead("/sub/?x=1")}\r\n${errorText(301)}`],
  [request("HEAD", "/sub"),                 () => `${redirectHead("/sub/")}\r\n`],
  [request("GET", "/a%20dir"),              () => `${redirectHead("/a%20dir/")}\r\n${errorText(301)}`],
  [request("GET", "/a%20dir?q=%20&r"),      () => `${redirectHead("/a%20dir/?q=%20&r")}\r\n${errorText(301)}`],
  [request("GET", "/empty"),                () => `${redirectHead("/empty/")}\r\n${errorText(301)}`],
  [request("GET", "/empty/"),               () => `${errorHead("404 Not Found")}\r\n${errorText(404)}`],
  [request("GET", "/missing"),              () => `${errorHead("404 Not Found")}\r\n${errorText(404)}`],
  [request("HEAD", "/missing"),             () => `${errorHead("404 Not Found")}\r\n`],
  [request("OPTIONS", "/x"),                () => `${NO_CONTENT}\r\n`],
  [request("OPTIONS", "*"),                 () => `${NO_CONTENT}\r\n`],
  [request("OPTIONS", "/digits.txt"),       () => `${NO_CONTENT}\r\n`],
  [request("POST", "/hello.txt"),           () => `${errorHead("405 Method Not Allowed", `Allow: ${ALLOW}\r\n`)}\r\n${errorText(405)}`],
  [request("PUT", "/hello.txt"),            () => `${errorHead("405 Method Not Allowed", `Allow: ${ALLOW}\r\n`)}\r\n${errorText(405)}`],
  [request("DELETE", "/hello.txt"),         () => `${errorHead("405 Method Not Allowed", `Allow: ${ALLOW}\r\n`)}\r\n${errorText(405)}`],
  [request("FOO", "/hello.txt"),            () => `${errorHead("501 Not Implemented", `Allow: ${ALLOW}\r\n`)}\r\n${errorText(501)}`],
  [request("get", "/hello.txt"),            () => `${errorHead("501 Not Implemented", `Allow: ${ALLOW}\r\n`)}\r\n${errorText(501)}`],
];

describe("exact responses", () => {
  for (const [requestText, want] of exactRows) {
    const call = `exchange(${showBytes(Buffer.from(requestText, "latin1"), 0, 200)})`;
    test(call, async () => {
      const result = await exchange(running.port, requestText + SENTINEL);
      const got = normalizeDates(result.raw);
      const wanted = want() + SENTINEL_RESPONSE;
      assert.equal(got, wanted, `${call} = ${JSON.stringify(got)}, want ${JSON.stringify(wanted)}`);
      assert.ok(result.closedByServer && !result.reset, `${call}: server did not close cleanly`);
    });
  }

  test("error bodies name their status and never echo the request", () => {
    for (const status of [301, 404, 405, 501]) {
      const body = errorText(status);
      assert.match(body, new RegExp(`<title>${status} `), `errorBody(${status}) = ${body}`);
      assert.doesNotMatch(body, /missing|hello|sub/, `errorBody(${status}) = ${body}`);
    }
  });
});

// README: one access-log line per request in Common Log Format; "-" when no content was sent.
// biome-ignore format: one row per line
const accessRows: ReadonlyArray<readonly [string, string]> = [
  [request("GET", "/digits.txt"),       '"GET /digits.txt HTTP/1.1" 200 10'],
  [request("HEAD", "/digits.txt"),      '"HEAD /digits.txt HTTP/1.1" 200 -'],
  [request("GET", "/missing?a=\"b\\c\""), `"GET /missing?a=\\x22b\\x5Cc\\x22 HTTP/1.1" 404 ${errorBody(404).length}`],
  [request("OPTIONS", "*"),             '"OPTIONS * HTTP/1.1" 204 -'],
];

describe("access log", () => {
  for (const [requestText, want] of accessRows) {
    const call = `access line for ${JSON.stringify(requestText.split("\r\n")[0])}`;
    test(call, async () => {
      const before = running.log.accessLines.length;
      await exchange(running.port, requestText + SENTINEL);
      const [line] = running.log.accessLines.slice(before);
      const pattern =
        /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] (.*)$/;
      const got = pattern.exec(line ?? "")?.[1];
      assert.equal(got, want, `${call} = ${JSON.stringify(line)}, want ... ${want}`);
    });
  }
});

// Connection persistence, RFC 9112 §9.3 and §9.6.
describe("connections", () => {
  test("HTTP/1.0 without keep-alive: Connection: close, then the server closes", async () => {
    const result = await exchange(running.port, "GET /hello.txt HTTP/1.0\r\n\r\n");
    const got = normalizeDates(result.raw);
    const want = `${fileHead("hello.txt", TEXT)}Connection: close\r\n\r\nhello\n`;
    assert.equal(got, want, `GET /hello.txt HTTP/1.0 = ${JSON.stringify(got)}`);
    assert.ok(result.closedByServer && !result.reset, "server did not close cleanly");
  });

  test("HTTP/1.0 with Connection: keep-alive stays open for a second request", async () => {
    const connection = await RawConnection.open(running.port);
    try {
      connection.write("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      await connection.waitForResponses(["GET"], 2000);
      const first = normalizeDates(connection.received);
      const wantFirst = `${fileHead("hello.txt", TEXT)}Connection: keep-alive\r\n\r\nhello\n`;
      assert.equal(first, wantFirst, `first response = ${JSON.stringify(first)}`);
      assert.ok(!connection.endedByServer, "server ended a keep-alive HTTP/1.0 connection");

      const offset = connection.received.length;
      connection.write("GET /digits.txt HTTP/1.0\r\n\r\n");
      await connection.waitForServerGone(2000);
      const second = normalizeDates(connection.received.subarray(offset));
      const wantSecond = `${fileHead("digits.txt", TEXT)}Connection: close\r\n\r\n0123456789`;
      assert.equal(second, wantSecond, `second response = ${JSON.stringify(second)}`);
      assert.ok(!connection.reset, "server reset instead of closing");
    } finally {
      connection.destroy();
    }
  });

  test("HTTP/1.1 keeps the connection open by default", async () => {
    const connection = await RawConnection.open(running.port);
    try {
      for (let i = 0; i < 3; i++) {
        const offset = connection.received.length;
        connection.write(request("GET", "/digits.txt"));
        const [response] = await connection.waitForResponses(["GET"], 2000, offset);
        assert.equal(response?.status, 200, `request #${i + 1} on one connection`);
        assert.equal(response?.header("connection"), undefined, `request #${i + 1}`);
        assert.ok(!connection.endedByServer, `server closed after request #${i + 1}`);
      }
    } finally {
      connection.destroy();
    }
  });

  test("HTTP/1.1 Connection: close is answered, then the server closes and reads no further request", async () => {
    const requests = request("GET", "/hello.txt", "Connection: close\r\n") + request("GET", "/");
    const result = await exchange(running.port, requests);
    const got = normalizeDates(result.raw);
    const want = `${fileHead("hello.txt", TEXT)}Connection: close\r\n\r\nhello\n`;
    assert.equal(got, want, `GET /hello.txt with Connection: close = ${JSON.stringify(got)}`);
    assert.ok(result.closedByServer && !result.reset, "server did not close cleanly");
  });
});

// RFC 9110 §10.1.1: a server may answer without reading the body; it then cannot keep the
// connection (the body may still come), so it closes. berth never sends 100 Continue.
// biome-ignore format: one row per line
const expectRows: ReadonlyArray<readonly [string, number, string | undefined]> = [
  [request("GET", "/hello.txt", "Expect: 100-continue\r\nContent-Length: 10\r\n"), 200, "close"],
  [request("PUT", "/hello.txt", "Expect: 100-continue\r\nContent-Length: 10\r\n"), 405, "close"],
  [request("POST", "/x", "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n"), 405, "close"],
  [request("GET", "/hello.txt", "Expect: 100-continue\r\n"), 200, undefined],
];

describe("Expect: 100-continue", () => {
  for (const [requestText, wantStatus, wantConnection] of expectRows) {
    const call = `exchange(${showBytes(Buffer.from(requestText, "latin1"), 0, 200)})`;
    test(call, async () => {
      const connection = await RawConnection.open(running.port);
      try {
        const startMs = performance.now();
        connection.write(requestText);
        const [response] = await connection.waitForResponses(["GET"], 1000);
        const elapsedMs = performance.now() - startMs;
        const got = `${response?.status} Connection: ${response?.header("connection")}`;
        const want = `${wantStatus} Connection: ${wantConnection}`;
        assert.equal(got, want, `${call} = ${got}, want ${want}`);
        assert.ok(elapsedMs < 500, `${call} answered after ${elapsedMs.toFixed(0)} ms, want < 500`);
        if (wantConnection === "close") {
          await connection.waitForServerGone(1000);
          const all = parseResponses(connection.received, ["GET"]);
          assert.equal(all.responses.length, 1, `${call}: responses ${all.responses.length}`);
          assert.equal(all.rest.length, 0, `${call}: bytes after the response`);
        }
      } finally {
        connection.destroy();
      }
    });
  }
});
