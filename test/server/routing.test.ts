/**
 * Site conveniences in the static handler (README "Single-page apps, clean URLs and 404.html"):
 * the --spa fallback, --clean-urls, the site's own 404.html, and directories without an index,
 * over real sockets, each asked twice so the answer from the file cache is checked too.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exchange, type ParsedResponse, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";
import { type RunningServer, startServer, type TestServerOptions } from "../helpers/test-server.js";

const INDEX = "<!doctype html><title>app</title><div id=app></div>\n";
const ABOUT = "<!doctype html><title>about</title>\n";
const NOT_FOUND = "<!doctype html><title>lost</title><p>No such page.</p>\n";

async function request(port: number, target: string, method = "GET"): Promise<ParsedResponse> {
  const { raw } = await exchange(
    port,
    `${method} ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
  );
  const [response] = parseResponses(raw, [method]).responses;
  assert.ok(response !== undefined, `no response to ${method} ${target}`);
  return response;
}

/** Asks twice (disk, then cache) and checks both answers agree; returns the second. */
async function twice(port: number, target: string, method = "GET"): Promise<ParsedResponse> {
  const first = await request(port, target, method);
  const second = await request(port, target, method);
  assert.equal(second.status, first.status, `${method} ${target}: same status twice`);
  assert.deepEqual(second.body, first.body, `${method} ${target}: same body twice`);
  return second;
}

let root = "";
const running: RunningServer[] = [];

before(async () => {
  root = await makeTempDir("berth-routing-");
  await writeTree(root, {
    "index.html": INDEX,
    "app.html": "<!doctype html><title>other app</title>\n",
    "about.html": ABOUT,
    "a b.html": "spaced\n",
    "docs/index.html": "<p>docs</p>\n",
    "docs/guide.html": "<p>guide</p>\n",
    "empty-dir/readme.txt": "a directory without an index\n",
    "assets/app.js": "console.log(1);\n",
    ".well-known/security.txt": "Contact: mailto:x@example.com\n",
    ".env": "SECRET=1\n",
  });
});

after(async () => {
  await Promise.all(running.map((each) => each.server.close()));
  await removeTempDir(root);
});

async function serve(options: Omit<TestServerOptions, "root">): Promise<number> {
  const started = await startServer({ root, ...options });
  running.push(started);
  return started.port;
}

describe("--spa", () => {
  let port = 0;
  before(async () => {
    port = await serve({ spa: true });
  });

  test("a deep link without an extension gets index.html with 200", async () => {
    for (const target of ["/dashboard", "/users/42/edit", "/users/42/", "/empty-dir/"]) {
      const response = await twice(port, target);
      assert.equal(response.status, 200, target);
      assert.equal(response.body.toString(), INDEX, target);
      assert.equal(response.header("content-type"), "text/html; charset=utf-8");
    }
  });

  test("HEAD of a deep link is the GET's head without content", async () => {
    const response = await twice(port, "/dashboard", "HEAD");
    assert.equal(response.status, 200);
    assert.equal(response.header("content-length"), String(Buffer.byteLength(INDEX)));
    assert.equal(response.body.length, 0);
  });

  test("a missing asset (a path with an extension) stays 404", async () => {
    for (const target of ["/assets/missing.js", "/logo.png", "/v1.2"]) {
      assert.equal((await twice(port, target)).status, 404, target);
    }
  });

  test("/.well-known/ is never rewritten", async () => {
    assert.equal((await twice(port, "/.well-known/missing")).status, 404);
    assert.equal((await twice(port, "/.well-known/security.txt")).status, 200);
  });

  test("existing files are served as they are, and policies still apply", async () => {
    assert.equal((await twice(port, "/assets/app.js")).body.toString(), "console.log(1);\n");
    assert.equal((await twice(port, "/about.html")).body.toString(), ABOUT);
    assert.equal((await twice(port, "/.env")).status, 404, "a dotfile is not a deep link");
  });

  test("--spa-file names another fallback", async () => {
    const other = await serve({ spa: true, spaFile: "app.html" });
    const response = await twice(other, "/deep/link");
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), "<!doctype html><title>other app</title>\n");
  });
});

describe("--clean-urls", () => {
  let port = 0;
  before(async () => {
    port = await serve({ cleanUrls: true });
  });

  test("/about serves about.html", async () => {
    const response = await twice(port, "/about");
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), ABOUT);
    assert.equal((await twice(port, "/docs/guide")).body.toString(), "<p>guide</p>\n");
  });

  test("the .html spelling moves to the clean one, query kept, names re-encoded", async () => {
    // biome-ignore format: one row per line
    const cases: [string, string][] = [
      ["/about.html", "/about"],
      ["/about.html?lang=en", "/about?lang=en"],
      ["/docs/guide.html", "/docs/guide"],
      ["/docs/index.html", "/docs/"],
      ["/index.html", "/"],
      ["/a%20b.html", "/a%20b"],
    ];
    for (const [target, location] of cases) {
      const response = await twice(port, target);
      assert.equal(response.status, 301, target);
      assert.equal(response.header("location"), location, target);
    }
  });

  test("the clean form of a name with a space is served", async () => {
    assert.equal((await twice(port, "/a%20b")).body.toString(), "spaced\n");
  });

  test("no clean form for a path with an extension or a slash", async () => {
    assert.equal((await twice(port, "/about.txt")).status, 404);
    assert.equal((await twice(port, "/about/")).status, 404);
  });
});

describe("404.html", () => {
  test("the site's 404.html answers a 404, whose status stays 404", async () => {
    const siteRoot = await makeTempDir("berth-404-");
    await writeTree(siteRoot, { "404.html": NOT_FOUND, "a.txt": "a\n", ".secret": "x" });
    const started = await startServer({ root: siteRoot });
    try {
      for (const target of ["/missing", "/missing.js", "/.secret", "/dir/"]) {
        const response = await twice(started.port, target);
        assert.equal(response.status, 404, target);
        assert.equal(response.body.toString(), NOT_FOUND, target);
        assert.equal(response.header("content-type"), "text/html; charset=utf-8");
        assert.equal(response.header("cache-control"), "no-cache");
      }
      const head = await request(started.port, "/missing", "HEAD");
      assert.equal(head.status, 404);
      assert.equal(head.header("content-length"), String(Buffer.byteLength(NOT_FOUND)));
      assert.equal(head.body.length, 0);
      // A bad request is not a 404: berth's own answer.
      assert.equal((await request(started.port, "/%00")).status, 400);
    } finally {
      await started.server.close();
      await removeTempDir(siteRoot);
    }
  });

  test("without 404.html, berth's own 404 page", async () => {
    const port = await serve({});
    const response = await twice(port, "/missing");
    assert.equal(response.status, 404);
    assert.match(response.body.toString(), /<h1>404 Not Found<\/h1>/);
  });
});

describe("directories without index.html", () => {
  test("are 404 without --listing and listed with it", async () => {
    const plain = await serve({});
    assert.equal((await twice(plain, "/empty-dir/")).status, 404);
    const listing = await serve({ listing: true });
    const response = await twice(listing, "/empty-dir/");
    assert.equal(response.status, 200);
    assert.match(response.body.toString(), /readme\.txt/);
    // With an index, the index is served.
    assert.equal((await twice(listing, "/docs/")).body.toString(), "<p>docs</p>\n");
  });
});
