// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright locators, and
// innerText (the rendered text a reader sees) is what the tests mean to check.
import assert from "node:assert/strict";
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  assertCleanPage,
  launchChromium,
  openPage,
  saveScreenshot,
  TEST_TIMEOUT_MS,
} from "../helpers/browser.js";
import { type CliProcess, killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

/*
 * `berth serve --listing` in Chromium: a directory of names that break naive listings (space,
 * #, ?, %, quotes, HTML and javascript: look-alikes, non-ASCII, &) renders as text, every link
 * opens the file it names, the column links sort, ../ leads back up, Next page links walk every
 * entry once, and the page holds up in dark mode and on a phone.
 */

/** Each name with characters a listing must both HTML-escape and percent-encode. */
const ODD_NAMES = [
  "a b.txt",
  "#hash.txt",
  "what?.txt",
  "100%.txt",
  // Decoded twice, this would open A.txt.
  "%41.txt",
  "A.txt",
  `"double" 'single'.txt`,
  "<script>alert(1).txt",
  "<img src=x onerror=alert(1)>.txt",
  // Unencoded in an href, this is a javascript: URL.
  "javascript:alert(1).txt",
  "émoji 🚀.txt",
  "a&b.txt",
  "&amp;.txt",
  // A plus is not a space in a path.
  "1+1=2.txt",
] as const;
const SUB_DIR = "sub dir #1";
const SUB_FILE = "inner <b>.txt";

/**
 * Self-describing contents of 100 + 7 × index bytes: sizes grow in ODD_NAMES order, so sorting
 * by size has one right answer.
 */
function contentOf(name: string, index: number): string {
  const head = `This is "${name}".\n`;
  return `${head}${"+".repeat(99 + 7 * index - Buffer.byteLength(head))}\n`;
}

let dir = "";
let browser: Browser | null = null;
let cli: CliProcess | null = null;
let origin = "";

before(async () => {
  dir = await makeTempDir("berth-browser-listing-");
  const root = join(dir, "root");
  const tree: Record<string, string> = {};
  ODD_NAMES.forEach((name, index) => {
    tree[name] = contentOf(name, index);
  });
  tree[`${SUB_DIR}/${SUB_FILE}`] = contentOf(SUB_FILE, 0);
  await writeTree(root, tree);
  // Fixed, distinct times: the page shows the same dates on every run.
  for (const [index, name] of ODD_NAMES.entries()) {
    const time = new Date(Date.UTC(2024, 0, 2, 3, 4, 5) + index * 3_600_000);
    await utimes(join(root, name), time, time);
  }
  const dirTime = new Date(Date.UTC(2024, 0, 1));
  await utimes(join(root, SUB_DIR, SUB_FILE), dirTime, dirTime);
  await utimes(join(root, SUB_DIR), dirTime, dirTime);

  cli = startCli(["serve", root, "--listing", "--no-config", "--host", "127.0.0.1", "--port", "0"]);
  const [url] = await cli.waitForUrls(1);
  assert.ok(url !== undefined, cli.describe());
  origin = url.origin;
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

interface Row {
  readonly text: string;
  /** The link's target, resolved by the browser and percent-decoded. */
  readonly decodedPath: string;
  /** <data value> of the size cell; null for directories and ../. */
  readonly sizeBytes: number | null;
}

/** The listing's rows as the browser sees them. */
function rowsOf(page: Page): Promise<Row[]> {
  return page.evaluate<Row[]>(`[...document.querySelectorAll("tbody tr")].map((tr) => {
    const a = tr.querySelector("td a");
    const data = tr.querySelector("data");
    return { text: a.textContent, decodedPath: decodeURIComponent(new URL(a.href).pathname),
      sizeBytes: data === null ? null : Number(data.value) };
  })`);
}

const NAME_ORDER = [...ODD_NAMES].sort((a, b) =>
  Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")),
);

test("the listing shows every odd name as text, links to it exactly, and runs nothing", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    const response = await page.goto(`${origin}/`);
    assert.equal(response?.status(), 200);
    assert.equal(response?.headers()["content-type"], "text/html; charset=utf-8");
    assert.equal(await page.title(), "Index of /");
    assert.equal(await page.locator("h1").innerText(), "Index of /");

    // Directories first, then files by code point; each name is the link's text, verbatim, and
    // its link leads to exactly that name.
    const rows = await rowsOf(page);
    assert.deepEqual(
      rows.map((row) => row.text),
      [`${SUB_DIR}/`, ...NAME_ORDER],
    );
    for (const row of rows) {
      assert.equal(row.decodedPath, `/${row.text}`, `the link for ${JSON.stringify(row.text)}`);
    }
    // Nothing a name holds became markup: no script, image or extra link on the page.
    const elements = await page.evaluate<{ scripts: number; images: number; links: number }>(
      `({ scripts: document.scripts.length, images: document.images.length,
          links: document.links.length })`,
    );
    // The rows' links plus the three column headings.
    assert.deepEqual(elements, { scripts: 0, images: 0, links: rows.length + 3 });
    assertCleanPage(record);
    await saveScreenshot(page, "listing");
  } finally {
    await context.close();
  }
});

test("clicking each odd name opens that file", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    await page.goto(`${origin}/`);
    for (const [index, name] of ODD_NAMES.entries()) {
      // By position (rows follow NAME_ORDER after the directory), checked by its text.
      const link = page.locator("tbody td > a").nth(NAME_ORDER.indexOf(name) + 1);
      assert.equal(await link.textContent(), name);
      await link.click();
      await page.waitForURL((url) => url.pathname !== "/");
      await page.waitForLoadState("load");
      const url = new URL(page.url());
      assert.equal(decodeURIComponent(url.pathname), `/${name}`, `clicked ${name}`);
      assert.equal(url.search, "", `clicked ${name}: no query`);
      assert.equal(url.hash, "", `clicked ${name}: no fragment`);
      const shown = await page.locator("body").innerText();
      assert.equal(shown.trim(), contentOf(name, index).trim(), `clicked ${name}`);
      if (name === "<img src=x onerror=alert(1)>.txt") {
        await saveScreenshot(page, "listing-opened-odd-name");
      }
      await page.goBack();
      await page.waitForURL(`${origin}/`);
    }
    const fileResponses = record.responses.filter((r) => !new URL(r.url).pathname.endsWith("/"));
    assert.equal(fileResponses.length, ODD_NAMES.length, JSON.stringify(fileResponses, null, 2));
    for (const response of fileResponses) {
      assert.equal(response.status, 200, response.url);
      assert.equal(response.headers["content-type"], "text/plain; charset=utf-8", response.url);
    }
    assertCleanPage(record, { missingFaviconAt: origin });
  } finally {
    await context.close();
  }
});

test("the Size heading sorts by size, and again the other way", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    await page.goto(`${origin}/`);
    const byName = (await rowsOf(page)).map((row) => row.text);

    const sortedBy = async (): Promise<{ rows: Row[]; ariaSort: string | null }> => {
      await page.waitForLoadState("load");
      return {
        rows: await rowsOf(page),
        ariaSort: await page.locator("th.n").getAttribute("aria-sort"),
      };
    };
    const sizesOf = (rows: Row[]): number[] =>
      rows.filter((row) => row.sizeBytes !== null).map((row) => row.sizeBytes ?? 0);

    await page.getByRole("link", { name: "Size" }).click();
    await page.waitForURL((url) => url.searchParams.get("sort") === "size");
    const first = await sortedBy();
    const firstSizes = sizesOf(first.rows);
    assert.equal(first.rows[0]?.text, `${SUB_DIR}/`, "directories stay first");
    assert.equal(firstSizes.length, ODD_NAMES.length);
    assert.ok(
      first.ariaSort === "ascending" || first.ariaSort === "descending",
      `aria-sort=${first.ariaSort}`,
    );
    const ascending = ODD_NAMES.map((_, index) => 100 + 7 * index);
    assert.deepEqual(
      firstSizes,
      first.ariaSort === "ascending" ? ascending : [...ascending].reverse(),
      `sizes under aria-sort=${first.ariaSort}`,
    );
    assert.deepEqual(
      first.rows.map((row) => row.text).slice(1),
      first.ariaSort === "ascending" ? [...ODD_NAMES] : [...ODD_NAMES].reverse(),
    );
    assert.notDeepEqual(
      first.rows.map((row) => row.text),
      byName,
      "sorting by size changed the order",
    );
    await saveScreenshot(page, "listing-sorted-by-size");

    // The current column's link reverses it.
    const firstUrl = page.url();
    await page.getByRole("link", { name: /^Size/ }).click();
    await page.waitForURL((url) => url.href !== firstUrl);
    await page.waitForFunction(
      `document.querySelector("th.n").getAttribute("aria-sort") === ${JSON.stringify(
        first.ariaSort === "ascending" ? "descending" : "ascending",
      )}`,
    );
    const second = await sortedBy();
    assert.deepEqual(sizesOf(second.rows), [...firstSizes].reverse());
    assert.equal(second.rows[0]?.text, `${SUB_DIR}/`, "directories stay first");
    assertCleanPage(record);
  } finally {
    await context.close();
  }
});

test("an odd-named sub-directory opens, and its ../ link leads back", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    await page.goto(`${origin}/`);
    await page.getByRole("link", { name: `${SUB_DIR}/`, exact: true }).click();
    await page.waitForURL(`${origin}/sub%20dir%20%231/`);
    assert.equal(await page.locator("h1").innerText(), `Index of /${SUB_DIR}/`);
    assert.deepEqual(
      (await rowsOf(page)).map((row) => row.text),
      ["../", SUB_FILE],
    );
    await saveScreenshot(page, "listing-sub-directory");

    await page.getByRole("link", { name: SUB_FILE, exact: true }).click();
    await page.waitForURL(`${origin}/sub%20dir%20%231/inner%20%3Cb%3E.txt`);
    assert.equal((await page.locator("body").innerText()).trim(), contentOf(SUB_FILE, 0).trim());
    await page.goBack();
    await page.waitForURL(`${origin}/sub%20dir%20%231/`);

    await page.getByRole("link", { name: "../", exact: true }).click();
    await page.waitForURL(`${origin}/`);
    assert.equal(await page.locator("h1").innerText(), "Index of /");
    assert.equal(await page.getByRole("link", { name: "../", exact: true }).count(), 0);
    assertCleanPage(record, { missingFaviconAt: origin });
  } finally {
    await context.close();
  }
});

test("Next page links walk every entry exactly once", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page, record } = await openPage(theBrowser());
  try {
    const limit = 4;
    await page.goto(`${origin}/?limit=${limit}`);
    const seen: string[] = [];
    let pages = 0;
    for (;;) {
      pages++;
      const rows = (await rowsOf(page)).map((row) => row.text);
      assert.ok(rows.length >= 1 && rows.length <= limit, `page ${pages}: ${rows.join(" | ")}`);
      seen.push(...rows);
      const next = page.locator('a[rel="next"]');
      if ((await next.count()) === 0) break;
      if (pages === 2) await saveScreenshot(page, "listing-page-2");
      assert.equal(await next.innerText(), "Next page →");
      await next.click();
      await page.waitForURL((url) => url.searchParams.has("after"));
      await page.waitForLoadState("load");
      assert.ok(pages < 10, "too many pages");
    }
    assert.deepEqual(seen, [`${SUB_DIR}/`, ...NAME_ORDER]);
    assert.equal(pages, Math.ceil((ODD_NAMES.length + 1) / limit));

    await page.getByRole("link", { name: "← First page", exact: true }).click();
    await page.waitForURL((url) => !url.searchParams.has("after"));
    assert.deepEqual(
      (await rowsOf(page)).map((row) => row.text),
      seen.slice(0, limit),
    );
    assertCleanPage(record);
  } finally {
    await context.close();
  }
});

test("in dark mode the listing uses its dark palette", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { context, page, record } = await openPage(theBrowser(), { colorScheme: "dark" });
  try {
    await page.goto(`${origin}/`);
    const colours = await page.evaluate<{ background: string; text: string }>(
      `({ background: getComputedStyle(document.body).backgroundColor,
          text: getComputedStyle(document.body).color })`,
    );
    // The listing's dark palette: --bg #0d1117, --fg #e6edf3.
    assert.deepEqual(colours, { background: "rgb(13, 17, 23)", text: "rgb(230, 237, 243)" });
    await saveScreenshot(page, "listing-dark");
    assertCleanPage(record);
  } finally {
    await context.close();
  }
});

test("on a phone (375×812) the listing fits the screen's width", {
  timeout: TEST_TIMEOUT_MS,
}, async () => {
  const { context, page, record } = await openPage(theBrowser(), {
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
  });
  try {
    await page.goto(`${origin}/`);
    const layout = await page.evaluate<{ scrollWidth: number; width: number; light: string }>(
      `({ scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth,
          light: getComputedStyle(document.body).backgroundColor })`,
    );
    assert.equal(layout.width, 375, "the viewport meta tag keeps the page at device width");
    assert.ok(layout.scrollWidth <= 375, `the page scrolls sideways: ${layout.scrollWidth} px`);
    assert.equal(layout.light, "rgb(255, 255, 255)", "the light palette's --bg #fff");
    await saveScreenshot(page, "listing-phone");
    assertCleanPage(record);
  } finally {
    await context.close();
  }
});
