/**
 * Conditional requests (RFC 9110 §13), ranges (§14) and Cache-Control over a real socket, with
 * exact responses: every head byte for byte (only Date normalised; ETags from fs.statSync, the
 * Last-Modified from the stamped fixture mtime) and every body byte for byte, multipart included.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { formatStrongEtag } from "../../src/conditional/etag.js";
import { errorBody } from "../../src/server/response-plan.js";
import { describeRequest, type ExactResponse, exchangeOne } from "../helpers/exact-exchange.js";
import { showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  FIXTURE_LAST_MODIFIED,
  FIXTURE_MTIME,
  type RunningServer,
  startServer,
  writeStampedTree,
} from "../helpers/test-server.js";

/** sample.bin: byte i holds i, so any range reads back as its own offsets. */
const SAMPLE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** Every fixture, with the Content-Type berth names for it. */
// biome-ignore format: one row per line
const FILES: Readonly<Record<string, { content: Buffer; type: string }>> = {
  "digits.txt":         { content: Buffer.from("0123456789"), type: "text/plain; charset=utf-8" },
  "sample.bin":         { content: SAMPLE, type: "application/octet-stream" },
  "empty.txt":          { content: Buffer.alloc(0), type: "text/plain; charset=utf-8" },
  "index.html":         { content: Buffer.from("<p>index</p>\n"), type: "text/html; charset=utf-8" },
  "assets/app.1234.js": { content: Buffer.from("console.log(1234);\n"), type: "text/javascript; charset=utf-8" },
  "assets/page.html":   { content: Buffer.from("<p>fingerprinted</p>\n"), type: "text/html; charset=utf-8" },
};

/** HTTP-dates one second either side of the fixtures' Last-Modified. */
const SECOND_BEFORE = new Date(FIXTURE_MTIME.getTime() - 1000).toUTCString();
const SECOND_AFTER = new Date(FIXTURE_MTIME.getTime() + 1000).toUTCString();

const DEFAULT_CACHE = "public, max-age=60";
const HTML_CACHE = "no-cache";
const IMMUTABLE_CACHE = "public, max-age=31536000, immutable";

let root = "";
/** Default options. */
let main: RunningServer;
/** maxRanges: 2. */
let twoRanges: RunningServer;
/** maxAgeSeconds: 0 and immutableGlobs ["assets/**"]. */
let policy: RunningServer;

before(async () => {
  root = await makeTempDir("berth-conditional-");
  const tree: Record<string, Buffer> = {};
  for (const [name, file] of Object.entries(FILES)) tree[name] = file.content;
  await writeStampedTree(root, tree);
  main = await startServer({ root });
  twoRanges = await startServer({ root, maxRanges: 2 });
  policy = await startServer({ root, maxAgeSeconds: 0, immutableGlobs: ["assets/**"] });
});

after(async () => {
  try {
    await Promise.all([main?.server.close(), twoRanges?.server.close(), policy?.server.close()]);
  } finally {
    await removeTempDir(root);
  }
});

const request = (method: string, target: string, fields = ""): string =>
  `${method} ${target} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;

function fileOf(path: string): { content: Buffer; type: string } {
  return FILES[path] ?? assert.fail(`no fixture ${path}`);
}

const etagOf = (path: string): string => formatStrongEtag(statSync(join(root, path)));

/** Fills a row's placeholders: {etag} (the target's current ETag), {lm} (its Last-Modified),
 * {lm-1s} and {lm+1s}. Rows keep them so a test's name reads the same on every machine. */
function fillFields(fields: string, path: string): string {
  return fields
    .replaceAll("{etag}", etagOf(path))
    .replaceAll("{lm}", FIXTURE_LAST_MODIFIED)
    .replaceAll("{lm-1s}", SECOND_BEFORE)
    .replaceAll("{lm+1s}", SECOND_AFTER);
}

type Want =
  | { readonly kind: "full" }
  | { readonly kind: "partial"; readonly first: number; readonly last: number }
  | { readonly kind: "not-modified" }
  | { readonly kind: "precondition-failed" }
  | { readonly kind: "unsatisfiable" };

const FULL: Want = { kind: "full" };
const NOT_MODIFIED: Want = { kind: "not-modified" };
const FAILED: Want = { kind: "precondition-failed" };
const UNSATISFIABLE: Want = { kind: "unsatisfiable" };
const partial = (first: number, last: number): Want => ({ kind: "partial", first, last });

function showWant(want: Want): string {
  switch (want.kind) {
    case "full":
      return "200 whole file";
    case "partial":
      return `206 bytes ${want.first}-${want.last}`;
    case "not-modified":
      return "304";
    case "precondition-failed":
      return "412";
    case "unsatisfiable":
      return "416";
  }
}

/** ETag, Last-Modified and Cache-Control, as a 200, 206 and 304 carry them. */
function validatorLines(path: string, cacheControl: string): string {
  return (
    `ETag: ${etagOf(path)}\r\n` +
    `Last-Modified: ${FIXTURE_LAST_MODIFIED}\r\n` +
    `Cache-Control: ${cacheControl}\r\n`
  );
}

/** The head of a 200 or 206 for `path`, ending with the blank line. */
function contentHead(status: string, path: string, cacheControl: string, fields: string): string {
  return (
    `HTTP/1.1 ${status}\r\n` +
    "Date: <date>\r\n" +
    "X-Content-Type-Options: nosniff\r\n" +
    "Accept-Ranges: bytes\r\n" +
    validatorLines(path, cacheControl) +
    fields +
    "\r\n"
  );
}

/** The head of a generic error answer (small HTML body), ending with the blank line. */
function errorHead(status: number, reason: string, extraFields = ""): string {
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    "Date: <date>\r\n" +
    "X-Content-Type-Options: nosniff\r\n" +
    extraFields +
    "Content-Type: text/html; charset=utf-8\r\n" +
    `Content-Length: ${errorBody(status).length}\r\n` +
    "\r\n"
  );
}

function cacheControlOf(path: string): string {
  return fileOf(path).type.startsWith("text/html") ? HTML_CACHE : DEFAULT_CACHE;
}

/** The exact response `want` stands for, to a GET or HEAD of `path` on the default server. */
function expected(
  path: string,
  want: Want,
  method: string,
  cacheControl = cacheControlOf(path),
): { head: string; body: Buffer } {
  const { content, type } = fileOf(path);
  const withBody = (head: string, body: Buffer) => ({
    head,
    body: method === "HEAD" ? Buffer.alloc(0) : body,
  });
  switch (want.kind) {
    case "full":
      return withBody(
        contentHead(
          "200 OK",
          path,
          cacheControl,
          `Content-Type: ${type}\r\nContent-Length: ${content.length}\r\n`,
        ),
        content,
      );
    case "partial": {
      const { first, last } = want;
      return withBody(
        contentHead(
          "206 Partial Content",
          path,
          cacheControl,
          `Content-Type: ${type}\r\n` +
            `Content-Range: bytes ${first}-${last}/${content.length}\r\n` +
            `Content-Length: ${last - first + 1}\r\n`,
        ),
        content.subarray(first, last + 1),
      );
    }
    case "not-modified":
      // RFC 9110 §15.4.5: no content, no Content-Type or Content-Length; the validators and
      // Cache-Control a 200 would have had.
      return {
        head: `HTTP/1.1 304 Not Modified\r\nDate: <date>\r\n${validatorLines(path, cacheControl)}\r\n`,
        body: Buffer.alloc(0),
      };
    case "precondition-failed":
      return withBody(errorHead(412, "Precondition Failed"), errorBody(412));
    case "unsatisfiable":
      // RFC 9110 §15.5.17: a 416 names the current length.
      return withBody(
        errorHead(416, "Range Not Satisfiable", `Content-Range: bytes */${content.length}\r\n`),
        errorBody(416),
      );
  }
}

/** Asserts the whole response: head text and body bytes. */
function assertResponse(call: string, got: ExactResponse, want: { head: string; body: Buffer }) {
  assert.equal(got.head, want.head, `${call} head = ${JSON.stringify(got.head)}`);
  assert.ok(
    got.body.equals(want.body),
    `${call} body = ${showBytes(got.body, 0, 300)}, want ${showBytes(want.body, 0, 300)}`,
  );
}

/** "0-0,2-2,4-4,…": `count` one-byte ranges that never touch, so none merge. */
const spacedRanges = (count: number): string =>
  Array.from({ length: count }, (_, i) => `${2 * i}-${2 * i}`).join(",");

// RFC 9110 §13.2.2: the order of evaluation, then Range only for a request that passed.
// Every row runs as GET and as HEAD: the same status and head, and HEAD never has a body.
// biome-ignore format: one row per line
const preconditionRows: ReadonlyArray<readonly [string, Want]> = [
  ["If-None-Match: {etag}",                                NOT_MODIFIED],
  ["If-None-Match: W/{etag}",                              NOT_MODIFIED], // §13.1.2: weak comparison
  ['If-None-Match: "nope", {etag}',                        NOT_MODIFIED],
  ["If-None-Match: *",                                     NOT_MODIFIED],
  ['If-None-Match: "nope"',                                FULL],
  ["If-Modified-Since: {lm}",                              NOT_MODIFIED],
  ["If-Modified-Since: {lm+1s}",                           NOT_MODIFIED],
  ["If-Modified-Since: {lm-1s}",                           FULL],
  ["If-Modified-Since: Tuesday, 02-Jan-24 03:04:05 GMT",   NOT_MODIFIED], // RFC 850 date
  ["If-Modified-Since: Tue Jan  2 03:04:05 2024",          NOT_MODIFIED], // asctime date
  ["If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT",     FULL], // §13.1.3: a future date is ignored
  ["If-Modified-Since: yesterday",                         FULL], // not an HTTP-date: ignored
  ['If-None-Match: "nope"\r\nIf-Modified-Since: {lm}',     FULL], // §13.1.3: IMS ignored with INM
  ["If-None-Match: nope",                                  FULL], // malformed: the condition is true
  ['If-Match: "nope"',                                     FAILED],
  ["If-Match: W/{etag}",                                   FAILED], // §13.1.1: strong comparison
  ["If-Match: {etag}",                                     FULL],
  ["If-Match: *",                                          FULL],
  ["If-Unmodified-Since: {lm-1s}",                         FAILED],
  ["If-Unmodified-Since: {lm}",                            FULL],
  ["If-Unmodified-Since: yesterday",                       FULL], // not an HTTP-date: ignored
  ["If-Match: nope",                                       FAILED], // malformed: not a match
  ["If-Match: {etag}\r\nIf-Unmodified-Since: {lm-1s}",     FULL], // §13.1.4: IUS ignored with If-Match
  ['If-Match: "nope"\r\nIf-None-Match: {etag}',            FAILED], // step 1 before step 3
  ["If-Unmodified-Since: {lm-1s}\r\nIf-None-Match: {etag}", FAILED], // step 2 before step 3
  ["If-None-Match: {etag}\r\nRange: bytes=2-4",            NOT_MODIFIED], // preconditions before Range
  ["If-Modified-Since: {lm}\r\nRange: bytes=2-4",          NOT_MODIFIED],
  ['If-Match: "nope"\r\nRange: bytes=2-4',                 FAILED],
  ["If-Unmodified-Since: {lm-1s}\r\nRange: bytes=10-20",   FAILED], // 412 before 416
];

describe("preconditions on /digits.txt, GET and HEAD", () => {
  for (const method of ["GET", "HEAD"]) {
    for (const [fields, want] of preconditionRows) {
      const name = `${method} /digits.txt ${JSON.stringify(fields)} = ${showWant(want)}`;
      test(name, async () => {
        const text = request(method, "/digits.txt", `${fillFields(fields, "digits.txt")}\r\n`);
        const got = await exchangeOne(main.port, text);
        assertResponse(
          `exchange(${describeRequest(text)})`,
          got,
          expected("digits.txt", want, method),
        );
      });
    }
  }
});

// RFC 9110 §14: GET with Range on the default server (maxRanges 32).
// biome-ignore format: one row per line
const rangeRows: ReadonlyArray<readonly [string, string, Want]> = [
  ["digits.txt", "Range: bytes=2-4",                       partial(2, 4)],
  ["digits.txt", "Range: bytes=-3",                        partial(7, 9)],
  ["digits.txt", "Range: bytes=7-",                        partial(7, 9)],
  ["digits.txt", "Range: bytes=7-100",                     partial(7, 9)], // clipped to the end
  ["digits.txt", "Range: bytes=0-0",                       partial(0, 0)],
  ["digits.txt", "Range: bytes=-20",                       partial(0, 9)], // suffix longer than the file
  ["digits.txt", "Range: bytes=10-20",                     UNSATISFIABLE],
  ["digits.txt", "Range: bytes=-0",                        UNSATISFIABLE],
  ["digits.txt", "Range: bytes=0-3,2-5",                   partial(0, 5)], // overlapping → merged
  ["digits.txt", "Range: bytes=0-1,2-3",                   partial(0, 3)], // adjacent → merged
  ["digits.txt", "Range: bytes=2-4,20-30",                 partial(2, 4)], // unsatisfiable spec dropped
  ["digits.txt", "Range: bytes=0-,0-",                     FULL], // adds up to more than the file
  ["digits.txt", "Range: bytes=4-2",                       FULL], // invalid → ignored
  ["digits.txt", "Range: items=0-1",                       FULL], // unknown unit → ignored
  ["digits.txt", "Range: bytes=2-4\r\nIf-Range: {etag}",   partial(2, 4)],
  ["digits.txt", 'Range: bytes=2-4\r\nIf-Range: "stale"',  FULL],
  ["digits.txt", "Range: bytes=2-4\r\nIf-Range: W/{etag}", FULL], // §13.1.5: weak never matches
  ["digits.txt", "Range: bytes=2-4\r\nIf-Range: {lm}",     partial(2, 4)],
  ["digits.txt", "Range: bytes=2-4\r\nIf-Range: {lm+1s}",  FULL], // §13.1.5: exact match only
  ["digits.txt", "Range: bytes=2-4\r\nIf-Range: {lm-1s}",  FULL],
  ["digits.txt", 'Range: bytes=10-20\r\nIf-Range: "stale"', FULL], // If-Range false: no 416 either
  ["sample.bin", "Range: bytes=16-31",                     partial(16, 31)],
  ["sample.bin", "Range: bytes=250-",                      partial(250, 255)],
  ["sample.bin", `Range: bytes=${spacedRanges(33)}`,       FULL], // over the 32-range cap
  ["empty.txt",  "Range: bytes=0-0",                       FULL], // §14.2: nothing to select in empty content
  ["empty.txt",  "Range: bytes=-1",                        FULL],
  ["index.html", "Range: bytes=3-7",                       partial(3, 7)],
];

describe("GET with Range", () => {
  for (const [path, fields, want] of rangeRows) {
    test(`GET /${path} ${JSON.stringify(fields)} = ${showWant(want)}`, async () => {
      const text = request("GET", `/${path}`, `${fillFields(fields, path)}\r\n`);
      const got = await exchangeOne(main.port, text);
      assertResponse(`exchange(${describeRequest(text)})`, got, expected(path, want, "GET"));
    });
  }

  test("sample.bin bytes=16-31 reads back 0x10..0x1f", async () => {
    const got = await exchangeOne(
      main.port,
      request("GET", "/sample.bin", "Range: bytes=16-31\r\n"),
    );
    const want = Buffer.from(Array.from({ length: 16 }, (_, i) => 0x10 + i));
    assert.ok(got.body.equals(want), `body = ${showBytes(got.body)}, want ${showBytes(want)}`);
  });
});

// RFC 9110 §14.2: "A server MUST ignore a Range header field received with a request method that
// is unrecognized or for which range handling is not defined"; range handling is defined for GET
// only. So HEAD answers exactly what a HEAD without Range answers (RFC 9110 §9.3.2).
// biome-ignore format: one row per line
const headRangeRows: ReadonlyArray<readonly [string, string]> = [
  ["digits.txt", "Range: bytes=2-4"],
  ["digits.txt", "Range: bytes=10-20"],
  ["digits.txt", "Range: bytes=0-1,5-6"],
  ["digits.txt", "Range: bytes=2-4\r\nIf-Range: {etag}"],
  ["sample.bin", "Range: bytes=16-31"],
];

describe("HEAD with Range = HEAD without it", () => {
  for (const [path, fields] of headRangeRows) {
    test(`HEAD /${path} ${JSON.stringify(fields)} = 200, the head of GET without Range`, async () => {
      const withRange = request("HEAD", `/${path}`, `${fillFields(fields, path)}\r\n`);
      const got = await exchangeOne(main.port, withRange);
      const get = await exchangeOne(main.port, request("GET", `/${path}`));
      const call = `exchange(${describeRequest(withRange)})`;
      assertResponse(call, got, expected(path, FULL, "HEAD"));
      assert.equal(got.head, get.head, `${call} head differs from GET without Range`);
    });
  }
});

/** The boundary of a multipart/byteranges Content-Type, quoted or not. */
function parseBoundary(call: string, contentType: string | undefined): string {
  const match = /^multipart\/byteranges; ?boundary=(?:"([^"]+)"|([^";]+))$/.exec(contentType ?? "");
  const boundary = match?.[1] ?? match?.[2];
  assert.ok(boundary !== undefined, `${call}: Content-Type = ${contentType}, want multipart`);
  // RFC 2046 §5.1.1: 1 to 70 bchars, not ending in a space.
  assert.match(boundary, /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/, call);
  return boundary;
}

/**
 * RFC 9110 §14.6 with RFC 2046 §5.1.1's framing: each part is a delimiter line, its
 * Content-Type and Content-Range, a blank line and the bytes; the CRLF before each later
 * delimiter belongs to it; the body ends with the close-delimiter and a CRLF.
 */
function multipartBody(
  boundary: string,
  path: string,
  parts: readonly (readonly [number, number])[],
): Buffer {
  const { content, type } = fileOf(path);
  const chunks: Buffer[] = [];
  parts.forEach(([first, last], index) => {
    const delimiter = `${index === 0 ? "" : "\r\n"}--${boundary}\r\n`;
    chunks.push(
      Buffer.from(
        `${delimiter}Content-Type: ${type}\r\n` +
          `Content-Range: bytes ${first}-${last}/${content.length}\r\n\r\n`,
        "latin1",
      ),
      content.subarray(first, last + 1),
    );
  });
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, "latin1"));
  return Buffer.concat(chunks);
}

/** GETs `path` with `range` and asserts the whole multipart/byteranges answer; returns it. */
async function assertMultipart(
  running: RunningServer,
  path: string,
  range: string,
  parts: readonly (readonly [number, number])[],
): Promise<ExactResponse> {
  const text = request("GET", `/${path}`, `Range: ${range}\r\n`);
  const call = `exchange(${describeRequest(text)})`;
  const got = await exchangeOne(running.port, text);
  const boundary = parseBoundary(call, got.header("content-type"));
  const body = multipartBody(boundary, path, parts);
  const head = contentHead(
    "206 Partial Content",
    path,
    cacheControlOf(path),
    `Content-Type: multipart/byteranges; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n`,
  );
  assertResponse(call, got, { head, body });
  return got;
}

/** The parts of `bytes=${spacedRanges(32)}`: the 32-range cap itself, still honoured. */
const THIRTY_TWO_PARTS = Array.from({ length: 32 }, (_, i) => [2 * i, 2 * i] as const);

describe("multipart/byteranges, byte for byte", () => {
  // biome-ignore format: one row per line
  const rows: ReadonlyArray<readonly [string, string, readonly (readonly [number, number])[]]> = [
    ["digits.txt", "bytes=0-1,5-6",     [[0, 1], [5, 6]]],
    ["digits.txt", "bytes=5-6,0-1",     [[5, 6], [0, 1]]], // request order kept
    ["digits.txt", "bytes=0-1,1-2,7-",  [[0, 2], [7, 9]]], // overlap merged inside multipart
    ["digits.txt", "bytes=-2,0-0",      [[8, 9], [0, 0]]],
    ["sample.bin", "bytes=0-15,240-255", [[0, 15], [240, 255]]],
    ["sample.bin", `bytes=${spacedRanges(32)}`, THIRTY_TWO_PARTS],
  ];
  for (const [path, range, parts] of rows) {
    const shownRange = range.length > 40 ? `${range.slice(0, 40)}…` : range;
    test(`GET /${path} Range: ${shownRange} = 206 with ${parts.length} parts`, async () => {
      await assertMultipart(main, path, range, parts);
    });
  }

  test("every multipart answer has its own boundary", async () => {
    const parts = [
      [0, 1],
      [5, 6],
    ] as const;
    const first = await assertMultipart(main, "digits.txt", "bytes=0-1,5-6", parts);
    const second = await assertMultipart(main, "digits.txt", "bytes=0-1,5-6", parts);
    assert.notEqual(first.header("content-type"), second.header("content-type"));
  });
});

describe("a server with maxRanges: 2", () => {
  test("GET /digits.txt Range: bytes=0-0,2-2,4-4 = 200 whole file", async () => {
    const text = request("GET", "/digits.txt", "Range: bytes=0-0,2-2,4-4\r\n");
    const got = await exchangeOne(twoRanges.port, text);
    assertResponse(`exchange(${describeRequest(text)})`, got, expected("digits.txt", FULL, "GET"));
  });

  test("GET /digits.txt Range: bytes=0-0,2-2 = 206 with 2 parts", async () => {
    await assertMultipart(twoRanges, "digits.txt", "bytes=0-0,2-2", [
      [0, 0],
      [2, 2],
    ]);
  });

  test("GET /digits.txt Range: bytes=0-0,1-1,2-2 = 200: the cap counts specs as written", async () => {
    // README: "more than --max-ranges ranges" → the whole file, even when they would merge.
    const text = request("GET", "/digits.txt", "Range: bytes=0-0,1-1,2-2\r\n");
    const got = await exchangeOne(twoRanges.port, text);
    assertResponse(`exchange(${describeRequest(text)})`, got, expected("digits.txt", FULL, "GET"));
  });
});

// README "Cache-Control": HTML no-cache; --immutable globs (HTML included) a year and immutable;
// everything else public, max-age=--max-age.
describe("Cache-Control", () => {
  const servers = { main: () => main, policy: () => policy };
  // biome-ignore format: one row per line
  const rows: ReadonlyArray<readonly ["main" | "policy", string, string, string]> = [
    ["main",   "/index.html",         "index.html",         HTML_CACHE],
    ["main",   "/",                   "index.html",         HTML_CACHE],
    ["main",   "/digits.txt",         "digits.txt",         DEFAULT_CACHE],
    ["main",   "/assets/app.1234.js", "assets/app.1234.js", DEFAULT_CACHE],
    ["policy", "/digits.txt",         "digits.txt",         "public, max-age=0"],
    ["policy", "/index.html",         "index.html",         HTML_CACHE],
    ["policy", "/assets/app.1234.js", "assets/app.1234.js", IMMUTABLE_CACHE],
    ["policy", "/assets/page.html",   "assets/page.html",   IMMUTABLE_CACHE],
  ];
  for (const [server, target, path, cacheControl] of rows) {
    test(`${server}: GET ${target} has Cache-Control: ${cacheControl}`, async () => {
      const text = request("GET", target);
      const got = await exchangeOne(servers[server]().port, text);
      const want = expected(path, FULL, "GET", cacheControl);
      assertResponse(`exchange(${describeRequest(text)})`, got, want);
    });
  }

  test("policy: a 304 and a 206 repeat the immutable Cache-Control", async () => {
    const path = "assets/app.1234.js";
    const notModified = request("GET", `/${path}`, `If-None-Match: ${etagOf(path)}\r\n`);
    const got304 = await exchangeOne(policy.port, notModified);
    const want304 = expected(path, NOT_MODIFIED, "GET", IMMUTABLE_CACHE);
    assertResponse(`exchange(${describeRequest(notModified)})`, got304, want304);

    const ranged = request("GET", `/${path}`, "Range: bytes=0-6\r\n");
    const got206 = await exchangeOne(policy.port, ranged);
    const want206 = expected(path, partial(0, 6), "GET", IMMUTABLE_CACHE);
    assertResponse(`exchange(${describeRequest(ranged)})`, got206, want206);
  });
});
