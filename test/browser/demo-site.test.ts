// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, and
// innerText (the rendered text a reader sees) is what the tests mean to check.
import assert from "node:assert/strict";
import { accessSync, constants, readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { Logger } from "../../src/server/connection.js";
import { createStaticServer, type StaticServer } from "../../src/server/static-server.js";

/*
 * The demo site (examples/site) in a real browser: berth runs in this process, Debian's Chromium
 * is driven through playwright-core (no browser download), and the page is checked as a reader
 * would see it: every resource arrives, the scripts ran (fetch, ES modules, streamed WebAssembly),
 * images decode, the stylesheet applies, and the links lead where they say.
 *
 * Chromium must be installed (.ci/run installs Debian's `chromium`); without it this file fails.
 */

const CHROMIUM_PATH = "/usr/bin/chromium";
/** Required on these machines: their closed network refuses Chromium's background connections. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** This file compiles to dist-test/test/browser/; the repository root is three levels up. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SITE_ROOT = join(REPO_ROOT, "examples/site");
const SCREENSHOT_PATH = join(REPO_ROOT, "dist-test/demo-site.png");

/** Every resource index.html pulls in, directly or through its scripts. */
const PAGE_RESOURCES = [
  "/",
  "/style.css",
  "/app.js",
  "/main.mjs",
  "/lib/format.mjs",
  "/logo.svg",
  "/images/socket.png",
  "/data/info.json",
  "/wasm/add.wasm",
];

// Generous: CI runs four test files at once on two cores, and Chromium shares them.
const STEP_TIMEOUT_MS = 15_000;
const TEST_TIMEOUT_MS = 45_000;

interface AccessEntry {
  readonly method: string;
  readonly target: string;
  readonly status: number;
  readonly line: string;
}

const accessLog: AccessEntry[] = [];
const errorLog: string[] = [];
const capturingLogger: Logger = {
  access(line) {
    const match = /"(\S+) (\S+) HTTP\/1\.[01]" (\d{3}) /.exec(line);
    accessLog.push({
      method: match?.[1] ?? "?",
      target: match?.[2] ?? "?",
      status: Number(match?.[3] ?? 0),
      line,
    });
  },
  error(line) {
    errorLog.push(line);
  },
};

let server: StaticServer | null = null;
let browser: Browser | null = null;
let origin = "";

before(async () => {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}, and it is missing or not executable. ` +
        "Install Debian's package: apt-get install chromium (.ci/run does this).",
    );
  }
  server = createStaticServer({
    root: SITE_ROOT,
    hosts: ["127.0.0.1"],
    port: 0,
    graceMs: 1_000,
    log: capturingLogger,
  });
  const [bound] = await server.listen();
  assert.ok(bound?.kind === "tcp", "berth should be listening on TCP");
  origin = `http://127.0.0.1:${bound.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    timeout: 10_000,
  });
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await server?.close();
  }
});

/** What one page saw on the wire and in its console while a test drove it. */
interface PageRecord {
  readonly requests: string[];
  readonly responses: { url: string; status: number; contentType: string }[];
  readonly failed: string[];
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
}

/** A fresh context (so an empty cache) and page, with everything it does recorded. */
async function openPage(): Promise<{ context: BrowserContext; page: Page; record: PageRecord }> {
  assert.ok(browser !== null, "the browser should have been launched in before()");
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const record: PageRecord = {
    requests: [],
    responses: [],
    failed: [],
    consoleErrors: [],
    pageErrors: [],
  };
  page.on("request", (request) => record.requests.push(request.url()));
  page.on("response", (response) =>
    record.responses.push({
      url: response.url(),
      status: response.status(),
      contentType: response.headers()["content-type"] ?? "",
    }),
  );
  page.on("requestfailed", (request) =>
    record.failed.push(`${request.url()}: ${request.failure()?.errorText ?? "failed"}`),
  );
  page.on("console", (message) => {
    if (message.type() === "error") record.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => record.pageErrors.push(String(error)));
  return { context, page, record };
}

function pathOf(url: string): string {
  return new URL(url).pathname;
}

/** The access-log entries from index `from` on, once every path in `paths` has one (the server
 * logs a response once its last byte is handed to the socket, which can trail the browser). */
async function accessEntriesFor(from: number, paths: readonly string[]): Promise<AccessEntry[]> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const entries = accessLog.slice(from);
    const logged = new Set(entries.map((entry) => entry.target));
    const missing = paths.filter((path) => !logged.has(path));
    if (missing.length === 0) return entries;
    if (Date.now() > deadline) {
      assert.fail(
        `no access-log line for ${missing.join(", ")}; lines:\n${entries.map((e) => e.line).join("\n")}`,
      );
    }
    await new Promise((done) => setTimeout(done, 20));
  }
}

test("the demo page loads every resource with 2xx and runs its scripts", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage();
  try {
    const logStart = accessLog.length;
    const errorLogStart = errorLog.length;
    const response = await page.goto(`${origin}/`, { waitUntil: "load" });
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), "berth — a static file server on raw sockets");

    // The scripts are done when none of their placeholders is left.
    await page.waitForFunction(
      `document.getElementById("info-status").textContent !== "Loading with fetch()…" &&
       document.getElementById("wasm-result").textContent !== "Instantiating…" &&
       !document.getElementById("classic-status").textContent.includes("pending") &&
       !document.getElementById("module-status").textContent.includes("pending")`,
    );
    await page.waitForLoadState("networkidle");

    // Every request the page made was answered, with 2xx, and none failed.
    const detail = JSON.stringify(record, null, 2);
    assert.deepEqual(record.failed, [], `failed requests:\n${detail}`);
    for (const { url, status } of record.responses) {
      assert.ok(status >= 200 && status < 300, `${url} answered ${status}:\n${detail}`);
    }
    const answered = new Set(record.responses.map((r) => r.url));
    for (const url of record.requests) {
      assert.ok(answered.has(url), `no response for ${url}:\n${detail}`);
    }
    const answeredPaths = new Set([...answered].map(pathOf));
    for (const path of PAGE_RESOURCES) {
      assert.ok(answeredPaths.has(path), `the page never loaded ${path}:\n${detail}`);
    }
    const typeOf = (path: string) =>
      record.responses.find((r) => pathOf(r.url) === path)?.contentType;
    assert.equal(typeOf("/wasm/add.wasm"), "application/wasm");
    assert.equal(typeOf("/logo.svg"), "image/svg+xml");
    assert.match(typeOf("/main.mjs") ?? "", /^(text|application)\/javascript\b/);

    assert.deepEqual(record.consoleErrors, [], "console errors");
    assert.deepEqual(record.pageErrors, [], "uncaught page errors");

    // What the scripts wrote on the page.
    const info = JSON.parse(readFileSync(join(SITE_ROOT, "data/info.json"), "utf8")) as {
      description: string;
      name: string;
      version: string;
      features: string[];
    };
    assert.equal(await page.locator("#info-status").innerText(), info.description);
    assert.ok(await page.locator("#info").isVisible(), "the facts list should be shown");
    const facts = await page.locator("#info dt, #info dd").allInnerTexts();
    assert.deepEqual(facts.slice(0, 4), ["Name", info.name, "Version", info.version]);
    assert.deepEqual(await page.locator("#features li").allInnerTexts(), info.features);
    assert.equal(await page.locator("#wasm-result").innerText(), "add(2, 3) = 5");
    assert.equal(
      await page.locator("#wasm-detail").innerText(),
      "WebAssembly module streamed, 41 bytes, application/wasm.",
    );
    assert.equal(await page.locator("#classic-status").innerText(), "classic app.js ran");
    assert.equal(await page.locator("#module-status").innerText(), "module main.mjs ran");

    // Images decoded (a wrong type under nosniff, or truncated bytes, leave naturalWidth at 0).
    const images = await page.evaluate<{ src: string; naturalWidth: number; complete: boolean }[]>(
      `[...document.images].map((img) => ({
         src: img.currentSrc, naturalWidth: img.naturalWidth, complete: img.complete }))`,
    );
    assert.deepEqual(images.map((image) => pathOf(image.src)).sort(), [
      "/images/socket.png",
      "/logo.svg",
    ]);
    for (const image of images) {
      assert.ok(image.complete && image.naturalWidth > 0, `${image.src} did not decode`);
    }

    // style.css applied: `h1 { font-size: 2.6rem }` (default 2em = 32px) and
    // `.card { border-radius: 0.75rem }` (default 0).
    const styles = await page.evaluate<{ h1FontSize: string; cardRadius: string }>(
      `({ h1FontSize: getComputedStyle(document.querySelector("h1")).fontSize,
          cardRadius: getComputedStyle(document.querySelector(".card")).borderTopLeftRadius })`,
    );
    assert.deepEqual(styles, { h1FontSize: "41.6px", cardRadius: "12px" });

    await mkdir(dirname(SCREENSHOT_PATH), { recursive: true });
    await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });

    // The server logged the page's requests, all successful.
    const entries = await accessEntriesFor(logStart, PAGE_RESOURCES);
    for (const entry of entries) {
      assert.ok(entry.status >= 200 && entry.status < 400, `access log: ${entry.line}`);
      assert.equal(entry.method, "GET", `access log: ${entry.line}`);
    }
    assert.deepEqual(errorLog.slice(errorLogStart), [], "server error log");
  } finally {
    await context.close();
  }
});

test("the docs/ link opens the docs index", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page, record } = await openPage();
  try {
    await page.goto(`${origin}/`);
    const navigation = page.waitForResponse((r) => r.url() === `${origin}/docs/`);
    await page.getByRole("link", { name: "docs/", exact: true }).click();
    const response = await navigation;
    await page.waitForURL(`${origin}/docs/`);
    await page.waitForLoadState("load");
    assert.equal(response.status(), 200);
    assert.equal(response.headers()["content-type"], "text/html; charset=utf-8");
    assert.equal(await page.title(), "berth docs — demo site");
    assert.equal(await page.locator("h1").innerText(), "docs");
    // Its relative ../style.css applied too.
    const fontSize = await page.evaluate<string>(
      `getComputedStyle(document.querySelector("h1")).fontSize`,
    );
    assert.equal(fontSize, "41.6px");
    const detail = JSON.stringify(record, null, 2);
    assert.deepEqual(record.failed, [], `failed requests:\n${detail}`);
    for (const { url, status } of record.responses) {
      // A cached file may be revalidated (304); nothing may fail.
      assert.ok(status >= 200 && status < 400, `${url} answered ${status}:\n${detail}`);
    }
    assert.deepEqual(record.consoleErrors, [], "console errors");
    assert.deepEqual(record.pageErrors, [], "uncaught page errors");
  } finally {
    await context.close();
  }
});

test("the downloads/ link gives a 404 page (no listing)", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page } = await openPage();
  try {
    await page.goto(`${origin}/`);
    const navigation = page.waitForResponse((r) => r.url() === `${origin}/downloads/`);
    await page.getByRole("link", { name: "downloads/", exact: true }).click();
    const response = await navigation;
    await page.waitForURL(`${origin}/downloads/`);
    assert.equal(response.status(), 404);
    assert.equal(await page.title(), "404 Not Found");
    assert.equal(await page.locator("h1").innerText(), "404 Not Found");
    assert.equal(await page.locator("a").count(), 0, "a 404 page lists no files");
  } finally {
    await context.close();
  }
});

test("the hello wörld.txt link opens the file, percent-encoded", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage();
  try {
    await page.goto(`${origin}/`);
    const fileUrl = `${origin}/hello%20w%C3%B6rld.txt`;
    const navigation = page.waitForResponse((r) => r.url() === fileUrl);
    await page.getByRole("link", { name: "hello wörld.txt", exact: true }).click();
    const response = await navigation;
    await page.waitForURL(fileUrl);
    assert.equal(response.status(), 200);
    assert.equal(response.headers()["content-type"], "text/plain; charset=utf-8");
    // Shown as text, decoded as UTF-8 ("wörld", not "wÃ¶rld").
    const expected = readFileSync(join(SITE_ROOT, "hello wörld.txt"), "utf8");
    assert.equal((await page.locator("body").innerText()).trim(), expected.trim());
    assert.match(await page.locator("body").innerText(), /^This is "hello wörld\.txt"/);
    assert.deepEqual(record.failed, []);
    assert.ok(
      accessLog.some((e) => e.target === "/hello%20w%C3%B6rld.txt" && e.status === 200),
      "the access log shows the percent-encoded target",
    );
  } finally {
    await context.close();
  }
});

test("/docs without a slash is redirected to /docs/", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page } = await openPage();
  try {
    const response = await page.goto(`${origin}/docs`);
    assert.ok(response !== null);
    assert.equal(response.status(), 200);
    assert.equal(page.url(), `${origin}/docs/`);
    const redirect = await response.request().redirectedFrom()?.response();
    assert.equal(redirect?.status(), 301);
    assert.equal(redirect?.headers().location, "/docs/");
    assert.equal(await page.locator("h1").innerText(), "docs");
  } finally {
    await context.close();
  }
});
