/**
 * The demo site served by the CLI and fetched by real clients: curl (its own HTTP/1.1 stack) and
 * undici. Every file under examples/site is fetched and compared byte for byte with the disk.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Agent, request } from "undici";
import {
  type CliProcess,
  defaultLoopbackHosts,
  killAllCliProcesses,
  REPO_ROOT,
  startCli,
} from "../helpers/cli-process.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";

after(killAllCliProcesses);

const SITE_DIR = join(REPO_ROOT, "examples", "site");
const CURL_TIMEOUT_MS = 5000;
/** curl -v's note for a reused connection: "Re-using existing connection #0 with host ..."
 * (7.x), "Re-using existing http: connection with host ..." (newer 8.x). */
const REUSED_CONNECTION = /Re-using existing (?:\w+: )?connection/gi;

/** Content-Type by extension (mime-db, charset=utf-8 on text types). Every file in the demo
 * site must have a row: a new kind of file needs a decision here. */
// biome-ignore format: a table reads best with one row per line
const CONTENT_TYPE_BY_EXTENSION: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  css:  "text/css; charset=utf-8",
  js:   "text/javascript; charset=utf-8",
  mjs:  "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  svg:  "image/svg+xml",
  png:  "image/png",
  wasm: "application/wasm",
  jpg:  "image/jpeg",
  webm: "video/webm",
  txt:  "text/plain; charset=utf-8",
  bin:  "application/octet-stream",
};

interface SiteFile {
  /** "docs/index.html", with "/" separators. */
  readonly path: string;
  /** "/docs/index.html", each segment percent-encoded. */
  readonly urlPath: string;
  readonly content: Buffer;
  readonly contentType: string;
}

/** Every regular file under examples/site, recursively. */
async function readSiteFiles(): Promise<SiteFile[]> {
  const files: SiteFile[] = [];
  for (const full of await listFiles(SITE_DIR)) {
    const path = relative(SITE_DIR, full).split(sep).join("/");
    const extension = extname(full).slice(1).toLowerCase();
    const contentType = CONTENT_TYPE_BY_EXTENSION[extension];
    assert.ok(
      contentType !== undefined,
      `examples/site/${path}: no Content-Type expectation for ".${extension}"; add a row`,
    );
    const urlPath = `/${path.split("/").map(encodeURIComponent).join("/")}`;
    files.push({ path, urlPath, content: await readFile(full), contentType });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** Paths of the regular files under `dir`, recursively (Dirent.parentPath needs Node 20.12). */
async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(path)));
    else if (entry.isFile()) found.push(path);
    else assert.fail(`${path}: neither a file nor a directory; the demo site should hold none`);
  }
  return found;
}

interface CurlResult {
  /** Status of the last response curl received. */
  readonly status: number;
  /** Fields of the last response, names lowercased. */
  readonly headers: Map<string, string>;
  readonly body: Buffer;
  /** curl's stderr: -v output when asked for. */
  readonly stderr: string;
}

/** Runs curl with `args` (URLs included), body to stdout, response heads to a file. */
async function curl(args: readonly string[], headersPath: string): Promise<CurlResult> {
  let stdout: Buffer;
  let stderr: Buffer;
  try {
    ({ stdout, stderr } = await promisify(execFile)(
      "curl",
      ["-sS", "-o", "-", "-D", headersPath, ...args],
      { encoding: "buffer", timeout: CURL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
    ));
  } catch (error) {
    const { code, stderr: text } = error as { code?: unknown; stderr?: Buffer };
    throw new Error(`curl ${args.join(" ")} failed (${String(code)}): ${text?.toString()}`);
  }
  const heads = (await readFile(headersPath, "latin1")).split(/\r\n\r\n/).filter(Boolean);
  const last = heads.at(-1) ?? "";
  const [statusLine = "", ...fieldLines] = last.split("\r\n");
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Map<string, string>();
  for (const line of fieldLines) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers, body: stdout, stderr: stderr.toString() };
}

describe("berth serve examples/site, fetched by real clients", () => {
  let cli: CliProcess;
  let base: URL;
  let urls: URL[] = [];
  let temp = "";
  let headersPath = "";
  let agent: Agent;
  let siteFiles: SiteFile[] = [];

  before(async () => {
    siteFiles = await readSiteFiles();
    temp = await makeTempDir("berth-cli-demo-");
    headersPath = join(temp, "headers.txt");
    const hosts = await defaultLoopbackHosts();
    cli = startCli(["serve", "examples/site", "--port", "0"]);
    urls = await cli.waitForUrls(hosts.length);
    base = urls[0] ?? assert.fail("no URL");
    agent = new Agent({ connections: 1 });
  });
  after(async () => {
    cli?.kill();
    await agent?.close();
    await removeTempDir(temp);
  });

  test("the demo site has files of several kinds (including a non-ASCII name)", () => {
    assert.ok(siteFiles.length >= 10, `only ${siteFiles.length} files`);
    assert.ok(siteFiles.some((file) => file.path === "hello wörld.txt"));
  });

  test("curl: every file, byte for byte, with Content-Length and Content-Type", async () => {
    for (const file of siteFiles) {
      const url = new URL(file.urlPath, base).href;
      const got = await curl(["--fail", url], headersPath);
      const call = `curl ${url}`;
      assert.equal(got.status, 200, `${call}: status`);
      assert.ok(got.body.equals(file.content), `${call}: body differs from ${file.path}`);
      assert.equal(got.headers.get("content-length"), String(file.content.length), call);
      assert.equal(got.headers.get("content-type"), file.contentType, `${call}: Content-Type`);
      assert.equal(got.headers.get("x-content-type-options"), "nosniff", call);
    }
  });

  test("undici request(): every file, byte for byte, with Content-Length and Content-Type", async () => {
    for (const file of siteFiles) {
      const url = new URL(file.urlPath, base).href;
      const { statusCode, headers, body } = await request(url, { dispatcher: agent });
      const content = Buffer.from(await body.arrayBuffer());
      const call = `undici GET ${url}`;
      assert.equal(statusCode, 200, `${call}: status`);
      assert.ok(content.equals(file.content), `${call}: body differs from ${file.path}`);
      assert.equal(headers["content-length"], String(file.content.length), call);
      assert.equal(headers["content-type"], file.contentType, `${call}: Content-Type`);
    }
  });

  test("index.html is served on every printed URL", async () => {
    const index = await readFile(join(SITE_DIR, "index.html"));
    for (const url of urls) {
      const got = await curl(["--fail", url.href], headersPath);
      assert.equal(got.status, 200, `curl ${url.href}`);
      assert.ok(got.body.equals(index), `curl ${url.href}: body differs from index.html`);
    }
  });

  // biome-ignore format: a table reads best with one row per line
  const directoryCases: { target: string; status: number; location?: string; file?: string }[] = [
    { target: "/", status: 200, file: "index.html" },
    { target: "/docs/", status: 200, file: "docs/index.html" },
    { target: "/docs", status: 301, location: "/docs/" },
    { target: "/docs?x=1", status: 301, location: "/docs/?x=1" },
    { target: "/downloads/", status: 404 },
    { target: "/downloads", status: 301, location: "/downloads/" },
  ];
  for (const { target, status, location, file } of directoryCases) {
    test(`GET ${target} → ${status}${location === undefined ? "" : ` to ${location}`}`, async () => {
      const url = new URL(target, base).href;
      const got = await curl([url], headersPath);
      assert.equal(got.status, status, `curl ${url}: status`);
      if (file !== undefined) {
        const content = await readFile(join(SITE_DIR, file));
        assert.ok(got.body.equals(content), `curl ${url}: body differs from ${file}`);
        assert.equal(got.headers.get("content-type"), "text/html; charset=utf-8");
      }
      if (location !== undefined) {
        const resolved = new URL(got.headers.get("location") ?? "", url).href;
        assert.equal(resolved, new URL(location, base).href, `curl ${url}: Location`);
      }
      const viaUndici = await request(url, { dispatcher: agent });
      await viaUndici.body.arrayBuffer();
      assert.equal(viaUndici.statusCode, status, `undici GET ${url}: status`);
    });
  }

  test("curl --http1.0: 200, same bytes, then the connection closes", async () => {
    const file = await readFile(join(SITE_DIR, "style.css"));
    const url = new URL("/style.css", base).href;
    const got = await curl(["--fail", "--http1.0", "-v", url], headersPath);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(file), "body differs from style.css");
    assert.equal(got.headers.get("content-length"), String(file.length));
    assert.equal(got.headers.get("connection"), "close");
    assert.match(got.stderr, /> GET \/style\.css HTTP\/1\.0\r?\n/);
    assert.match(got.stderr, /Closing connection|shutting down connection/i, got.stderr);
  });

  test("curl with three URLs reuses one keep-alive connection", async () => {
    const names = ["style.css", "app.js", "data/info.json"];
    const contents = await Promise.all(names.map((name) => readFile(join(SITE_DIR, name))));
    const targets = names.map((name) => new URL(`/${name}`, base).href);
    const got = await curl(["--fail", "-v", ...targets], headersPath);
    assert.ok(got.body.equals(Buffer.concat(contents)), "bodies differ from the files");
    const reuses = got.stderr.match(REUSED_CONNECTION) ?? [];
    const connects = got.stderr.match(/^\* +(?:Connected to|Established connection to) /gm) ?? [];
    assert.equal(reuses.length, 2, `want 2 reuses in curl -v output:\n${got.stderr}`);
    assert.equal(connects.length, 1, `want 1 connect in curl -v output:\n${got.stderr}`);
  });

  test("curl --http1.0 with Connection: keep-alive reuses the connection too", async () => {
    const targets = ["/style.css", "/app.js"].map((path) => new URL(path, base).href);
    const got = await curl(
      ["--fail", "--http1.0", "-H", "Connection: keep-alive", "-v", ...targets],
      headersPath,
    );
    assert.equal(got.headers.get("connection"), "keep-alive");
    const reuses = got.stderr.match(REUSED_CONNECTION) ?? [];
    assert.equal(reuses.length, 1, `want 1 reuse in curl -v output:\n${got.stderr}`);
  });
});
