// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, and
// innerText (the rendered text a reader sees) is what the tests mean to check.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, test } from "node:test";
import type { Browser } from "playwright-core";
import type { Logger } from "../../src/server/connection.js";
import { createStaticServer, type StaticServer } from "../../src/server/static-server.js";
import {
  launchChromium,
  openPage,
  pathOf,
  STEP_TIMEOUT_MS,
  saveScreenshot,
  TEST_TIMEOUT_MS,
} from "../helpers/browser.js";
import { killAllCliProcesses, REPO_ROOT, startCli } from "../helpers/cli-process.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import { makeTestCertificate } from "../helpers/tls-cert.js";

/*
 * The demo site (examples/site) in a real browser: berth runs in this process, Debian's Chromium
 * is driven through playwright-core (no browser download), and the page is checked as a reader
 * would see it: every resource arrives, the scripts ran (fetch, ES modules, streamed WebAssembly),
 * images decode, the stylesheet applies, the video plays and seeks over Range requests, and the
 * links lead where they say. The last test serves the same site over HTTPS from the CLI.
 *
 * Chromium must be installed (.ci/run installs Debian's `chromium`); without it this file fails.
 */

const SITE_ROOT = join(REPO_ROOT, "examples/site");
const VIDEO_PATH = "/media/test-pattern.webm";
const VIDEO_SIZE_BYTES = statSync(join(SITE_ROOT, VIDEO_PATH)).size;
/** scripts/make-demo-video.sh: 8 s at 320x180, the clock burnt into each frame. */
const VIDEO_DURATION_S = 8;

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
  // The video's poster; the video itself is preload="none", fetched once played.
  "/media/test-pattern.jpg",
];

interface AccessEntry {
  readonly method: string;
  readonly target: string;
  readonly status: number;
  /** Body bytes sent, per the common log format; 0 for "-". */
  readonly bytes: number;
  readonly line: string;
}

const accessLog: AccessEntry[] = [];
const errorLog: string[] = [];
const capturingLogger: Logger = {
  access(line) {
    const match = /"(\S+) (\S+) HTTP\/1\.[01]" (\d{3}) (\d+|-)/.exec(line);
    accessLog.push({
      method: match?.[1] ?? "?",
      target: match?.[2] ?? "?",
      status: Number(match?.[3] ?? 0),
      bytes: Number(match?.[4] === "-" ? 0 : (match?.[4] ?? -1)),
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
  browser = await launchChromium();
});

after(async () => {
  killAllCliProcesses();
  try {
    await browser?.close();
  } finally {
    await server?.close();
  }
});

function theBrowser(): Browser {
  assert.ok(browser !== null, "the browser should have been launched in before()");
  return browser;
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

/** HTMLMediaElement.HAVE_CURRENT_DATA: the video has a decoded frame to show. */
const VIDEO_HAS_FRAME = `document.getElementById("demo-video").readyState >= 2`;
/** The width of the video's poster once decoded (the image is not in document.images). */
const POSTER_WIDTH = `(async () => {
  const img = new Image();
  img.src = document.getElementById("demo-video").poster;
  await img.decode();
  return img.naturalWidth;
})()`;

/**
 * Chromium's video controls show a loading spinner for about a second after the page loads,
 * whatever the video does; the screenshots wait it out (nothing is asserted on it).
 */
const VIDEO_CONTROLS_SETTLE_MS = 1_500;

async function waitForVideoControls(loadStartedAtMs: number): Promise<void> {
  const leftMs = loadStartedAtMs + VIDEO_CONTROLS_SETTLE_MS - performance.now();
  if (leftMs > 0) await new Promise((done) => setTimeout(done, leftMs));
}

/** What the scripts leave once they are done: none of their placeholders. */
const SCRIPTS_DONE = `document.getElementById("info-status").textContent !== "Loading with fetch()…" &&
  document.getElementById("wasm-result").textContent !== "Instantiating…" &&
  !document.getElementById("classic-status").textContent.includes("pending") &&
  !document.getElementById("module-status").textContent.includes("pending")`;

test("the demo page loads every resource with 2xx and runs its scripts", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    const logStart = accessLog.length;
    const errorLogStart = errorLog.length;
    const loadedAtMs = performance.now();
    const response = await page.goto(`${origin}/`, { waitUntil: "load" });
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), "berth — a static file server on raw sockets");

    await page.waitForFunction(SCRIPTS_DONE);
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
      record.responses.find((r) => pathOf(r.url) === path)?.headers["content-type"];
    assert.equal(typeOf("/wasm/add.wasm"), "application/wasm");
    assert.equal(typeOf("/logo.svg"), "image/svg+xml");
    assert.equal(typeOf("/media/test-pattern.jpg"), "image/jpeg");
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
    // The video's poster decodes too: its first frame, 320×180.
    assert.equal(await page.evaluate<number>(POSTER_WIDTH), 320);

    // style.css applied: `h1 { font-size: 2.6rem }` (default 2em = 32px),
    // `.card { border-radius: 0.75rem }` (default 0) and the light palette's --bg #f4fbfc.
    const styles = await page.evaluate<{ h1: string; card: string; background: string }>(
      `({ h1: getComputedStyle(document.querySelector("h1")).fontSize,
          card: getComputedStyle(document.querySelector(".card")).borderTopLeftRadius,
          background: getComputedStyle(document.body).backgroundColor })`,
    );
    assert.deepEqual(styles, { h1: "41.6px", card: "12px", background: "rgb(244, 251, 252)" });

    await waitForVideoControls(loadedAtMs);
    await saveScreenshot(page, "demo-site");

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

test("the demo page in dark mode on a phone: dark palette, nothing wider than the screen", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser(), {
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    colorScheme: "dark",
  });
  try {
    const loadedAtMs = performance.now();
    await page.goto(`${origin}/`, { waitUntil: "load" });
    await page.waitForFunction(SCRIPTS_DONE);
    const layout = await page.evaluate<{ background: string; scrollWidth: number; width: number }>(
      `({ background: getComputedStyle(document.body).backgroundColor,
          scrollWidth: document.documentElement.scrollWidth,
          width: window.innerWidth })`,
    );
    // style.css's dark palette: --bg #121c2b.
    assert.equal(layout.background, "rgb(18, 28, 43)");
    assert.equal(layout.width, 375);
    assert.ok(layout.scrollWidth <= 375, `the page scrolls sideways: ${layout.scrollWidth} px`);
    assert.equal(await page.evaluate<number>(POSTER_WIDTH), 320);
    await waitForVideoControls(loadedAtMs);
    await saveScreenshot(page, "demo-site-dark-phone");
    assert.deepEqual(record.consoleErrors, [], "console errors");
    assert.deepEqual(record.pageErrors, [], "uncaught page errors");
  } finally {
    await context.close();
  }
});

interface VideoState {
  readonly currentTime: number;
  readonly duration: number;
  readonly readyState: number;
  readonly paused: boolean;
  readonly videoWidth: number;
  readonly videoHeight: number;
  readonly error: string | null;
}

const VIDEO_STATE = `(() => {
  const v = document.getElementById("demo-video");
  return { currentTime: v.currentTime, duration: v.duration, readyState: v.readyState,
    paused: v.paused, videoWidth: v.videoWidth, videoHeight: v.videoHeight,
    error: v.error === null ? null : v.error.code + " " + v.error.message };
})()`;

/** Seeks the demo video to `toS` and resolves with its state once 'seeked' fires. */
function seekScript(toS: number): string {
  return `new Promise((resolve, reject) => {
    const v = document.getElementById("demo-video");
    v.addEventListener("seeked", () => resolve(${VIDEO_STATE}), { once: true });
    v.addEventListener("error", () => reject(new Error("video error " + v.error.code)), { once: true });
    v.currentTime = ${toS};
  })`;
}

test("the demo video plays and seeks, fetched with Range requests berth answers with 206", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser());
  const rangesAsked: string[] = [];
  page.on("request", (request) => {
    if (pathOf(request.url()) === VIDEO_PATH) rangesAsked.push(request.headers().range ?? "none");
  });
  try {
    // Without the HTTP cache every byte the player reads comes from berth: Chromium would
    // otherwise answer a later range from the bytes its first download left on disk. The
    // throttle makes that download slower than the player: under preload="metadata" Chromium
    // stops reading once it has the metadata (near 96 KiB here), so it must come back with a
    // Range from there for the rest. Unthrottled, the whole file (111 KiB) often arrives first.
    // (The page says preload="none", so nothing is fetched before the test asks.)
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: 48 * 1024,
      uploadThroughput: -1,
    });
    const logStart = accessLog.length;
    await page.goto(`${origin}/`, { waitUntil: "load" });
    const canPlay = await page.evaluate<string>(
      `document.createElement("video").canPlayType('video/webm; codecs="vp9, opus"')`,
    );
    assert.equal(canPlay, "probably", "this Chromium should play VP9 and Opus in WebM");
    assert.deepEqual(rangesAsked, [], 'preload="none" fetches nothing before it is asked to');
    // Raising preload starts the download (calling load() too would start it twice).
    await page.evaluate(`document.getElementById("demo-video").preload = "metadata"`);

    // HTMLMediaElement.NETWORK_IDLE after HAVE_METADATA: the preload is done and suspended.
    await page.waitForFunction(
      `(() => { const v = document.getElementById("demo-video");
                return v.readyState >= 1 && v.networkState === 1; })()`,
    );
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const loaded = await page.evaluate<VideoState>(VIDEO_STATE);
    assert.equal(loaded.error, null);
    assert.ok(
      Math.abs(loaded.duration - VIDEO_DURATION_S) < 0.1,
      `duration ${loaded.duration} s, want about ${VIDEO_DURATION_S} s`,
    );
    assert.deepEqual([loaded.videoWidth, loaded.videoHeight], [320, 180]);

    // Seek near the end: its bytes lie past where the preload stopped.
    const seekToS = 7.5;
    const seeked = await page.evaluate<VideoState>(seekScript(seekToS));
    assert.equal(seeked.error, null);
    assert.ok(
      Math.abs(seeked.currentTime - seekToS) < 0.05,
      `after seeking to ${seekToS} s the video is at ${seeked.currentTime} s`,
    );
    // The frame at the new position is decoded.
    await page.waitForFunction(VIDEO_HAS_FRAME);

    // The frame really decoded: drawn on a canvas it shows the test pattern's colour bars.
    const colours = await page.evaluate<number>(`(() => {
      const v = document.getElementById("demo-video");
      const canvas = document.createElement("canvas");
      canvas.width = v.videoWidth;
      canvas.height = v.videoHeight;
      const g = canvas.getContext("2d");
      g.drawImage(v, 0, 0);
      const { data } = g.getImageData(0, 0, canvas.width, canvas.height);
      const seen = new Set();
      for (let i = 0; i < data.length; i += 4 * 97) {
        seen.add((data[i] >> 5) * 64 + (data[i + 1] >> 5) * 8 + (data[i + 2] >> 5));
      }
      return seen.size;
    })()`);
    assert.ok(colours >= 6, `the decoded frame shows only ${colours} coarse colours`);
    await page.locator("#demo-video").scrollIntoViewIfNeeded();
    await saveScreenshot(page, "demo-site-video-seeked");

    // Back to 2 s and play (muted: autoplay without a user gesture is allowed only then) until
    // the clock moves on by half a second.
    const rewound = await page.evaluate<VideoState>(seekScript(2));
    assert.equal(rewound.error, null);
    await page.evaluate(`(() => {
      const v = document.getElementById("demo-video");
      v.muted = true;
      return v.play();
    })()`);
    await page.waitForFunction(`document.getElementById("demo-video").currentTime > 2.5`);
    const played = await page.evaluate<VideoState>(VIDEO_STATE);
    assert.equal(played.error, null);
    assert.equal(played.paused, false);
    await page.evaluate(`document.getElementById("demo-video").pause()`);

    // What the browser saw: only 206s, each with a Content-Range inside the file, one of them
    // from past the start (the player came back for more), and no failure but aborted downloads.
    const detail = JSON.stringify(record, null, 2);
    const videoResponses = record.responses.filter((r) => pathOf(r.url) === VIDEO_PATH);
    assert.equal(videoResponses[0]?.headers["content-type"], "video/webm");
    assert.ok(videoResponses.length >= 2, `want two or more video responses:\n${detail}`);
    const starts: number[] = [];
    for (const response of videoResponses) {
      assert.equal(response.status, 206, `video answered ${response.status}:\n${detail}`);
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers["content-range"] ?? "");
      assert.ok(range !== null, `Content-Range ${response.headers["content-range"]}`);
      const [first, last, size] = range.slice(1).map(Number) as [number, number, number];
      assert.equal(size, VIDEO_SIZE_BYTES);
      assert.ok(first <= last && last < size, `Content-Range ${response.headers["content-range"]}`);
      assert.equal(response.headers["accept-ranges"], "bytes");
      starts.push(first);
    }
    // Chromium asks for every media byte with a Range, from where it needs them on.
    assert.deepEqual(
      rangesAsked,
      starts.map((first) => `bytes=${first}-`),
      `ranges asked for, against Content-Range starts ${starts.join(", ")}`,
    );
    assert.equal(starts[0], 0, "the first request starts at byte 0");
    assert.ok(
      starts.some((first) => first > 0),
      `no request from past byte 0: ${starts.join(", ")}`,
    );
    for (const failure of record.failed) {
      assert.match(failure, /: net::ERR_ABORTED$/, `failed requests:\n${detail}`);
    }
    assert.deepEqual(record.consoleErrors, [], "console errors");
    assert.deepEqual(record.pageErrors, [], "uncaught page errors");

    // What the server saw: a 206 for each, one of them a tail of the file.
    const entries = await accessEntriesFor(logStart, [VIDEO_PATH]);
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    let videoEntries = entries.filter((e) => e.target === VIDEO_PATH);
    while (videoEntries.length < videoResponses.length && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 20));
      videoEntries = accessLog.slice(logStart).filter((e) => e.target === VIDEO_PATH);
    }
    const lines = videoEntries.map((e) => e.line).join("\n");
    assert.equal(videoEntries.length, videoResponses.length, `access log:\n${lines}`);
    for (const entry of videoEntries) assert.equal(entry.status, 206, `access log:\n${lines}`);
    const tails = starts.filter((first) => first > 0).map((first) => VIDEO_SIZE_BYTES - first);
    assert.ok(
      videoEntries.some((entry) => tails.includes(entry.bytes)),
      `no access-log line sent the ${tails.join(" or ")} bytes of a later range:\n${lines}`,
    );
  } finally {
    await context.close();
  }
});

test("the docs/ link opens the docs index", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    // Settled first: leaving a page mid-load aborts its requests, which is not what this checks.
    await page.goto(`${origin}/`, { waitUntil: "networkidle" });
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
    await saveScreenshot(page, "demo-site-docs");
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
  const { context, page } = await openPage(theBrowser());
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
    await saveScreenshot(page, "demo-site-downloads-404");
  } finally {
    await context.close();
  }
});

test("the hello wörld.txt link opens the file, percent-encoded", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    await page.goto(`${origin}/`, { waitUntil: "networkidle" });
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
    await saveScreenshot(page, "demo-site-hello-world-txt");
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
  const { context, page } = await openPage(theBrowser());
  try {
    const response = await page.goto(`${origin}/docs`);
    assert.ok(response !== null);
    assert.equal(response.status(), 200);
    assert.equal(page.url(), `${origin}/docs/`);
    const redirect = await response.request().redirectedFrom()?.response();
    assert.equal(redirect?.status(), 301);
    assert.equal(redirect?.headers().location, "/docs/");
    assert.equal(await page.locator("h1").innerText(), "docs");
    await saveScreenshot(page, "demo-site-docs-redirected");
  } finally {
    await context.close();
  }
});

test("berth serve --tls-cert --tls-key: the demo site over HTTPS, TLS 1.3, every resource", {
  timeout: TEST_TIMEOUT_MS,
}, async (t) => {
  const dir = await makeTempDir("berth-browser-tls-");
  t.after(() => removeTempDir(dir));
  const tls = await makeTestCertificate(dir);
  const cli = startCli([
    "serve",
    "examples/site",
    "--no-config",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--tls-cert",
    tls.certFile,
    "--tls-key",
    tls.keyFile,
  ]);
  t.after(() => cli.kill());
  const [url] = await cli.waitForUrls(1);
  assert.equal(url?.protocol, "https:", cli.describe());
  const secureOrigin = `https://127.0.0.1:${url?.port}`;

  // The certificate is the test's own, self-signed: the context is told to accept it.
  const { context, page, record } = await openPage(theBrowser(), { ignoreHTTPSErrors: true });
  try {
    const loadedAtMs = performance.now();
    const response = await page.goto(`${secureOrigin}/`, { waitUntil: "load" });
    assert.equal(response?.status(), 200);
    await page.waitForFunction(SCRIPTS_DONE);
    await page.waitForLoadState("networkidle");
    const security = await response?.securityDetails();
    assert.equal(security?.protocol, "TLS 1.3");
    assert.equal(security?.subjectName, "localhost");
    assert.equal(await page.evaluate<boolean>("window.isSecureContext"), true);
    assert.equal(await page.locator("#wasm-result").innerText(), "add(2, 3) = 5");
    assert.equal(await page.locator("#classic-status").innerText(), "classic app.js ran");
    assert.equal(await page.locator("#module-status").innerText(), "module main.mjs ran");
    const answeredPaths = new Set(
      record.responses.filter((r) => r.status >= 200 && r.status < 300).map((r) => pathOf(r.url)),
    );
    for (const path of PAGE_RESOURCES) {
      assert.ok(answeredPaths.has(path), `${path} not loaded over HTTPS:\n${cli.describe()}`);
    }
    for (const { url: resourceUrl } of record.responses) {
      assert.ok(resourceUrl.startsWith(`${secureOrigin}/`), `${resourceUrl} is not over HTTPS`);
    }
    assert.deepEqual(record.failed, []);
    assert.deepEqual(record.consoleErrors, [], "console errors");
    assert.deepEqual(record.pageErrors, [], "uncaught page errors");
    assert.equal(await page.evaluate<number>(POSTER_WIDTH), 320);
    await waitForVideoControls(loadedAtMs);
    await saveScreenshot(page, "demo-site-https");
  } finally {
    await context.close();
  }
  assert.deepEqual(await cli.stop(), { code: 0, signal: null }, cli.describe());
});
