/**
 * Precompressed sidecars over a real socket (README "Precompressed sidecars"; RFC 9110 §8.4,
 * §12.5.3, §12.5.5): which file answers for which Accept-Encoding, with exact heads (only Date
 * normalised; every ETag from fs.statSync of the file actually served) and exact body bytes,
 * and how preconditions and ranges apply to the chosen representation.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { symlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as zlib from "node:zlib";
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

/** Deterministic JavaScript-looking text of exactly `sizeBytes` bytes, compressible as real
 * assets are. */
function scriptText(name: string, sizeBytes: number): Buffer {
  let text = "";
  for (let i = 0; text.length < sizeBytes; i++) {
    text += `export const ${name}${i} = "${"berth serves sidecars ".repeat((i % 5) + 1)}";\n`;
  }
  return Buffer.from(text.slice(0, sizeBytes), "latin1");
}

const APP_JS = scriptText("app", 20 * 1024);
const INDEX_HTML = Buffer.from(
  `<!doctype html>\n<title>index</title>\n${"<p>the directory index, precompressed</p>\n".repeat(40)}`,
);
const LIB_JS = scriptText("lib", 4096);
const STALE_JS = scriptText("stale", 2048);
const ONLY_BR_JS = scriptText("onlyBr", 2048);
const LINKED_JS = scriptText("linked", 2048);
const ESCAPE_JS = scriptText("escape", 2048);

/** Node 22.15+ and 24 compress zstd; on Node 20 the sidecar is other bytes that are smaller than
 * app.js and no older: berth never decodes a sidecar, it only checks those two facts and serves
 * the bytes, which is all these tests look at. */
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: (data: Buffer) => Buffer })
  .zstdCompressSync;
const APP_JS_ZST =
  zstdCompressSync?.(APP_JS) ??
  Buffer.from("stand-in zstd sidecar: berth serves these bytes, it never decodes them\n");

/** Every file, by path below the root. Sidecars carry the fixtures' mtime unless noted. */
// biome-ignore format: one row per line
const TREE: Readonly<Record<string, Buffer>> = {
  "app.js":            APP_JS,
  "app.js.br":         zlib.brotliCompressSync(APP_JS),
  "app.js.zst":        APP_JS_ZST,
  "app.js.gz":         zlib.gzipSync(APP_JS),
  "index.html":        INDEX_HTML,
  "index.html.gz":     zlib.gzipSync(INDEX_HTML),
  "sub/lib.js":        LIB_JS,
  "sub/lib.js.gz":     zlib.gzipSync(LIB_JS),          // an hour newer than lib.js: usable
  "stale.js":          STALE_JS,
  "stale.js.gz":       zlib.gzipSync(STALE_JS),        // a second older than stale.js: stale
  "larger.js":         Buffer.from("x\n"),
  "larger.js.gz":      zlib.gzipSync(Buffer.from("x\n")), // ~22 bytes > 2: compression lost
  "same-size.js":      Buffer.from("same size as its sidecar\n"),
  "same-size.js.gz":   Buffer.from("SAME SIZE AS ITS SIDECAR\n"), // not smaller: not used
  "dir.js":            Buffer.from("its sidecar is a directory\n"),
  "only-br.js":        ONLY_BR_JS,
  "only-br.js.br":     zlib.brotliCompressSync(ONLY_BR_JS),
  "digits.txt":        Buffer.from("0123456789"),
  "linked.js":         LINKED_JS,
  "gz-store/linked.js.gz": zlib.gzipSync(LINKED_JS), // linked.js.gz → here: inside the root
  "escape.js":         ESCAPE_JS,                      // escape.js.gz → a file outside the root
};

const JS = "text/javascript; charset=utf-8";
const HTML = "text/html; charset=utf-8";

/** The Content-Type of each resource (the type of X, whichever representation answers). */
// biome-ignore format: one row per line
const RESOURCE_TYPE: Readonly<Record<string, string>> = {
  "app.js": JS, "sub/lib.js": JS, "stale.js": JS, "larger.js": JS, "same-size.js": JS,
  "dir.js": JS, "only-br.js": JS, "linked.js": JS, "escape.js": JS, "index.html": HTML,
  "digits.txt": "text/plain; charset=utf-8",
  "app.js.gz": "application/gzip",
};

const CODING_BY_EXTENSION: Readonly<Record<string, string>> = {
  br: "br",
  zst: "zstd",
  gz: "gzip",
};

let root = "";
/** Holds escape.js.gz's target: a sidecar that would leave the root. */
let outside = "";
/** Default options: br, zstd, gzip. */
let main: RunningServer;
/** precompressed: []. */
let off: RunningServer;
/** precompressed: ["gzip", "br"]. */
let gzipFirst: RunningServer;

before(async () => {
  root = await makeTempDir("berth-precompressed-");
  await writeStampedTree(root, { ...TREE, "dir.js.gz/": "" });
  const stale = new Date(FIXTURE_MTIME.getTime() - 1000);
  await utimes(join(root, "stale.js.gz"), stale, stale);
  const newer = new Date(FIXTURE_MTIME.getTime() + 3600_000);
  await utimes(join(root, "sub/lib.js.gz"), newer, newer);
  await symlink("gz-store/linked.js.gz", join(root, "linked.js.gz"));
  outside = await makeTempDir("berth-precompressed-outside-");
  await writeStampedTree(outside, { "escape.js.gz": zlib.gzipSync(ESCAPE_JS) });
  await symlink(join(outside, "escape.js.gz"), join(root, "escape.js.gz"));
  main = await startServer({ root });
  off = await startServer({ root, precompressed: [] });
  gzipFirst = await startServer({ root, precompressed: ["gzip", "br"] });
});

after(async () => {
  try {
    await Promise.all([main?.server.close(), off?.server.close(), gzipFirst?.server.close()]);
  } finally {
    await Promise.all([removeTempDir(root), removeTempDir(outside)]);
  }
});

const request = (method: string, target: string, fields = ""): string =>
  `${method} ${target} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;

const statOf = (path: string) => statSync(join(root, path));
const etagOf = (path: string): string => formatStrongEtag(statOf(path));
const lastModifiedOf = (path: string): string => new Date(statOf(path).mtimeMs).toUTCString();

function contentOf(path: string): Buffer {
  return TREE[path] ?? assert.fail(`no fixture ${path}`);
}

/** Fills `{etag:PATH}` with the current ETag of the file at PATH. */
const fillFields = (fields: string): string =>
  fields.replace(/\{etag:([^}]+)\}/g, (_, path: string) => etagOf(path));

type Want = "200" | "206 0-9" | "304" | "412" | "416";

interface Expectation {
  /** The requested resource's path ("index.html" for "/"). */
  readonly resource: string;
  /** The file whose bytes and validators answer. */
  readonly served: string;
  readonly want: Want;
  readonly vary: boolean;
}

/** The exact head and body of `expectation` for `method`. */
function expected(expectation: Expectation, method: string): { head: string; body: Buffer } {
  const { resource, served, want, vary } = expectation;
  const content = contentOf(served);
  const type = RESOURCE_TYPE[resource] ?? assert.fail(`no type for ${resource}`);
  const cacheControl = type === HTML ? "no-cache" : "public, max-age=60";
  const varyLine = vary ? "Vary: Accept-Encoding\r\n" : "";
  const coding =
    served === resource ? null : CODING_BY_EXTENSION[served.slice(served.lastIndexOf(".") + 1)];
  const validators =
    `ETag: ${etagOf(served)}\r\n` +
    `Last-Modified: ${lastModifiedOf(served)}\r\n` +
    `Cache-Control: ${cacheControl}\r\n` +
    varyLine;
  const start =
    "Date: <date>\r\nX-Content-Type-Options: nosniff\r\nAccept-Ranges: bytes\r\n" +
    validators +
    (coding === null ? "" : `Content-Encoding: ${coding}\r\n`) +
    `Content-Type: ${type}\r\n`;
  const isHead = method === "HEAD";
  const errorAnswer = (status: string, fields: string) => ({
    head:
      `HTTP/1.1 ${status}\r\nDate: <date>\r\nX-Content-Type-Options: nosniff\r\n${fields}` +
      `Content-Type: ${HTML}\r\nContent-Length: ${errorBody(Number(status.slice(0, 3))).length}\r\n\r\n`,
    body: isHead ? Buffer.alloc(0) : errorBody(Number(status.slice(0, 3))),
  });
  switch (want) {
    case "200":
      return {
        head: `HTTP/1.1 200 OK\r\n${start}Content-Length: ${content.length}\r\n\r\n`,
        body: isHead ? Buffer.alloc(0) : content,
      };
    case "206 0-9":
      return {
        head:
          `HTTP/1.1 206 Partial Content\r\n${start}` +
          `Content-Range: bytes 0-9/${content.length}\r\nContent-Length: 10\r\n\r\n`,
        body: isHead ? Buffer.alloc(0) : content.subarray(0, 10),
      };
    case "304":
      return {
        head: `HTTP/1.1 304 Not Modified\r\nDate: <date>\r\n${validators}\r\n`,
        body: Buffer.alloc(0),
      };
    case "412":
      return errorAnswer("412 Precondition Failed", varyLine);
    case "416":
      return errorAnswer(
        "416 Range Not Satisfiable",
        `Content-Range: bytes */${content.length}\r\n${varyLine}`,
      );
  }
}

function assertResponse(call: string, got: ExactResponse, want: { head: string; body: Buffer }) {
  assert.equal(got.head, want.head, `${call} head = ${JSON.stringify(got.head)}`);
  assert.ok(
    got.body.equals(want.body),
    `${call} body = ${showBytes(got.body, 0, 120)} (${got.body.length} bytes), ` +
      `want ${showBytes(want.body, 0, 120)} (${want.body.length} bytes)`,
  );
}

type ServerName = "main" | "off" | "gzipFirst";
const servers: Record<ServerName, () => RunningServer> = {
  main: () => main,
  off: () => off,
  gzipFirst: () => gzipFirst,
};

const VARY = true;
const NO_VARY = false;

// Server, target, request fields, the file that answers, status, Vary. Rows without Range run as
// GET and as HEAD (the same head, no body); Range rows as GET only (RFC 9110 §14.2).
// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [ServerName, string, string, string, Want, boolean]> = [
  ["main", "/app.js",       "Accept-Encoding: br, gzip",                  "app.js.br",      "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip",                      "app.js.gz",      "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: zstd",                      "app.js.zst",     "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: x-gzip",                    "app.js.gz",      "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: *",                         "app.js.br",      "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip, deflate, br, zstd",   "app.js.br",      "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip, br;q=0.5",            "app.js.gz",      "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: identity",                  "app.js",         "200", VARY],
  ["main", "/app.js",       "",                                           "app.js",         "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip;q=0, br;q=0",          "app.js",         "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: deflate",                   "app.js",         "200", VARY],
  ["main", "/app.js",       "Accept-Encoding:",                           "app.js",         "200", VARY], // §12.5.3: empty = no coding
  ["main", "/app.js",       "Accept-Encoding: GZIP",                      "app.js.gz",      "200", VARY], // §8.4.1: case-insensitive
  ["main", "/app.js",       "Accept-Encoding: *;q=0, gzip",               "app.js.gz",      "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: identity;q=0",              "app.js",         "200", VARY], // never 406
  ["main", "/sub/lib.js",   "Accept-Encoding: gzip",                      "sub/lib.js.gz",  "200", VARY],
  ["main", "/stale.js",     "Accept-Encoding: gzip",                      "stale.js",       "200", NO_VARY],
  ["main", "/larger.js",    "Accept-Encoding: gzip",                      "larger.js",      "200", NO_VARY],
  ["main", "/same-size.js", "Accept-Encoding: gzip",                      "same-size.js",   "200", NO_VARY],
  ["main", "/dir.js",       "Accept-Encoding: gzip",                      "dir.js",         "200", NO_VARY],
  ["main", "/linked.js",    "Accept-Encoding: gzip",                      "gz-store/linked.js.gz", "200", VARY],
  ["main", "/escape.js",    "Accept-Encoding: gzip",                      "escape.js",      "200", NO_VARY],
  ["main", "/only-br.js",   "Accept-Encoding: gzip",                      "only-br.js",     "200", VARY],
  ["main", "/only-br.js",   "",                                           "only-br.js",     "200", VARY],
  ["main", "/digits.txt",   "Accept-Encoding: br, gzip",                  "digits.txt",     "200", NO_VARY],
  ["main", "/digits.txt",   "",                                           "digits.txt",     "200", NO_VARY],
  ["main", "/",             "Accept-Encoding: gzip",                      "index.html.gz",  "200", VARY],
  ["main", "/index.html",   "Accept-Encoding: gzip",                      "index.html.gz",  "200", VARY],
  ["main", "/",             "",                                           "index.html",     "200", VARY],
  ["main", "/app.js.gz",    "",                                           "app.js.gz",      "200", NO_VARY],
  ["main", "/app.js.gz",    "Accept-Encoding: gzip",                      "app.js.gz",      "200", NO_VARY],
  ["main", "/app.js",       "Accept-Encoding: br\r\nIf-None-Match: {etag:app.js.br}", "app.js.br", "304", VARY],
  ["main", "/app.js",       "Accept-Encoding: br\r\nIf-None-Match: {etag:app.js}",    "app.js.br", "200", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip\r\nIf-None-Match: {etag:app.js.br}", "app.js.gz", "200", VARY],
  ["main", "/app.js",       "If-None-Match: {etag:app.js}",               "app.js",         "304", VARY],
  ["main", "/app.js",       'Accept-Encoding: br\r\nIf-Match: "nope"',    "app.js.br",      "412", VARY],
  ["main", "/app.js",       "Accept-Encoding: br\r\nIf-Match: {etag:app.js}", "app.js.br",  "412", VARY],
  ["main", "/app.js",       "Accept-Encoding: br\r\nIf-Match: {etag:app.js.br}", "app.js.br", "200", VARY],
  ["main", "/stale.js",     "Accept-Encoding: gzip\r\nIf-None-Match: {etag:stale.js}", "stale.js", "304", NO_VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip\r\nRange: bytes=0-9",  "app.js.gz",      "206 0-9", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\nIf-Range: {etag:app.js.gz}", "app.js.gz", "206 0-9", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\nIf-Range: {etag:app.js}",    "app.js.gz", "200", VARY],
  ["main", "/app.js",       "Range: bytes=0-9",                           "app.js",         "206 0-9", VARY],
  ["main", "/app.js",       "Accept-Encoding: gzip\r\nRange: bytes=99999-", "app.js.gz",    "416", VARY],
  ["main", "/app.js",       "Range: bytes=99999-",                        "app.js",         "416", VARY],
  ["off",  "/app.js",       "Accept-Encoding: br, gzip",                  "app.js",         "200", NO_VARY],
  ["off",  "/",             "Accept-Encoding: gzip",                      "index.html",     "200", NO_VARY],
  ["off",  "/app.js",       "Accept-Encoding: gzip\r\nIf-None-Match: {etag:app.js}", "app.js", "304", NO_VARY],
  ["off",  "/app.js",       "Accept-Encoding: gzip\r\nRange: bytes=99999-", "app.js",       "416", NO_VARY],
  ["gzipFirst", "/app.js",  "Accept-Encoding: br, gzip",                  "app.js.gz",      "200", VARY],
  ["gzipFirst", "/app.js",  "Accept-Encoding: br;q=1, gzip;q=0.9",        "app.js.br",      "200", VARY],
  ["gzipFirst", "/app.js",  "Accept-Encoding: zstd",                      "app.js",         "200", VARY],
];

describe("precompressed sidecars: exact answers", () => {
  for (const [server, target, fields, served, want, vary] of rows) {
    const resource = target === "/" ? "index.html" : target.slice(1);
    const methods = fields.includes("Range:") ? ["GET"] : ["GET", "HEAD"];
    for (const method of methods) {
      const shownFields = fields === "" ? "(no Accept-Encoding)" : JSON.stringify(fields);
      const name =
        `${server}: ${method} ${target} ${shownFields} = ${want} from ${served}` +
        (vary ? " with Vary" : " without Vary");
      test(name, async () => {
        const text = request(method, target, fields === "" ? "" : `${fillFields(fields)}\r\n`);
        const got = await exchangeOne(servers[server]().port, text);
        const wanted = expected({ resource, served, want, vary }, method);
        assertResponse(`exchange(${describeRequest(text)})`, got, wanted);
      });
    }
  }
});

describe("precompressed sidecars: what the rows rely on", () => {
  test("the fixtures are what their names say", () => {
    assert.ok(contentOf("app.js.br").length < APP_JS.length, "app.js.br not smaller");
    assert.ok(contentOf("app.js.gz").length < APP_JS.length, "app.js.gz not smaller");
    assert.ok(APP_JS_ZST.length < APP_JS.length, "app.js.zst not smaller");
    assert.ok(contentOf("larger.js.gz").length > contentOf("larger.js").length);
    assert.equal(contentOf("same-size.js.gz").length, contentOf("same-size.js").length);
    assert.ok(statOf("stale.js.gz").mtimeMs < statOf("stale.js").mtimeMs, "stale.js.gz not older");
    assert.ok(zlib.gunzipSync(contentOf("app.js.gz")).equals(APP_JS), "app.js.gz does not decode");
    assert.equal(lastModifiedOf("app.js"), FIXTURE_LAST_MODIFIED);
    assert.equal(lastModifiedOf("sub/lib.js.gz"), "Tue, 02 Jan 2024 04:04:05 GMT");
  });

  test("each representation has its own ETag: app.js.br's differs from app.js's", async () => {
    const text = request("GET", "/app.js", "Accept-Encoding: br\r\n");
    const got = await exchangeOne(main.port, text);
    const etag = got.header("etag");
    assert.equal(etag, etagOf("app.js.br"), `exchange(${describeRequest(text)}) ETag`);
    assert.notEqual(etag, etagOf("app.js"), `exchange(${describeRequest(text)}) ETag`);
  });

  test("HEAD with Range and Accept-Encoding: gzip = the 200 head of the gzip sidecar", async () => {
    const text = request("HEAD", "/app.js", "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n");
    const got = await exchangeOne(main.port, text);
    const want = expected(
      { resource: "app.js", served: "app.js.gz", want: "200", vary: VARY },
      "HEAD",
    );
    assertResponse(`exchange(${describeRequest(text)})`, got, want);
  });
});

// RFC 9110 §8.4: Content-Encoding names the codings to undo to get the Content-Type; beside
// multipart/byteranges it would claim the multipart itself is gzip (curl --compressed then fails
// with "Error while processing content unencoding"). berth sends a coded representation whole or
// as one range: several ranges of a sidecar get the whole sidecar, 200 (RFC 9110 §14.2 lets a
// server ignore Range). Regression test for the multipart + Content-Encoding bug.
describe("several ranges of a precompressed representation", () => {
  test("GET /app.js Accept-Encoding: gzip, Range: bytes=0-1,5-6 never pairs multipart with Content-Encoding", async () => {
    const text = request("GET", "/app.js", "Accept-Encoding: gzip\r\nRange: bytes=0-1,5-6\r\n");
    const got = await exchangeOne(main.port, text);
    const contentType = got.header("content-type") ?? "";
    const coding = got.header("content-encoding");
    assert.ok(
      !(contentType.startsWith("multipart/byteranges") && coding !== undefined),
      `exchange(${describeRequest(text)}) head = ${JSON.stringify(got.head)}`,
    );
    assert.equal(got.status, 200, `several ranges of a sidecar: status ${got.status}, want 200`);
    assert.equal(coding, "gzip", "the whole gzip sidecar is sent");
  });
});
