/**
 * Parse errors through a real server (README "Request parsing"): each malformed request gets its
 * exact status with Connection: close, the connection is then closed cleanly (no reset, nothing
 * after the answer is processed), and the stable code is logged. Every limit has a row just at
 * the limit that succeeds and one just over it that fails, each sent whole and byte by byte.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ParseErrorCode } from "../../src/http/parse-error.js";
import { exchange, parseResponses, showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import { type RunningServer, startServer, writeStampedTree } from "../helpers/test-server.js";

/** Small limits, so rows can cross them with short requests. */
const LIMITS = {
  maxRequestLineBytes: 64,
  maxHeadBytes: 256,
  maxHeaderFields: 6,
  maxBodyBytes: 16,
} as const;

let root = "";
let running: RunningServer;

before(async () => {
  root = await makeTempDir("berth-parse-errors-");
  await writeStampedTree(root, { "digits.txt": "0123456789", "hello.txt": "hello\n" });
  running = await startServer({ root, limits: LIMITS });
});

after(async () => {
  await running?.server.close();
  await removeTempDir(root);
});

const GET_DIGITS = "GET /digits.txt HTTP/1.1\r\n";
const CLOSE = "Connection: close\r\n";

/** A request-line of exactly `bytes` bytes (without CRLF) for /digits.txt; the query pads it. */
function requestLineOf(bytes: number): string {
  const fixed = "GET /digits.txt? HTTP/1.1".length;
  return `GET /digits.txt?${"q".repeat(bytes - fixed)} HTTP/1.1\r\nHost: t\r\n${CLOSE}\r\n`;
}

/** A head of exactly `bytes` bytes (request-line, fields, CRLFs, final CRLF), 3 fields. */
function headOf(bytes: number): string {
  const fixed = `${GET_DIGITS}Host: t\r\n${CLOSE}X-Pad: \r\n\r\n`.length;
  return `${GET_DIGITS}Host: t\r\n${CLOSE}X-Pad: ${"p".repeat(bytes - fixed)}\r\n\r\n`;
}

/** A head with exactly `count` field lines (Host and Connection among them). */
function fieldsOf(count: number): string {
  let fields = `Host: t\r\n${CLOSE}`;
  for (let i = 3; i <= count; i++) fields += `X-F${i}: ${i}\r\n`;
  return `${GET_DIGITS}${fields}\r\n`;
}

/** A GET with a Content-Length body of `bytes` bytes (berth reads and discards it). */
function bodyOf(bytes: number): string {
  return `${GET_DIGITS}Host: t\r\n${CLOSE}Content-Length: ${bytes}\r\n\r\n${"b".repeat(bytes)}`;
}

/** A GET with a Content-Length of `bytes`, the body not sent. */
function announcedBodyOf(bytes: number): string {
  return `${GET_DIGITS}Host: t\r\nContent-Length: ${bytes}\r\n\r\n`;
}

/** Appended to every row that must fail: berth must not answer anything after the error. */
const AFTER_ERROR = "GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n";

type Row = readonly [name: string, request: string, status: number, code: ParseErrorCode | null];

// biome-ignore format: one row per line
const rows: readonly Row[] = [
  ["bare LF line ends",                        "GET /digits.txt HTTP/1.1\nHost: t\n\n",                                    400, "BARE_LF"],
  ["bare LF after a field",                    `${GET_DIGITS}Host: t\nX-A: 1\r\n\r\n`,                                     400, "BARE_LF"],
  ["bare CR in a field",                       `${GET_DIGITS}Host: t\r\nX-A: 1\r2\r\n\r\n`,                                 400, "BARE_CR"],
  ["obs-fold",                                 `${GET_DIGITS}Host: t\r\nX-A: 1\r\n 2\r\n\r\n`,                              400, "OBS_FOLD"],
  ["missing Host in HTTP/1.1",                 `${GET_DIGITS}\r\n`,                                                        400, "MISSING_HOST"],
  ["two Host fields",                          `${GET_DIGITS}Host: t\r\nHost: u\r\n\r\n`,                                   400, "DUPLICATE_HOST"],
  ["whitespace before colon",                  `${GET_DIGITS}Host : t\r\n\r\n`,                                            400, "WHITESPACE_BEFORE_COLON"],
  ["two spaces in the request-line",           "GET  /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n",                             400, "BAD_REQUEST_LINE"],
  ["# in the target",                          "GET /digits.txt#x HTTP/1.1\r\nHost: t\r\n\r\n",                            400, "BAD_TARGET"],
  ["GET *",                                    "GET * HTTP/1.1\r\nHost: t\r\n\r\n",                                        400, "ASTERISK_WITHOUT_OPTIONS"],
  ["Content-Length with Transfer-Encoding",    "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING"],
  ["differing Content-Length duplicates",      `${GET_DIGITS}Host: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`,    400, "DUPLICATE_CONTENT_LENGTH"],
  ["Content-Length not decimal",               `${GET_DIGITS}Host: t\r\nContent-Length: +1\r\n\r\n`,                        400, "BAD_CONTENT_LENGTH"],
  ["Transfer-Encoding in HTTP/1.0",            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",           400, "BAD_TRANSFER_ENCODING"],
  ["5 empty lines before the request-line",    `\r\n\r\n\r\n\r\n\r\n${GET_DIGITS}Host: t\r\n\r\n`,                         400, "TOO_MANY_EMPTY_LINES"],
  ["4 empty lines before the request-line",    `\r\n\r\n\r\n\r\n${GET_DIGITS}Host: t\r\n${CLOSE}\r\n`,                     200, null],
  ["request-line of 65 bytes (limit 64)",      requestLineOf(65),                                                          414, "REQUEST_LINE_TOO_LONG"],
  ["request-line of 64 bytes (limit 64)",      requestLineOf(64),                                                          200, null],
  ["head of 257 bytes (limit 256)",            headOf(257),                                                                431, "HEAD_TOO_LARGE"],
  ["head of 256 bytes (limit 256)",            headOf(256),                                                                200, null],
  ["7 header fields (limit 6)",                fieldsOf(7),                                                                431, "TOO_MANY_FIELDS"],
  ["6 header fields (limit 6)",                fieldsOf(6),                                                                200, null],
  ["Content-Length 17 (limit 16)",             announcedBodyOf(17),                                                        413, "BODY_TOO_LARGE"],
  ["Content-Length 16 (limit 16), body sent",  bodyOf(16),                                                                 200, null],
  ["Transfer-Encoding: gzip, chunked",         "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",   501, "UNSUPPORTED_TRANSFER_ENCODING"],
  ["HTTP/2.0",                                 "GET /digits.txt HTTP/2.0\r\nHost: t\r\n\r\n",                              505, "UNSUPPORTED_VERSION"],
  ["HTTP/0.9",                                 "GET /digits.txt HTTP/0.9\r\nHost: t\r\n\r\n",                              505, "UNSUPPORTED_VERSION"],
  ["HTTP/1.2 is processed as HTTP/1.1",        `GET /digits.txt HTTP/1.2\r\nHost: t\r\n${CLOSE}\r\n`,                      200, null],
];

const CHUNKINGS = ["whole", "bytewise"] as const;

describe("parse errors through the server", () => {
  for (const [name, requestText, wantStatus, wantCode] of rows) {
    for (const chunking of CHUNKINGS) {
      const sent = wantStatus === 200 ? requestText : requestText + AFTER_ERROR;
      const call = `exchange(${showBytes(Buffer.from(requestText, "latin1"), 0, 120)}, ${chunking})`;
      test(`${name}: ${wantStatus} (${chunking})`, async () => {
        const bytes = Buffer.from(sent, "latin1");
        const chunks =
          chunking === "whole" ? [bytes] : [...bytes].map((_, at) => bytes.subarray(at, at + 1));
        const errorLinesBefore = running.log.errorLines.length;
        const result = await exchange(running.port, chunks);
        const { responses, rest } = parseResponses(result.raw, ["GET", "GET"]);
        const [response] = responses;
        const got =
          `${response?.status} Connection: ${response?.header("connection")}, ` +
          `${responses.length} response(s), ${rest.length} stray bytes, ` +
          `${result.reset ? "reset" : result.closedByServer ? "closed" : "open"}`;
        const want = `${wantStatus} Connection: close, 1 response(s), 0 stray bytes, closed`;
        assert.equal(got, want, `${call} = ${got}, want ${want}`);
        if (wantStatus === 200) {
          assert.equal(response?.body.toString("latin1"), "0123456789", `${call} body`);
        }
        if (wantCode !== null) {
          const logged = running.log.errorLines.slice(errorLinesBefore);
          const wantLine = `bad request (${wantCode}): ${wantStatus}`;
          assert.ok(
            logged.some((line) => line.endsWith(wantLine)),
            `${call} logged ${JSON.stringify(logged)}, want a line ending ${JSON.stringify(wantLine)}`,
          );
          const body = response?.body.toString("latin1") ?? "";
          assert.ok(!body.includes(wantCode), `${call}: the body reveals the code: ${body}`);
        }
      });
    }
  }
});
