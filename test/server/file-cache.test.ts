/**
 * The in-memory file cache (README "Caching in memory", src/server/file-cache.ts) over real
 * sockets: a cached answer is byte for byte the answer the disk path gives; a change on disk is
 * served within the validity window; a body is never torn or mislabelled while a file is being
 * rewritten; policies (deleted files, symlinks, sidecars) are re-checked when an entry expires.
 */
import assert from "node:assert/strict";
import { rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { formatStrongEtag } from "../../src/conditional/etag.js";
import { exchange, type ParsedResponse, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";
import { normalizeDates, startServer } from "../helpers/test-server.js";

/** One request on its own connection; its parsed response. */
async function request(
  port: number,
  path: string,
  fields = "",
  method = "GET",
): Promise<ParsedResponse> {
  const head = `${method} ${path} HTTP/1.1\r\nHost: t\r\n${fields}Connection: close\r\n\r\n`;
  const { raw } = await exchange(port, head);
  const [response] = parseResponses(raw, [method]).responses;
  assert.ok(response !== undefined, `no response to ${method} ${path}`);
  return response;
}

describe("cached answers are the disk path's answers", () => {
  let root = "";
  const servers: { close(): Promise<void> }[] = [];
  let cachedPort = 0;
  let diskPort = 0;
  const text = "0123456789abcdefghijklmnopqrstuvwxyz\n".repeat(40);

  before(async () => {
    root = await makeTempDir("berth-cache-same-");
    await writeTree(root, {
      "a.txt": text,
      "page.html": "<!doctype html><title>x</title>\n",
      "dir/index.html": "<p>index</p>\n",
      "big.js": "let x = 1;\n".repeat(400),
      "empty.txt": "",
    });
    writeFileSync(join(root, "big.js.gz"), gzipSync(Buffer.from("let x = 1;\n".repeat(400))));
    const cached = await startServer({ root });
    const disk = await startServer({ root, cache: { maxBytes: 0 } });
    servers.push(cached.server, disk.server);
    cachedPort = cached.port;
    diskPort = disk.port;
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await removeTempDir(root);
  });

  const etag = (path: string) => formatStrongEtag(statSync(join(root, path)));
  const future = "Sun, 01 Jan 2090 00:00:00 GMT";
  // biome-ignore format: one row per line
  const cases: [string, string, string, () => string][] = [
    ["GET", "/a.txt", "plain", () => ""],
    ["HEAD", "/a.txt", "HEAD", () => ""],
    ["GET", "/a.txt", "If-None-Match: own tag", () => `If-None-Match: ${etag("a.txt")}\r\n`],
    ["HEAD", "/a.txt", "HEAD If-None-Match: *", () => "If-None-Match: *\r\n"],
    ["GET", "/a.txt", "If-None-Match: other tag", () => 'If-None-Match: "nope"\r\n'],
    ["GET", "/a.txt", "If-None-Match: own tag, weak", () => `If-None-Match: W/${etag("a.txt")}\r\n`],
    ["GET", "/a.txt", "If-None-Match: own tag + Range", () => `If-None-Match: ${etag("a.txt")}\r\nRange: bytes=0-3\r\n`],
    ["GET", "/a.txt", "If-None-Match: own tag + old If-Modified-Since", () => `If-None-Match: ${etag("a.txt")}\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n`],
    ["GET", "/a.txt", "If-None-Match: own tag + If-Match: other (412)", () => `If-None-Match: ${etag("a.txt")}\r\nIf-Match: "nope"\r\n`],
    ["GET", "/a.txt", "If-None-Match: two lines, own tag second", () => `If-None-Match: "nope"\r\nIf-None-Match: ${etag("a.txt")}\r\n`],
    ["GET", "/a.txt", "If-Modified-Since: future", () => `If-Modified-Since: ${future}\r\n`],
    ["GET", "/a.txt", "If-Match: other tag (412)", () => 'If-Match: "nope"\r\n'],
    ["GET", "/a.txt", "Range: one range", () => "Range: bytes=5-20\r\n"],
    ["GET", "/a.txt", "Range: suffix", () => "Range: bytes=-7\r\n"],
    ["GET", "/a.txt", "Range: unsatisfiable", () => "Range: bytes=99999-\r\n"],
    ["GET", "/a.txt", "If-Range: other tag", () => 'Range: bytes=0-3\r\nIf-Range: "nope"\r\n'],
    ["GET", "/a.txt", "If-Range: own tag", () => `Range: bytes=0-3\r\nIf-Range: ${etag("a.txt")}\r\n`],
    ["GET", "/page.html", "HTML", () => ""],
    ["GET", "/dir/", "directory index", () => ""],
    ["GET", "/empty.txt", "empty file", () => ""],
    ["GET", "/big.js", "sidecar: gzip accepted", () => "Accept-Encoding: gzip, br\r\n"],
    ["GET", "/big.js", "sidecar: gzip refused", () => "Accept-Encoding: identity\r\n"],
    ["GET", "/big.js", "sidecar: no Accept-Encoding", () => ""],
    ["GET", "/big.js", "sidecar: range of the gzip", () => "Accept-Encoding: gzip\r\nRange: bytes=0-9\r\n"],
    ["GET", "/big.js", "sidecar: 304", () => `Accept-Encoding: gzip\r\nIf-None-Match: ${etag("big.js.gz")}\r\n`],
  ];
  for (const [method, path, what, fields] of cases) {
    test(`${method} ${path}: ${what}`, async () => {
      // The first request fills the cache, the second is answered from it.
      await request(cachedPort, path, fields(), method);
      const fromCache = await request(cachedPort, path, fields(), method);
      const fromDisk = await request(diskPort, path, fields(), method);
      assert.equal(normalizeDates(fromCache.raw), normalizeDates(fromDisk.raw));
    });
  }

  test("HTTP/1.0 keep-alive and pipelined HTTP/1.1 get the same bytes from the cache", async () => {
    const pipelined =
      "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
      "GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n" +
      "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n" +
      "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    const methods = ["GET", "GET", "HEAD", "GET"];
    await exchange(cachedPort, pipelined);
    const fromCache = await exchange(cachedPort, pipelined);
    const fromDisk = await exchange(diskPort, pipelined);
    assert.equal(normalizeDates(fromCache.raw), normalizeDates(fromDisk.raw));
    const responses = parseResponses(fromCache.raw, methods).responses;
    assert.deepEqual(
      responses.map((response) => [response.status, response.header("connection") ?? null]),
      [
        [200, "keep-alive"],
        [200, null],
        [200, null],
        [200, "close"],
      ],
    );
  });
});

describe("changes on disk", () => {
  const VALIDITY_MS = 200;
  /** The validity window plus generous slack for a loaded CI machine. */
  const SEEN_WITHIN_MS = VALIDITY_MS + 3000;
  let root = "";
  let outside = "";
  let port = 0;
  let close: () => Promise<void> = async () => {};

  before(async () => {
    root = await makeTempDir("berth-cache-change-");
    outside = await makeTempDir("berth-cache-outside-");
    await writeTree(outside, { "secret.txt": "outside the root\n" });
    await writeTree(root, {
      "v.txt": "version one\n",
      "gone.txt": "here for now\n",
      "target.txt": "inside the root\n",
      "app.js": "const app = 1;\n".repeat(200),
      "large.bin": "L".repeat(4096),
      "torn.txt": "A".repeat(100),
    });
    symlinkSync("target.txt", join(root, "link.txt"));
    const running = await startServer({
      root,
      cache: { validityMs: VALIDITY_MS, maxFileBytes: 2048 },
    });
    port = running.port;
    close = () => running.server.close();
  });

  after(async () => {
    await close();
    await removeTempDir(root);
    await removeTempDir(outside);
  });

  test("a rewritten file is served whole, old or new, and the new one within the window", async () => {
    assert.equal((await request(port, "/v.txt")).body.toString(), "version one\n");
    writeFileSync(join(root, "v.txt"), "version two, longer\n");
    const changedAt = Date.now();
    let body = "";
    while (Date.now() - changedAt < SEEN_WITHIN_MS) {
      const response = await request(port, "/v.txt");
      body = response.body.toString();
      assert.ok(
        body === "version one\n" || body === "version two, longer\n",
        `a whole version, got ${JSON.stringify(body)}`,
      );
      assert.equal(response.header("content-length"), String(response.body.length));
      if (body === "version two, longer\n") break;
      await delay(20);
    }
    assert.equal(body, "version two, longer\n", `new content within ${SEEN_WITHIN_MS} ms`);
  });

  test("a file rewritten again and again is never sent torn or with a wrong length", async () => {
    const path = join(root, "torn.txt");
    const letters = "ABCDEFGH";
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        // writeFileSync truncates then writes: readers can meet any prefix of a version, which
        // is the file as it was at that moment; what must never happen is a mix of two.
        const letter = letters[i % letters.length] as string;
        writeFileSync(path, letter.repeat(50 + ((i * 37) % 900)));
        await delay(1);
      }
    })();
    let whole = 0;
    try {
      for (let i = 0; i < 150; i++) {
        const head = "GET /torn.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        const { raw } = await exchange(port, head);
        // A file that shrank under the disk path ends the connection early (never padded):
        // that is allowed; a complete response must be one version, whole and labelled.
        let parsed: ParsedResponse | undefined;
        try {
          parsed = parseResponses(raw, ["GET"]).responses[0];
        } catch {
          parsed = undefined;
        }
        if (parsed === undefined) continue;
        assert.equal(parsed.status, 200);
        const body = parsed.body.toString("latin1");
        assert.equal(parsed.header("content-length"), String(body.length));
        assert.ok(
          /^(A*|B*|C*|D*|E*|F*|G*|H*)$/.test(body),
          `one version, got ${body.slice(0, 80)}`,
        );
        whole++;
      }
    } finally {
      writing = false;
      await writer;
    }
    assert.ok(whole >= 100, `most responses complete (${whole} of 150)`);
  });

  test("a deleted file is 404 within the window", async () => {
    assert.equal((await request(port, "/gone.txt")).status, 200);
    unlinkSync(join(root, "gone.txt"));
    const start = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - start < SEEN_WITHIN_MS) {
      status = (await request(port, "/gone.txt")).status;
      if (status === 200) await delay(20);
    }
    assert.equal(status, 404);
  });

  test("a symlink retargeted out of the root is 404 within the window", async () => {
    assert.equal((await request(port, "/link.txt")).body.toString(), "inside the root\n");
    rmSync(join(root, "link.txt"));
    symlinkSync(join(outside, "secret.txt"), join(root, "link.txt"));
    const start = Date.now();
    let response = await request(port, "/link.txt");
    while (response.status === 200 && Date.now() - start < SEEN_WITHIN_MS) {
      assert.equal(response.body.toString(), "inside the root\n", "never the outside file");
      await delay(20);
      response = await request(port, "/link.txt");
    }
    assert.equal(response.status, 404);
  });

  test("a sidecar added later is served within the window", async () => {
    const fields = "Accept-Encoding: gzip\r\n";
    const before = await request(port, "/app.js", fields);
    assert.equal(before.header("content-encoding"), undefined);
    assert.equal(before.header("vary"), undefined);
    writeFileSync(join(root, "app.js.gz"), gzipSync(Buffer.from("const app = 1;\n".repeat(200))));
    const start = Date.now();
    let response = before;
    while (response.header("content-encoding") === undefined) {
      assert.ok(Date.now() - start < SEEN_WITHIN_MS, "the sidecar within the window");
      await delay(20);
      response = await request(port, "/app.js", fields);
    }
    assert.equal(response.header("content-encoding"), "gzip");
    assert.equal(response.header("vary"), "Accept-Encoding");
  });

  test("a file larger than --cache-file-bytes is read from disk on every request", async () => {
    assert.equal((await request(port, "/large.bin")).body.toString(), "L".repeat(4096));
    writeFileSync(join(root, "large.bin"), "M".repeat(4096));
    assert.equal((await request(port, "/large.bin")).body.toString(), "M".repeat(4096));
  });
});

test("with the cache off (--cache-bytes 0) a change is served at once", async () => {
  const root = await makeTempDir("berth-cache-off-");
  await writeTree(root, { "v.txt": "one" });
  const running = await startServer({ root, cache: { maxBytes: 0 } });
  try {
    assert.equal((await request(running.port, "/v.txt")).body.toString(), "one");
    writeFileSync(join(root, "v.txt"), "two");
    assert.equal((await request(running.port, "/v.txt")).body.toString(), "two");
  } finally {
    await running.server.close();
    await removeTempDir(root);
  }
});
