// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, and
// innerText (the rendered text a reader sees) is what the tests mean to check.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  assertCleanPage,
  launchChromium,
  openPage,
  pathOf,
  saveScreenshot,
  TEST_TIMEOUT_MS,
} from "../helpers/browser.js";
import { type CliProcess, killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

/*
 * berth serve's routing flags in Chromium, each on a small site of its own in a temp dir:
 * --spa (a deep link loads the app, whose absolute asset URLs still load; missing assets stay
 * 404), --spa-file, --clean-urls with the site's 404.html, and --cors / --cors-origin as a page
 * on another origin meets them through fetch().
 */

const SPA_TREE = {
  "index.html": `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>SPA shell</title>
  <link rel="icon" href="/assets/dot.svg">
  <link rel="stylesheet" href="/assets/app.css">
  <script type="module" src="/assets/app.js"></script>
</head>
<body>
  <main>
    <img src="/assets/dot.svg" alt="" width="48" height="48">
    <p>This app was asked for</p>
    <h1 id="route">(the script did not run)</h1>
    <p id="query"></p>
    <p><a href="/users/42?tab=posts">Open user 42</a></p>
  </main>
</body>
</html>
`,
  "assets/app.js": `// Renders the address the app was opened at, as a client-side router would.
document.getElementById("route").textContent = location.pathname;
document.getElementById("query").textContent = location.search;
document.documentElement.dataset.app = "ran";
`,
  "assets/app.css": `body { font-family: system-ui, sans-serif; margin: 2rem; background: #fdf6e3; }
#route { color: #c8553d; font-size: 40px; font-family: ui-monospace, monospace; }
`,
  "assets/dot.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">
<circle cx="24" cy="24" r="20" fill="#3d5a80"/></svg>
`,
  "shell.html": `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>other shell</title>
<link rel="icon" href="/assets/dot.svg">
<script type="module" src="/assets/shell.js"></script></head>
<body><h1 id="route"></h1></body></html>
`,
  "assets/shell.js": `document.getElementById("route").textContent = "shell.html at " + location.pathname;
`,
  ".well-known/security.txt": "Contact: mailto:security@example.test\n",
};

const CLEAN_TREE = {
  "index.html": `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clean URLs</title>
<link rel="stylesheet" href="/site.css"><link rel="icon" href="data:,"></head>
<body><h1>Home</h1><ul>
<li><a href="/about">About</a></li>
<li><a href="/docs/guide">Guide</a></li>
<li><a href="/gone">A page that is gone</a></li>
</ul></body></html>
`,
  "about.html": `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>About</title>
<link rel="stylesheet" href="/site.css"><link rel="icon" href="data:,"></head>
<body><h1>About</h1><p>Served from about.html for /about.</p></body></html>
`,
  "docs/guide.html": `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Guide</title>
<link rel="stylesheet" href="/site.css"><link rel="icon" href="data:,"></head>
<body><h1>Guide</h1></body></html>
`,
  "404.html": `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found — clean site</title>
<link rel="stylesheet" href="/site.css"><link rel="icon" href="data:,"></head>
<body class="lost"><h1>Nothing here</h1><p>This is the site's own 404.html.</p>
<p><a href="/">Home</a></p></body></html>
`,
  "site.css": `body { font-family: system-ui, sans-serif; margin: 2rem; }
h1 { color: #3d5a80; font-size: 36px; }
body.lost h1 { color: #c8553d; }
`,
  "data.json": `{"from":"berth","cors":true}\n`,
};

interface Servers {
  spa: string;
  spaFile: string;
  clean: string;
  corsAny: string;
  corsListed: string;
}

let dir = "";
let browser: Browser | null = null;
let servers: Servers | null = null;

async function startServing(args: readonly string[]): Promise<{ cli: CliProcess; url: URL }> {
  const cli = startCli([
    "serve",
    ...args,
    "--no-config",
    "--quiet",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ]);
  const [url] = await cli.waitForUrls(1);
  assert.ok(url !== undefined, cli.describe());
  return { cli, url };
}

before(async () => {
  dir = await makeTempDir("berth-browser-routing-");
  const spaRoot = join(dir, "spa");
  const cleanRoot = join(dir, "clean");
  await writeTree(spaRoot, SPA_TREE);
  await writeTree(cleanRoot, CLEAN_TREE);
  const [spa, spaFile, clean, corsAny] = await Promise.all([
    startServing([spaRoot, "--spa"]),
    startServing([spaRoot, "--spa-file", "shell.html"]),
    startServing([cleanRoot, "--clean-urls"]),
    startServing([cleanRoot, "--cors"]),
  ]);
  // Allows exactly the clean site's origin as the browser spells it: http://127.0.0.1:PORT.
  const corsListed = await startServing([cleanRoot, "--cors-origin", clean.url.origin]);
  servers = {
    spa: spa.url.origin,
    spaFile: spaFile.url.origin,
    clean: clean.url.origin,
    corsAny: corsAny.url.origin,
    corsListed: corsListed.url.origin,
  };
  browser = await launchChromium();
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    killAllCliProcesses();
    await removeTempDir(dir);
  }
});

function theBrowser(): Browser {
  assert.ok(browser !== null, "the browser should have been launched in before()");
  return browser;
}

function theServers(): Servers {
  assert.ok(servers !== null, "the servers should have been started in before()");
  return servers;
}

/** Status and Content-Type of a fetch() made by the page, so through the browser's stack. */
function fetchFromPage(page: Page, path: string): Promise<{ status: number; type: string }> {
  return page.evaluate<{ status: number; type: string }>(
    `fetch(${JSON.stringify(path)}).then((r) => ({ status: r.status,
       type: r.headers.get("content-type") ?? "" }))`,
  );
}

test("--spa: a deep link loads the app, its absolute assets load, and it renders the path", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { spa } = theServers();
  const { context, page, record } = await openPage(theBrowser());
  try {
    const response = await page.goto(`${spa}/some/deep/link`);
    assert.equal(response?.status(), 200);
    assert.equal(response?.headers()["content-type"], "text/html; charset=utf-8");
    assert.equal(await page.title(), "SPA shell");
    await page.waitForFunction(`document.documentElement.dataset.app === "ran"`);
    assert.equal(await page.locator("#route").innerText(), "/some/deep/link");

    const applied = await page.evaluate<{ color: string; fontSize: string; dot: number }>(
      `({ color: getComputedStyle(document.getElementById("route")).color,
          fontSize: getComputedStyle(document.getElementById("route")).fontSize,
          dot: document.images[0].complete ? document.images[0].naturalWidth : 0 })`,
    );
    assert.deepEqual(applied, { color: "rgb(200, 85, 61)", fontSize: "40px", dot: 48 });

    // Each asset once, or twice for dot.svg, the page's icon too.
    const assets = record.responses.filter((r) => pathOf(r.url).startsWith("/assets/"));
    const seen = new Set(
      assets.map((r) => `${pathOf(r.url)} ${r.status} ${r.headers["content-type"]}`),
    );
    assert.deepEqual([...seen].sort(), [
      "/assets/app.css 200 text/css; charset=utf-8",
      "/assets/app.js 200 text/javascript; charset=utf-8",
      "/assets/dot.svg 200 image/svg+xml",
    ]);
    assertCleanPage(record);
    await saveScreenshot(page, "spa-deep-link");

    // A link inside the app is another deep link, query and all; a reload keeps it.
    await page.getByRole("link", { name: "Open user 42" }).click();
    await page.waitForURL(`${spa}/users/42?tab=posts`);
    await page.waitForFunction(`document.getElementById("route").textContent === "/users/42"`);
    assert.equal(await page.locator("#query").innerText(), "?tab=posts");
    // A reload may revalidate the fallback file: 200, or 304 and the cached copy.
    const reloaded = await page.reload();
    assert.ok([200, 304].includes(reloaded?.status() ?? 0), `reload: ${reloaded?.status()}`);
    await page.waitForFunction(`document.getElementById("route").textContent === "/users/42"`);
    assertCleanPage(record);
  } finally {
    await context.close();
  }
});

test("--spa: a missing asset, a path with an extension and /.well-known/ stay 404", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { spa } = theServers();
  const { context, page } = await openPage(theBrowser());
  try {
    await page.goto(`${spa}/`);
    const html = "text/html; charset=utf-8";
    assert.deepEqual(await fetchFromPage(page, "/assets/app.js"), {
      status: 200,
      type: "text/javascript; charset=utf-8",
    });
    assert.deepEqual(await fetchFromPage(page, "/missing.js"), { status: 404, type: html });
    assert.deepEqual(await fetchFromPage(page, "/some/deep/link.png"), { status: 404, type: html });
    assert.deepEqual(await fetchFromPage(page, "/.well-known/missing"), {
      status: 404,
      type: html,
    });
    assert.deepEqual(await fetchFromPage(page, "/.well-known/security.txt"), {
      status: 200,
      type: "text/plain; charset=utf-8",
    });

    // Opened in the browser, the missing script is berth's 404 page, not the app.
    const response = await page.goto(`${spa}/missing.js`);
    assert.equal(response?.status(), 404);
    assert.equal(await page.title(), "404 Not Found");
    assert.equal(await page.locator("#route").count(), 0, "the app is not served for it");
    await saveScreenshot(page, "spa-missing-asset-404");
  } finally {
    await context.close();
  }
});

test("--spa-file shell.html: a deep link gets that file", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { spaFile } = theServers();
  const { context, page, record } = await openPage(theBrowser());
  try {
    const response = await page.goto(`${spaFile}/settings/profile`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), "other shell");
    await page.waitForFunction(`document.getElementById("route").textContent !== ""`);
    assert.equal(await page.locator("#route").innerText(), "shell.html at /settings/profile");
    assertCleanPage(record);
    await saveScreenshot(page, "spa-file-deep-link");
  } finally {
    await context.close();
  }
});

test("--clean-urls: links without .html open the pages; /about.html redirects to /about", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { clean } = theServers();
  const { context, page, record } = await openPage(theBrowser());
  try {
    await page.goto(`${clean}/`);
    await page.getByRole("link", { name: "About" }).click();
    await page.waitForURL(`${clean}/about`);
    assert.equal(await page.title(), "About");
    assert.equal(await page.locator("h1").innerText(), "About");
    assert.equal(
      await page.evaluate<string>(`getComputedStyle(document.querySelector("h1")).color`),
      "rgb(61, 90, 128)",
    );
    await saveScreenshot(page, "clean-urls-about");

    await page.goBack();
    await page.getByRole("link", { name: "Guide" }).click();
    await page.waitForURL(`${clean}/docs/guide`);
    assert.equal(await page.locator("h1").innerText(), "Guide");

    const response = await page.goto(`${clean}/about.html`);
    assert.equal(page.url(), `${clean}/about`);
    assert.equal(response?.status(), 200);
    const redirect = await response?.request().redirectedFrom()?.response();
    assert.equal(redirect?.status(), 301);
    assert.equal(redirect?.headers().location, "/about");
    assertCleanPage(record);
  } finally {
    await context.close();
  }
});

test("the site's 404.html is shown, styled, with status 404", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { clean } = theServers();
  const { context, page, record } = await openPage(theBrowser());
  try {
    await page.goto(`${clean}/`);
    const navigation = page.waitForResponse((r) => r.url() === `${clean}/gone`);
    await page.getByRole("link", { name: "A page that is gone" }).click();
    const response = await navigation;
    await page.waitForURL(`${clean}/gone`);
    await page.waitForLoadState("load");
    assert.equal(response.status(), 404);
    assert.equal(await page.title(), "Not found — clean site");
    assert.equal(await page.locator("h1").innerText(), "Nothing here");
    // Its stylesheet loaded (an absolute URL, so from any depth).
    assert.equal(
      await page.evaluate<string>(`getComputedStyle(document.querySelector("h1")).color`),
      "rgb(200, 85, 61)",
    );
    await saveScreenshot(page, "custom-404");

    const deep = await page.goto(`${clean}/a/b/c/missing`);
    assert.equal(deep?.status(), 404);
    assert.equal(await page.locator("h1").innerText(), "Nothing here");
    assert.equal(
      await page.evaluate<string>(`getComputedStyle(document.querySelector("h1")).color`),
      "rgb(200, 85, 61)",
    );
    // The browser logs each 404 document as a failed resource; nothing else may fail.
    const notFound = (path: string) =>
      `Failed to load resource: the server responded with a status of 404 (Not Found) (${clean}${path})`;
    assert.deepEqual(
      record.consoleErrors.filter(
        (e) => e !== notFound("/gone") && e !== notFound("/a/b/c/missing"),
      ),
      [],
    );
    assert.deepEqual(record.failed, []);
    assert.deepEqual(record.pageErrors, []);
  } finally {
    await context.close();
  }
});

/** What a cross-origin fetch() from the page gave: a status and readable fields, or an error. */
interface CrossOriginResult {
  readonly ok: boolean;
  readonly status?: number;
  readonly body?: string;
  readonly contentRange?: string | null;
  readonly etag?: string | null;
  readonly error?: string;
}

/** Writes `results` on the page as JSON text, so its screenshot shows what the fetches got. */
async function showOnPage(page: Page, results: Record<string, CrossOriginResult>): Promise<void> {
  await page.evaluate(`(() => {
    const pre = document.createElement("pre");
    pre.style.whiteSpace = "pre-wrap";
    pre.textContent = ${JSON.stringify(JSON.stringify(results, null, 2))};
    document.body.append(pre);
  })()`);
}

function fetchCrossOrigin(page: Page, url: string, headers: Record<string, string> = {}) {
  return page.evaluate<CrossOriginResult>(`fetch(${JSON.stringify(url)}, {
      headers: ${JSON.stringify(headers)} })
    .then(async (r) => ({ ok: true, status: r.status, body: await r.text(),
      contentRange: r.headers.get("content-range"), etag: r.headers.get("etag") }))
    .catch((e) => ({ ok: false, error: String(e) }))`);
}

test("--cors and --cors-origin: a page on another origin reads what they allow, and only that", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { clean, corsAny, corsListed, spa } = theServers();
  const { context, page, record } = await openPage(theBrowser());
  try {
    await page.goto(`${clean}/`);
    const data = CLEAN_TREE["data.json"];

    // --cors: a simple request, a preflighted one (a custom field), and a Range whose
    // Content-Range and ETag are exposed to the script.
    const simple = await fetchCrossOrigin(page, `${corsAny}/data.json`);
    assert.deepEqual(
      { ok: simple.ok, status: simple.status, body: simple.body },
      {
        ok: true,
        status: 200,
        body: data,
      },
    );
    const preflighted = await fetchCrossOrigin(page, `${corsAny}/data.json`, { "X-Demo": "1" });
    assert.equal(preflighted.ok, true, JSON.stringify(preflighted));
    assert.equal(preflighted.body, data);
    const ranged = await fetchCrossOrigin(page, `${corsAny}/data.json`, { Range: "bytes=0-6" });
    assert.equal(ranged.status, 206, JSON.stringify(ranged));
    assert.equal(ranged.body, data.slice(0, 7));
    assert.equal(ranged.contentRange, `bytes 0-6/${Buffer.byteLength(data)}`);
    assert.match(ranged.etag ?? "", /^"/);

    // --cors-origin lists this page's origin: allowed, preflight included.
    const listed = await fetchCrossOrigin(page, `${corsListed}/data.json`, { "X-Demo": "1" });
    assert.equal(listed.ok, true, JSON.stringify(listed));
    assert.equal(listed.body, data);
    assertCleanPage(record);
    await showOnPage(page, { simple, preflighted, ranged, listed });
    await saveScreenshot(page, "cors-page");
  } finally {
    await context.close();
  }

  // A page on another origin (the SPA server's) is refused by the listed-origin server, and by
  // the clean site's server, which has no CORS at all; the browser says why.
  const other = await openPage(theBrowser());
  try {
    await other.page.goto(`${spa}/`);
    const failed = { ok: false, error: "TypeError: Failed to fetch" };
    const unlisted = await fetchCrossOrigin(other.page, `${corsListed}/data.json`);
    const withoutCors = await fetchCrossOrigin(other.page, `${clean}/data.json`);
    assert.deepEqual(unlisted, failed);
    assert.deepEqual(withoutCors, failed);
    for (const url of [`${corsListed}/data.json`, `${clean}/data.json`]) {
      assert.ok(
        other.record.consoleErrors.some(
          (e) => e.includes(`'${url}'`) && e.includes("blocked by CORS policy"),
        ),
        `no CORS error for ${url}:\n${other.record.consoleErrors.join("\n")}`,
      );
    }
    await showOnPage(other.page, { unlisted, withoutCors });
    await saveScreenshot(other.page, "cors-refused-origin");
  } finally {
    await other.context.close();
  }
});
