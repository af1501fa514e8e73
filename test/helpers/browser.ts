/**
 * Headless Chromium for the browser tests in test/browser/: Debian's `chromium` driven through
 * playwright-core (which downloads no browser), one browser per test file, a fresh context (empty
 * cache, no cookies) per test, everything a page does recorded, and screenshots written to
 * test-artifacts/screenshots/ (ignored by git; CI keeps the folder as an artifact). Test-only.
 */
import assert from "node:assert/strict";
import { accessSync, constants } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from "playwright-core";
import { REPO_ROOT } from "./cli-process.js";

export const CHROMIUM_PATH = "/usr/bin/chromium";
/**
 * Every flag after --disable-gpu is required on these machines: their closed network refuses
 * Chromium's background connections. Playwright gives every launch a
 * fresh temporary profile (its own --user-data-dir) and removes it on close.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where every screenshot goes: outside the tracked files (.gitignore has test-artifacts/). */
export const SCREENSHOT_DIR = join(REPO_ROOT, "test-artifacts", "screenshots");

// Generous: CI runs four test files at once on two cores, and Chromium shares them.
export const STEP_TIMEOUT_MS = 15_000;
export const TEST_TIMEOUT_MS = 45_000;
const LAUNCH_TIMEOUT_MS = 15_000;

/** Launches Chromium, or fails saying how to install it. Close it in an after() hook. */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}, and it is missing or not executable. ` +
        "Install Debian's package: apt-get install chromium (.ci/run does this).",
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
    timeout: LAUNCH_TIMEOUT_MS,
  });
}

export interface RecordedResponse {
  readonly url: string;
  readonly status: number;
  /** Field names in lower case, as Playwright gives them. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What one page saw on the wire, in its console and in dialogs while a test drove it. */
export interface PageRecord {
  readonly requests: string[];
  readonly responses: RecordedResponse[];
  readonly failed: string[];
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  /** alert(), confirm(), prompt(): an injected script would show itself here. */
  readonly dialogs: string[];
}

export interface OpenedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly record: PageRecord;
}

/** A fresh context (so an empty cache) and page, with everything it does recorded. */
export async function openPage(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, ...options });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const record: PageRecord = {
    requests: [],
    responses: [],
    failed: [],
    consoleErrors: [],
    pageErrors: [],
    dialogs: [],
  };
  page.on("request", (request) => record.requests.push(request.url()));
  page.on("response", (response) =>
    record.responses.push({
      url: response.url(),
      status: response.status(),
      headers: response.headers(),
    }),
  );
  page.on("requestfailed", (request) =>
    record.failed.push(`${request.url()}: ${request.failure()?.errorText ?? "failed"}`),
  );
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const { url } = message.location();
    record.consoleErrors.push(url === "" ? message.text() : `${message.text()} (${url})`);
  });
  page.on("pageerror", (error) => record.pageErrors.push(String(error)));
  page.on("dialog", (dialog) => {
    record.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  return { context, page, record };
}

export interface CleanPageOptions {
  /**
   * The origin whose /favicon.ico may be missing: Chromium asks for it on pages without an
   * icon link (a text file, say), and logs the 404 as a console error.
   */
  readonly missingFaviconAt?: string;
}

/** No failed request, console error, uncaught error or dialog; the message shows the record. */
export function assertCleanPage(record: PageRecord, options: CleanPageOptions = {}): void {
  const detail = JSON.stringify(record, null, 2);
  const faviconError =
    options.missingFaviconAt === undefined
      ? null
      : "Failed to load resource: the server responded with a status of 404 (Not Found) " +
        `(${options.missingFaviconAt}/favicon.ico)`;
  assert.deepEqual(record.failed, [], `failed requests:\n${detail}`);
  assert.deepEqual(
    record.consoleErrors.filter((error) => error !== faviconError),
    [],
    `console errors:\n${detail}`,
  );
  assert.deepEqual(record.pageErrors, [], `uncaught page errors:\n${detail}`);
  assert.deepEqual(record.dialogs, [], `dialogs:\n${detail}`);
}

/**
 * Saves a full-page PNG as SCREENSHOT_DIR/NAME.png and returns its path. (Animations run on:
 * stopping them leaves Chromium's video controls showing their loading spinner.)
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  assert.match(name, /^[a-z0-9-]+$/, "screenshot names are lower-case words and dashes");
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The path of an absolute URL. */
export function pathOf(url: string): string {
  return new URL(url).pathname;
}
