/**
 * Conditional requests, ranges and precompressed files as real clients use them, against the CLI
 * (`berth serve DIR --port 0`): curl (its own HTTP/1.1 stack: -r, -z, -C -, --compressed) and
 * undici's request(), which never decodes content codings, so it sees the sidecar's own bytes.
 * Also the serve flags that shape these answers: --no-precompressed, --max-ranges, --immutable
 * and --max-age.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { Agent, request } from "undici";
import { formatStrongEtag } from "../../src/conditional/etag.js";
import { type CliProcess, killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import { FIXTURE_LAST_MODIFIED, FIXTURE_MTIME, writeStampedTree } from "../helpers/test-server.js";

after(killAllCliProcesses);

const CURL_TIMEOUT_MS = 5000;

const DIGITS = Buffer.from("0123456789");
/** Byte i holds i. */
const SAMPLE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const APP_JS = Buffer.from(
  Array.from({ length: 400 }, (_, i) => `export const value${i} = "berth ${i % 7}";\n`).join(""),
);
const APP_JS_GZ = gzipSync(APP_JS);

/** Only a gzip sidecar: whatever else curl's --compressed offers (br, zstd), gzip is what it gets. */
// biome-ignore format: one row per line
const TREE: Readonly<Record<string, Buffer>> = {
  "digits.txt":         DIGITS,
  "sample.bin":         SAMPLE,
  "index.html":         Buffer.from("<p>index</p>\n"),
  "app.js":             APP_JS,
  "app.js.gz":          APP_JS_GZ,
  "assets/app.1234.js": Buffer.from("console.log(1234);\n"),
};

const SECOND_BEFORE = new Date(FIXTURE_MTIME.getTime() - 1000).toUTCString();

interface CurlResult {
  /** curl's %{http_code}: the status of the last response. */
  readonly status: number;
  /** Fields of the last response head, names lowercased. */
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

let temp = "";
let root = "";
let curlFeatures = "";
let curlCalls = 0;

/** Runs `curl -sS -D <file> -w %{http_code} -o <file> ...args`; `output` overrides -o's file. */
async function curl(args: readonly string[], output?: string): Promise<CurlResult> {
  curlCalls++;
  const headersPath = join(temp, `headers-${curlCalls}.txt`);
  const bodyPath = output ?? join(temp, `body-${curlCalls}.bin`);
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      "curl",
      ["-sS", "-D", headersPath, "-w", "%{http_code}", "-o", bodyPath, ...args],
      { timeout: CURL_TIMEOUT_MS },
    ));
  } catch (error) {
    const { code, stderr } = error as { code?: unknown; stderr?: string };
    throw new Error(`curl ${args.join(" ")} failed (${String(code)}): ${stderr}`);
  }
  const heads = (await readFile(headersPath, "latin1")).split("\r\n\r\n").filter(Boolean);
  const headers = new Map<string, string>();
  for (const line of (heads.at(-1) ?? "").split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = await readFile(bodyPath).catch(() => Buffer.alloc(0));
  return { status: Number(stdout), headers, body };
}

const etagOf = (path: string): string => formatStrongEtag(statSync(join(root, path)));

/** RFC 9110 §14.6, the multipart/byteranges body for `parts` of digits.txt. */
function digitsMultipart(boundary: string, parts: readonly (readonly [number, number])[]): Buffer {
  let text = "";
  parts.forEach(([first, last], index) => {
    text +=
      `${index === 0 ? "" : "\r\n"}--${boundary}\r\n` +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Range: bytes ${first}-${last}/10\r\n\r\n` +
      DIGITS.toString("latin1", first, last + 1);
  });
  return Buffer.from(`${text}\r\n--${boundary}--\r\n`, "latin1");
}

function assertBody(call: string, got: Buffer, want: Buffer): void {
  assert.ok(
    got.equals(want),
    `${call}: body = ${showBytes(got, 0, 200)} (${got.length} bytes), ` +
      `want ${showBytes(want, 0, 200)} (${want.length} bytes)`,
  );
}

/** Starts `berth serve ROOT --host 127.0.0.1 --port 0 --quiet ...flags`; resolves with its URL. */
async function serve(flags: readonly string[]): Promise<{ cli: CliProcess; base: URL }> {
  const cli = startCli(["serve", root, "--host", "127.0.0.1", "--port", "0", "--quiet", ...flags]);
  const [base] = await cli.waitForUrls(1);
  return { cli, base: base ?? assert.fail(`no URL: ${cli.describe()}`) };
}

let plain: { cli: CliProcess; base: URL };
/** Every flag under test at once: each shapes a different answer. */
let flagged: { cli: CliProcess; base: URL };
let agent: Agent;

before(async () => {
  temp = await makeTempDir("berth-cli-semantics-");
  root = join(temp, "site");
  await writeStampedTree(root, TREE);
  curlFeatures = (await promisify(execFile)("curl", ["-V"])).stdout;
  [plain, flagged] = await Promise.all([
    serve([]),
    serve([
      "--no-precompressed",
      "--max-ranges",
      "1",
      "--immutable",
      "assets/**",
      "--max-age",
      "0",
    ]),
  ]);
  agent = new Agent({ connections: 1 });
});

after(async () => {
  plain?.cli.kill();
  flagged?.cli.kill();
  try {
    await agent?.close();
  } finally {
    await removeTempDir(temp);
  }
});

const url = (server: { base: URL }, path: string): string => new URL(path, server.base).href;

describe("curl", () => {
  test("curl -r 2-4 /digits.txt = 206 234", async () => {
    const got = await curl(["-r", "2-4", url(plain, "/digits.txt")]);
    assert.equal(got.status, 206, "curl -r 2-4: status");
    assertBody("curl -r 2-4", got.body, Buffer.from("234"));
    assert.equal(got.headers.get("content-range"), "bytes 2-4/10");
  });

  test("curl -r 0-1,5-6 /digits.txt = 206 multipart/byteranges, printed as sent", async () => {
    const got = await curl(["-r", "0-1,5-6", url(plain, "/digits.txt")]);
    assert.equal(got.status, 206, "curl -r 0-1,5-6: status");
    const contentType = got.headers.get("content-type") ?? "";
    const boundary = /^multipart\/byteranges; boundary=([0-9A-Za-z_-]{1,70})$/.exec(
      contentType,
    )?.[1];
    assert.ok(boundary !== undefined, `curl -r 0-1,5-6: Content-Type = ${contentType}`);
    const want = digitsMultipart(boundary, [
      [0, 1],
      [5, 6],
    ]);
    assertBody("curl -r 0-1,5-6", got.body, want);
    assert.equal(got.headers.get("content-length"), String(want.length));
  });

  test(`curl -z "${FIXTURE_LAST_MODIFIED}" (= Last-Modified) = 304`, async () => {
    const got = await curl(["-z", FIXTURE_LAST_MODIFIED, url(plain, "/digits.txt")]);
    assert.equal(got.status, 304, "curl -z <Last-Modified>: status");
    assert.equal(got.body.length, 0, "curl -z <Last-Modified>: body");
    assert.equal(got.headers.get("etag"), etagOf("digits.txt"));
    assert.equal(got.headers.get("last-modified"), FIXTURE_LAST_MODIFIED);
  });

  test(`curl -z "${SECOND_BEFORE}" (a second earlier) = 200 with the file`, async () => {
    const got = await curl(["-z", SECOND_BEFORE, url(plain, "/digits.txt")]);
    assert.equal(got.status, 200, "curl -z <earlier>: status");
    assertBody("curl -z <earlier>", got.body, DIGITS);
  });

  test(`curl -z "-${SECOND_BEFORE}" (If-Unmodified-Since, a second earlier) = 412`, async () => {
    const got = await curl(["-z", `-${SECOND_BEFORE}`, url(plain, "/digits.txt")]);
    assert.equal(got.status, 412, "curl -z -<earlier>: status");
  });

  test("curl --compressed /app.js = the gzip sidecar, decoded by curl to app.js", async (t) => {
    if (!/^Features:.*\blibz\b/m.test(curlFeatures)) {
      t.skip("this curl has no libz: --compressed cannot decode gzip");
      return;
    }
    const got = await curl(["--compressed", url(plain, "/app.js")]);
    assert.equal(got.status, 200, "curl --compressed: status");
    assert.equal(got.headers.get("content-encoding"), "gzip");
    assert.equal(got.headers.get("vary"), "Accept-Encoding");
    assert.equal(got.headers.get("content-length"), String(APP_JS_GZ.length));
    assert.equal(got.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(got.headers.get("etag"), etagOf("app.js.gz"));
    assertBody("curl --compressed", got.body, APP_JS);
  });

  test("curl -C - resumes a half-downloaded sample.bin into the whole file", async () => {
    const local = join(temp, "resumed.bin");
    await writeFile(local, SAMPLE.subarray(0, 128));
    const got = await curl(["-C", "-", url(plain, "/sample.bin")], local);
    assert.equal(got.status, 206, "curl -C -: status");
    assert.equal(got.headers.get("content-range"), "bytes 128-255/256");
    assertBody("curl -C -", await readFile(local), SAMPLE);
  });
});

describe("undici request()", () => {
  test("range: bytes=2-4 = 206 234", async () => {
    const { statusCode, headers, body } = await request(url(plain, "/digits.txt"), {
      dispatcher: agent,
      headers: { range: "bytes=2-4" },
    });
    assert.equal(statusCode, 206);
    assertBody(
      "undici range: bytes=2-4",
      Buffer.from(await body.arrayBuffer()),
      Buffer.from("234"),
    );
    assert.equal(headers["content-range"], "bytes 2-4/10");
    assert.equal(headers["content-length"], "3");
  });

  test("if-none-match: the current ETag = 304, no body", async () => {
    const etag = etagOf("digits.txt");
    const { statusCode, headers, body } = await request(url(plain, "/digits.txt"), {
      dispatcher: agent,
      headers: { "if-none-match": etag },
    });
    assert.equal(statusCode, 304);
    assert.equal((await body.arrayBuffer()).byteLength, 0);
    assert.equal(headers.etag, etag);
    assert.equal(headers["cache-control"], "public, max-age=60");
    assert.equal(headers["content-length"], undefined);
  });

  test("accept-encoding: gzip = the .gz file's bytes (undici does not decode)", async () => {
    const { statusCode, headers, body } = await request(url(plain, "/app.js"), {
      dispatcher: agent,
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(statusCode, 200);
    assertBody("undici accept-encoding: gzip", Buffer.from(await body.arrayBuffer()), APP_JS_GZ);
    assert.equal(headers["content-encoding"], "gzip");
    assert.equal(headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(headers["content-length"], String(APP_JS_GZ.length));
    assert.equal(headers.vary, "Accept-Encoding");
    assert.equal(headers.etag, etagOf("app.js.gz"));
  });
});

describe("serve --no-precompressed --max-ranges 1 --immutable assets/** --max-age 0", () => {
  test("--no-precompressed: accept-encoding: gzip = app.js itself, no Vary", async () => {
    const { statusCode, headers, body } = await request(url(flagged, "/app.js"), {
      dispatcher: agent,
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(statusCode, 200);
    assertBody("undici accept-encoding: gzip", Buffer.from(await body.arrayBuffer()), APP_JS);
    assert.equal(headers["content-encoding"], undefined);
    assert.equal(headers.vary, undefined);
    assert.equal(headers.etag, etagOf("app.js"));
  });

  test("--max-ranges 1: curl -r 0-1,5-6 = 200 with the whole file", async () => {
    const got = await curl(["-r", "0-1,5-6", url(flagged, "/digits.txt")]);
    assert.equal(got.status, 200, "curl -r 0-1,5-6: status");
    assertBody("curl -r 0-1,5-6", got.body, DIGITS);
  });

  test("--max-ranges 1: curl -r 2-4 = 206 234", async () => {
    const got = await curl(["-r", "2-4", url(flagged, "/digits.txt")]);
    assert.equal(got.status, 206, "curl -r 2-4: status");
    assertBody("curl -r 2-4", got.body, Buffer.from("234"));
  });

  // biome-ignore format: one row per line
  const cacheRows: ReadonlyArray<readonly [string, string]> = [
    ["/assets/app.1234.js", "public, max-age=31536000, immutable"],
    ["/digits.txt",         "public, max-age=0"],
    ["/index.html",         "no-cache"],
  ];
  for (const [path, cacheControl] of cacheRows) {
    test(`GET ${path}: Cache-Control: ${cacheControl}`, async () => {
      const got = await curl([url(flagged, path)]);
      assert.equal(got.status, 200, `curl ${path}: status`);
      assert.equal(got.headers.get("cache-control"), cacheControl, `curl ${path}: Cache-Control`);
    });
  }
});
