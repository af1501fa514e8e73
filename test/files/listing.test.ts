import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  compareCodePoints,
  compareSortPoints,
  createPageSelector,
  type EntryKind,
  type ListingEntry,
  type ListingOrder,
  type SortField,
  type SortOrder,
  sortPointOf,
} from "../../src/files/listing-page.js";
import {
  DEFAULT_LISTING_LIMIT_ENTRIES,
  formatCursor,
  formatListingQuery,
  type ListingQuery,
  type ListingQueryResult,
  MAX_LISTING_LIMIT_ENTRIES,
  negotiateListingFormat,
  parseCursor,
  parseListingQuery,
} from "../../src/files/listing-query.js";
import {
  escapeHtml,
  formatEntryHref,
  formatHumanSize,
  formatIsoDate,
  type ListingView,
  renderListingHtml,
  renderListingJson,
} from "../../src/files/listing-render.js";
import { resolveRequestPath } from "../../src/files/resolve-path.js";

const SORTS: readonly SortField[] = ["name", "size", "modified"];
const ORDERS: readonly SortOrder[] = ["asc", "desc"];

function file(name: string, sizeBytes = 0, mtimeMs = 0): ListingEntry {
  return { name, kind: "file", sizeBytes, mtimeMs };
}

function directory(name: string, mtimeMs = 0): ListingEntry {
  return { name, kind: "directory", sizeBytes: 0, mtimeMs };
}

function query(overrides: Partial<ListingQuery> = {}): ListingQuery {
  return {
    sort: "name",
    order: "asc",
    limit: DEFAULT_LISTING_LIMIT_ENTRIES,
    after: null,
    format: null,
    ...overrides,
  };
}

// --- names: escaping and encoding -------------------------------------------------------------

/** [name, href of the file, the name as HTML text]. */
// biome-ignore format: one row per line
const ODD_NAMES: ReadonlyArray<readonly [string, string, string]> = [
  ["plain.txt",                   "plain.txt",                                    "plain.txt"],
  ["a b",                         "a%20b",                                        "a b"],
  ["#hash",                       "%23hash",                                      "#hash"],
  ["q?x",                         "q%3Fx",                                        "q?x"],
  ["100%",                        "100%25",                                       "100%"],
  ["%41",                         "%2541",                                        "%41"],
  ['quote"s',                     "quote%22s",                                    "quote&quot;s"],
  ["'single'",                    "'single'",                                     "&#39;single&#39;"],
  ["<script>alert(1)</script>",   "%3Cscript%3Ealert(1)%3C%2Fscript%3E",          "&lt;script&gt;alert(1)&lt;/script&gt;"],
  ["<img src=x onerror=alert(1)>", "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",    "&lt;img src=x onerror=alert(1)&gt;"],
  ["émoji 🚀",                    "%C3%A9moji%20%F0%9F%9A%80",                    "émoji 🚀"],
  ["&amp;",                       "%26amp%3B",                                    "&amp;amp;"],
  ["a&b=c",                       "a%26b%3Dc",                                    "a&amp;b=c"],
  ["back\\slash",                 "back%5Cslash",                                 "back\\slash"],
  ["javascript:alert(1)",         "javascript%3Aalert(1)",                        "javascript:alert(1)"],
  ["a+b",                         "a%2Bb",                                        "a+b"],
  ["~tilde!*",                    "~tilde!*",                                     "~tilde!*"],
  [" lead and trail ",            "%20lead%20and%20trail%20",                     " lead and trail "],
  ["tab\there",                   "tab%09here",                                   "tab\there"],
  ["..hidden..",                  "..hidden..",                                   "..hidden.."],
];

test("formatEntryHref and escapeHtml on odd names", () => {
  for (const [name, href, text] of ODD_NAMES) {
    assert.equal(
      formatEntryHref({ name, kind: "file" }),
      href,
      `formatEntryHref(${JSON.stringify(name)})`,
    );
    assert.equal(
      formatEntryHref({ name, kind: "directory" }),
      `${href}/`,
      `formatEntryHref(dir ${JSON.stringify(name)})`,
    );
    assert.equal(escapeHtml(name), text, `escapeHtml(${JSON.stringify(name)})`);
  }
});

/** What a browser does with an attribute value: undo our five escapes. */
function unescapeAttribute(value: string): string {
  return value
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&");
}

test("every odd name's link leads back to that name through the URL parser and resolveRequestPath", () => {
  const entries = ODD_NAMES.flatMap(([name]) => [file(name), directory(`${name}-dir`)]);
  const html = renderListingHtml({ segments: ["sub dir"], query: query(), entries, next: null });
  const base = "http://127.0.0.1:8080/sub%20dir/";
  for (const entry of entries) {
    const href = formatEntryHref(entry);
    const display = entry.kind === "directory" ? `${entry.name}/` : entry.name;
    const anchor = `<a href="${escapeHtml(href)}">${escapeHtml(display)}</a>`;
    assert.ok(html.includes(anchor), `row for ${JSON.stringify(entry.name)}: ${anchor}`);
    const url = new URL(unescapeAttribute(escapeHtml(href)), base);
    assert.equal(url.origin, "http://127.0.0.1:8080", `origin of ${href}`);
    assert.equal(url.search + url.hash, "", `no query or fragment in ${href}`);
    const resolved = resolveRequestPath(url.pathname, "allow");
    const segments = ["sub dir", entry.name];
    if (entry.name.includes("/")) {
      // No file can be named so (the table tests escaping only); a link can never add a segment.
      assert.deepEqual(resolved, { kind: "not-found", reason: "ENCODED_SLASH" });
    } else if (entry.name.includes("\\")) {
      // resolveRequestPath refuses a backslash (read-directory.ts leaves such names out).
      assert.deepEqual(resolved, { kind: "not-found", reason: "BACKSLASH" });
    } else {
      assert.deepEqual(
        resolved,
        {
          kind: "ok",
          segments,
          directoryForm: entry.kind === "directory",
        },
        `resolveRequestPath(${url.pathname})`,
      );
    }
  }
  // No name's markup survives as markup.
  assert.ok(!html.includes("<script"), "no <script");
  assert.ok(!html.includes("<img"), "no <img");
});

// --- human sizes and dates --------------------------------------------------------------------

// biome-ignore format: one row per line
const SIZES: ReadonlyArray<readonly [number, string]> = [
  [0,                   "0 B"],
  [1,                   "1 B"],
  [1023,                "1023 B"],
  [1024,                "1.0 KiB"],
  [1229,                "1.2 KiB"],
  [1536,                "1.5 KiB"],
  [10188,               "9.9 KiB"],
  [10189,               "10 KiB"],
  [12 * 1024,           "12 KiB"],
  [1023 * 1024,         "1023 KiB"],
  [1048063,             "1023 KiB"],
  [1048064,             "1.0 MiB"],
  [1048575,             "1.0 MiB"],
  [1024 ** 2,           "1.0 MiB"],
  [1.5 * 1024 ** 3,     "1.5 GiB"],
  [5 * 1024 ** 4,       "5.0 TiB"],
  [2 ** 53,             "8.0 PiB"],
  [2 ** 60,             "1.0 EiB"],
  [2 ** 70,             "1024 EiB"],
];

test("formatHumanSize table", () => {
  for (const [bytes, want] of SIZES) {
    assert.equal(formatHumanSize(bytes), want, `formatHumanSize(${bytes})`);
  }
});

// biome-ignore format: one row per line
const DATES: ReadonlyArray<readonly [number, string]> = [
  [0,                   "1970-01-01T00:00:00.000Z"],
  [1712345678901,       "2024-04-05T19:34:38.901Z"],
  [1712345678901.999,   "2024-04-05T19:34:38.901Z"],
  [-1,                  "1969-12-31T23:59:59.999Z"],
  [Number.NaN,          "1970-01-01T00:00:00.000Z"],
  [1e20,                "+275760-09-13T00:00:00.000Z"],
];

test("formatIsoDate table", () => {
  for (const [ms, want] of DATES) {
    assert.equal(formatIsoDate(ms), want, `formatIsoDate(${ms})`);
  }
});

// --- order ------------------------------------------------------------------------------------

// biome-ignore format: one row per line
const CODE_POINT_ROWS: ReadonlyArray<readonly [string, string, -1 | 0 | 1]> = [
  ["a",       "b",        -1],
  ["b",       "a",        1],
  ["a",       "a",        0],
  ["a",       "ab",       -1],
  ["",        "a",        -1],
  ["B",       "a",        -1],
  ["Z",       "_",        -1],
  ["é",       "z",        1],
  ["\uFF5E",  "🚀",       -1],
  ["🚀",      "\uFFFF",   1],
  ["🚀",      "🚁",       -1],
  ["a🚀",     "a\uE000",  1],
];

test("compareCodePoints orders by code point (UTF-8 byte order)", () => {
  for (const [a, b, want] of CODE_POINT_ROWS) {
    assert.equal(
      Math.sign(compareCodePoints(a, b)),
      want,
      `compareCodePoints(${JSON.stringify(a)}, ${JSON.stringify(b)})`,
    );
    const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.equal(
      bytes,
      want,
      `UTF-8 byte order agrees for ${JSON.stringify(a)}, ${JSON.stringify(b)}`,
    );
  }
});

/** Full sort of `entries`: the reference every page walk must reproduce. */
function sortAll(entries: readonly ListingEntry[], order: ListingOrder): ListingEntry[] {
  return [...entries].sort((a, b) =>
    compareSortPoints(sortPointOf(a, order.sort), sortPointOf(b, order.sort), order.order),
  );
}

// biome-ignore format: one row per line
const SORT_ROWS: ReadonlyArray<readonly [SortField, SortOrder, string]> = [
  ["name",     "asc",  "d:B d:a f:A f:b f:c"],
  ["name",     "desc", "d:a d:B f:c f:b f:A"],
  ["size",     "asc",  "d:B d:a f:b f:A f:c"],
  ["size",     "desc", "d:a d:B f:c f:A f:b"],
  ["modified", "asc",  "d:a d:B f:A f:c f:b"],
  ["modified", "desc", "d:B d:a f:b f:c f:A"],
];

test("sort table: directories first in both orders, ties broken by name", () => {
  const entries = [
    file("b", 5, 30),
    file("A", 10, 10),
    directory("a", 1),
    file("c", 10, 20),
    directory("B", 2),
  ];
  for (const [sort, order, want] of SORT_ROWS) {
    const got = sortAll(entries, { sort, order })
      .map((e) => `${e.kind[0]}:${e.name}`)
      .join(" ");
    assert.equal(got, want, `sort=${sort} order=${order}`);
  }
});

// --- query ------------------------------------------------------------------------------------

function describeQuery(result: ListingQueryResult): string {
  if (result.kind === "bad-request") return result.reason;
  const { sort, order, limit, after, format } = result.query;
  const cursor = after === null ? "-" : formatCursor(after, sort);
  return `${sort} ${order} ${limit} ${cursor} ${format ?? "-"}`;
}

// biome-ignore format: one row per line
const QUERY_ROWS: ReadonlyArray<readonly [string, string]> = [
  ["",                                   "name asc 1000 - -"],
  ["?",                                  "name asc 1000 - -"],
  ["?sort=size",                         "size asc 1000 - -"],
  ["?sort=modified&order=desc",          "modified desc 1000 - -"],
  ["?order=desc&sort=name",              "name desc 1000 - -"],
  ["?limit=1",                           "name asc 1 - -"],
  ["?limit=5000",                        "name asc 5000 - -"],
  ["?format=json",                       "name asc 1000 - json"],
  ["?format=html",                       "name asc 1000 - html"],
  ["?after=f%2Fm",                       "name asc 1000 f/m -"],
  ["?after=d/a+b",                       "name asc 1000 d/a b -"],
  ["?after=f%2Fa%2Bb",                   "name asc 1000 f/a+b -"],
  ["?after=f%2F%C3%A9",                  "name asc 1000 f/é -"],
  ["?sort=size&after=f%2F12%2Fx",        "size asc 1000 f/12/x -"],
  ["?sort=modified&after=f/1712345678901.25/x", "modified asc 1000 f/1712345678901.25/x -"],
  ["?sort=modified&after=d/-5/x",        "modified asc 1000 d/-5/x -"],
  ["?v=3&utm_source=x",                  "name asc 1000 - -"],
  ["?flag&sort=size",                    "size asc 1000 - -"],
  ["?x=%zz&%zz=1&sort=size",             "size asc 1000 - -"],
  ["?sort=SIZE",                         "BAD_SORT"],
  ["?sort=",                             "BAD_SORT"],
  ["?sort",                              "BAD_SORT"],
  ["?order=up",                          "BAD_ORDER"],
  ["?limit=0",                           "BAD_LIMIT"],
  ["?limit=5001",                        "BAD_LIMIT"],
  ["?limit=01",                          "BAD_LIMIT"],
  ["?limit=-1",                          "BAD_LIMIT"],
  ["?limit=1e3",                         "BAD_LIMIT"],
  ["?limit=",                            "BAD_LIMIT"],
  ["?limit=9999999",                     "BAD_LIMIT"],
  ["?format=xml",                        "BAD_FORMAT"],
  ["?sort=name&sort=size",               "DUPLICATE_PARAMETER"],
  ["?after=%zz",                         "BAD_QUERY_ENCODING"],
  ["?after=%C3",                         "BAD_QUERY_ENCODING"],
  ["?after=m",                           "BAD_CURSOR"],
  ["?after=x%2Fm",                       "BAD_CURSOR"],
  ["?after=f%2F",                        "BAD_CURSOR"],
  ["?after=f%2Fa%2Fb",                   "BAD_CURSOR"],
  ["?sort=size&after=f%2Fm",             "BAD_CURSOR"],
  ["?sort=size&after=f%2F%2Fm",          "BAD_CURSOR"],
  ["?sort=size&after=f%2F1.50%2Fm",      "BAD_CURSOR"],
  ["?sort=size&after=f%2F0x10%2Fm",      "BAD_CURSOR"],
  ["?sort=size&after=f%2FInfinity%2Fm",  "BAD_CURSOR"],
  ["?sort=size&after=f%2FNaN%2Fm",       "BAD_CURSOR"],
  ["?sort=size&after=f%2F1%2Fm%2Fn",     "BAD_CURSOR"],
];

test("parseListingQuery table", () => {
  for (const [raw, want] of QUERY_ROWS) {
    assert.equal(
      describeQuery(parseListingQuery(raw)),
      want,
      `parseListingQuery(${JSON.stringify(raw)})`,
    );
  }
});

test("formatListingQuery omits defaults and reads back to the same query", () => {
  // biome-ignore format: one row per line
  const rows: ReadonlyArray<readonly [ListingQuery, string]> = [
    [query(),                                                      ""],
    [query({ sort: "size", order: "desc" }),                       "?sort=size&order=desc"],
    [query({ limit: 7, format: "json" }),                          "?limit=7&format=json"],
    [query({ after: { kind: "file", key: 0, name: "a b&c" } }),    "?after=f%2Fa%20b%26c"],
    [query({ sort: "modified", after: { kind: "directory", key: 1.5, name: "é" } }), "?sort=modified&after=d%2F1.5%2F%C3%A9"],
  ];
  for (const [input, want] of rows) {
    const text = formatListingQuery(input);
    assert.equal(text, want, `formatListingQuery(${JSON.stringify(input)})`);
    assert.deepEqual(
      parseListingQuery(text),
      { kind: "ok", query: input },
      `parseListingQuery(${text})`,
    );
  }
});

test("parseCursor reads every cursor formatCursor writes, for the same sort only", () => {
  const points = [
    { kind: "file", key: 0, name: "a" },
    { kind: "directory", key: 0, name: "%2F and spaces" },
    { kind: "file", key: 1712345678901.2346, name: "x" },
    { kind: "file", key: -0.5, name: "y" },
    { kind: "file", key: 2 ** 53 + 2, name: "big" },
  ] as const;
  for (const point of points) {
    for (const sort of SORTS) {
      const expected = sort === "name" ? { ...point, key: 0 } : point;
      assert.deepEqual(
        parseCursor(formatCursor(point, sort), sort),
        expected,
        `${sort} ${point.name}`,
      );
    }
    assert.equal(
      parseCursor(formatCursor(point, "size"), "name"),
      undefined,
      `size cursor read as name: ${point.name}`,
    );
  }
});

// --- negotiation ------------------------------------------------------------------------------

// biome-ignore format: one row per line
const ACCEPT_ROWS: ReadonlyArray<readonly [string | null, "html" | "json"]> = [
  [null,                                                                       "html"],
  ["",                                                                         "html"],
  ["*/*",                                                                      "html"],
  ["application/json",                                                         "json"],
  ["Application/JSON",                                                         "json"],
  ["application/json; charset=utf-8",                                          "json"],
  ["application/*",                                                            "json"],
  ["text/html",                                                                "html"],
  ["text/*",                                                                   "html"],
  ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",          "html"],
  ["text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", "html"],
  ["application/json, text/plain, */*",                                        "json"],
  ["application/json;q=0.9, text/html",                                        "html"],
  ["text/html;q=0.5, application/json",                                        "json"],
  ["text/html;q=0.5, application/json;q=0.5",                                  "html"],
  ["application/json;q=0.5, */*",                                              "html"],
  ["application/json;q=0.5, text/*;q=0.5",                                     "json"],
  ["application/json;q=0",                                                     "html"],
  ["application/json;q=0, */*",                                                "html"],
  ["*/*;q=0.1, application/json;q=0.2",                                        "json"],
  ["application/json, application/json;q=0",                                   "html"],
  ["application/json;q=2",                                                     "html"],
  ["application/json;q=0.5555",                                                "html"],
  ["application/json;q",                                                       "html"],
  ["application/json;;q=1",                                                    "json"],
  ["application/json;Q=1.000",                                                 "json"],
  ["application/json;level=\"1,text/html\"",                                   "json"],
  ["*/json",                                                                   "html"],
  ["json",                                                                     "html"],
  [" , ,application/json , ",                                                  "json"],
];

test("negotiateListingFormat table", () => {
  for (const [accept, want] of ACCEPT_ROWS) {
    assert.equal(
      negotiateListingFormat(accept),
      want,
      `negotiateListingFormat(${JSON.stringify(accept)})`,
    );
  }
});

// --- pagination -------------------------------------------------------------------------------

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` entries with unique names from a mixed alphabet, sizes and mtimes with many ties
 * (so the name tie-break matters) and fractional mtimes (so cursors must keep every digit). */
function createEntries(count: number, seed: number): ListingEntry[] {
  const random = createRandom(seed);
  const alphabet = [
    "a",
    "B",
    "z",
    " ",
    "é",
    "🚀",
    "\uFF5E",
    "%",
    "#",
    "&",
    "1",
    "_",
    ".",
    "\uE000",
  ];
  const names = new Set<string>();
  while (names.size < count) {
    let name = "";
    const length = 1 + Math.floor(random() * 6);
    for (let i = 0; i < length; i++) name += alphabet[Math.floor(random() * alphabet.length)];
    names.add(name);
  }
  return [...names].map((name) => {
    const kind: EntryKind = random() < 0.2 ? "directory" : "file";
    const mtimeMs = 1_700_000_000_000 + Math.floor(random() * 50) * 1000.125;
    return kind === "directory"
      ? directory(name, mtimeMs)
      : file(name, Math.floor(random() * 40), mtimeMs);
  });
}

/** Walks every page, each time through the text of the next link, as a client would. */
function walkPages(
  entries: readonly ListingEntry[],
  order: ListingOrder,
  limit: number,
): ListingEntry[][] {
  const pages: ListingEntry[][] = [];
  let current = query({ ...order, limit });
  for (;;) {
    const selector = createPageSelector<ListingEntry>(current, current.after, current.limit);
    for (const entry of entries) selector.offer(entry);
    const page = selector.finish();
    pages.push([...page.entries]);
    const last = page.entries[page.entries.length - 1];
    if (!page.hasMore || last === undefined) return pages;
    assert.ok(pages.length <= entries.length, "the walk must end");
    const link = formatListingQuery({ ...current, after: sortPointOf(last, order.sort) });
    const parsed = parseListingQuery(link);
    assert.equal(parsed.kind, "ok", `next link ${link} parses`);
    if (parsed.kind === "ok") current = parsed.query;
  }
}

test("walking the pages visits every entry once, in order, for every sort, order and limit", () => {
  const sets: ReadonlyArray<readonly [ListingEntry[], readonly number[]]> = [
    [createEntries(2500, 1), [7, 250, MAX_LISTING_LIMIT_ENTRIES]],
    [createEntries(150, 2), [1, 2, 149, 150, 151]],
    [[], [1]],
  ];
  for (const [entries, limits] of sets) {
    for (const sort of SORTS) {
      for (const order of ORDERS) {
        const want = sortAll(entries, { sort, order }).map((e) => e.name);
        for (const limit of limits) {
          const label = `${entries.length} entries, sort=${sort} order=${order} limit=${limit}`;
          const pages = walkPages(entries, { sort, order }, limit);
          assert.equal(
            pages.length,
            Math.max(1, Math.ceil(entries.length / limit)),
            `${label}: page count`,
          );
          for (const page of pages.slice(0, -1))
            assert.equal(page.length, limit, `${label}: full pages`);
          const got = pages.flat().map((e) => e.name);
          // Same sequence: complete, no duplicates, no gaps, in order.
          assert.deepEqual(got, want, label);
        }
      }
    }
  }
});

test("a cursor naming a removed entry still resumes right after its place", () => {
  const entries = [file("a"), file("b"), file("c"), file("d")];
  const after = sortPointOf(file("b"), "name");
  const selector = createPageSelector<ListingEntry>({ sort: "name", order: "asc" }, after, 10);
  for (const entry of entries.filter((e) => e.name !== "b")) selector.offer(entry);
  assert.deepEqual(
    selector.finish().entries.map((e) => e.name),
    ["c", "d"],
  );
});

test("createPageSelector refuses a limit that is not a positive integer", () => {
  for (const limit of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => createPageSelector({ sort: "name", order: "asc" }, null, limit),
      RangeError,
      `limit ${limit}`,
    );
  }
});

// --- rendering --------------------------------------------------------------------------------

const SAMPLE_ENTRIES: readonly ListingEntry[] = [
  directory("docs", 1712345678901),
  file("a b.txt", 1229, 1712345678901.5),
  file("<b>bold", 0, 0),
];

test("renderListingHtml: a valid, script-free document", () => {
  const view: ListingView = {
    segments: ["x", "é & <y>"],
    query: query(),
    entries: SAMPLE_ENTRIES,
    next: null,
  };
  const html = renderListingHtml(view);
  assert.ok(
    html.startsWith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'),
    "doctype, lang, charset first",
  );
  assert.ok(
    html.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'),
    "viewport",
  );
  assert.ok(html.includes("<title>Index of /x/é &amp; &lt;y&gt;/</title>"), "escaped title");
  assert.ok(html.includes("<h1>Index of /x/é &amp; &lt;y&gt;/</h1>"), "escaped heading");
  assert.ok(html.includes("prefers-color-scheme:dark"), "dark scheme");
  assert.ok(
    !/<script|\son[a-z]+=|javascript:|<link|src=|url\(/i.test(html),
    "no script, handler, external asset",
  );
  assert.ok(html.includes('<tr><td><a href="../">../</a></td>'), "parent link below the root");
  assert.ok(html.includes('<a href="docs/">docs/</a>'), "directory link with slash");
  assert.ok(
    html.includes(
      '<a href="a%20b.txt">a b.txt</a></td><td class="n"><data value="1229">1.2 KiB</data></td>',
    ),
    "size",
  );
  assert.ok(
    html.includes(
      '<time datetime="2024-04-05T19:34:38.901Z">2024-04-05<span>T19:34:38Z</span></time>',
    ),
    "date",
  );
  assert.ok(html.includes('<a href="%3Cb%3Ebold">&lt;b&gt;bold</a>'), "markup-like name");
  assert.ok(!html.includes("Next page"), "no next link on the last page");
  assert.ok(!html.includes("First page"), "no first-page link on the first page");
  assert.equal(
    html.match(/<tr>/g)?.length,
    1 + 1 + SAMPLE_ENTRIES.length,
    "header + parent + one row each",
  );
  // Every tag we open is closed.
  for (const tag of [
    "html",
    "head",
    "title",
    "style",
    "body",
    "main",
    "h1",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
    "time",
    "data",
  ]) {
    const opened = html.match(new RegExp(`<${tag}[ >]`, "g"))?.length ?? 0;
    const closed = html.match(new RegExp(`</${tag}>`, "g"))?.length ?? 0;
    assert.equal(opened, closed, `<${tag}> opened ${opened}, closed ${closed}`);
  }
});

test("renderListingHtml: no parent link at the root; an empty directory says so", () => {
  const html = renderListingHtml({ segments: [], query: query(), entries: [], next: null });
  assert.ok(html.includes("<title>Index of /</title>"));
  assert.ok(!html.includes('href="../"'), "no parent link at the root");
  assert.ok(html.includes("<p>This directory is empty.</p>"));
});

// biome-ignore format: one row per line
const HEADER_ROWS: ReadonlyArray<readonly [Partial<ListingQuery>, string, string, string, string]> = [
  // query                               current               name link        size link                          modified link
  [{},                                   'aria-sort="ascending"><a href="?order=desc">Name ↑', "?order=desc", "?sort=size&amp;order=desc", "?sort=modified&amp;order=desc"],
  [{ order: "desc" },                    'aria-sort="descending"><a href="./">Name ↓',          "./",          "?sort=size&amp;order=desc", "?sort=modified&amp;order=desc"],
  [{ sort: "size", order: "desc" },      'aria-sort="descending"><a href="?sort=size">Size ↓',  "./",          "?sort=size",                "?sort=modified&amp;order=desc"],
  [{ sort: "modified", limit: 10 },      'aria-sort="ascending"><a href="?sort=modified&amp;order=desc&amp;limit=10">Modified ↑', "?limit=10", "?sort=size&amp;order=desc&amp;limit=10", "?sort=modified&amp;order=desc&amp;limit=10"],
];

test("renderListingHtml: sort links mark the current column and start at the first page", () => {
  for (const [overrides, current, nameHref, sizeHref, modifiedHref] of HEADER_ROWS) {
    const html = renderListingHtml({
      segments: [],
      query: query(overrides),
      entries: [],
      next: null,
    });
    const label = JSON.stringify(overrides);
    assert.ok(html.includes(current), `${label}: current column ${current}`);
    assert.equal(html.match(/aria-sort=/g)?.length, 1, `${label}: one current column`);
    assert.ok(html.includes(`<a href="${nameHref}">Name`), `${label}: name link ${nameHref}`);
    assert.ok(html.includes(`<a href="${sizeHref}">Size`), `${label}: size link ${sizeHref}`);
    assert.ok(
      html.includes(`<a href="${modifiedHref}">Modified`),
      `${label}: modified link ${modifiedHref}`,
    );
    // From a later page, the sort links still start over (no after=).
    const after = { kind: "file", key: 0, name: "m" } as const;
    const later = renderListingHtml({
      segments: [],
      query: query({ ...overrides, after }),
      entries: [],
      next: null,
    });
    assert.ok(later.includes(`<a href="${sizeHref}">Size`), `${label}: from a later page`);
  }
});

test("renderListingHtml: next and first-page links carry the cursor and the query", () => {
  const current = query({
    sort: "size",
    order: "desc",
    limit: 2,
    after: { kind: "file", key: 9, name: "x" },
  });
  const next = { kind: "file", key: 3, name: "a b" } as const;
  const html = renderListingHtml({
    segments: ["d"],
    query: current,
    entries: SAMPLE_ENTRIES,
    next,
  });
  assert.ok(
    html.includes(
      '<a rel="next" href="?sort=size&amp;order=desc&amp;limit=2&amp;after=f%2F3%2Fa%20b">Next page →</a>',
    ),
    html,
  );
  assert.ok(
    html.includes('<a href="?sort=size&amp;order=desc&amp;limit=2">← First page</a>'),
    "first page link",
  );
});

// --- JSON and its schema ----------------------------------------------------------------------

type Schema = { readonly [keyword: string]: unknown };

/** The keywords docs/listing.schema.json may use; checkSchema knows each of them. */
const KNOWN_KEYWORDS = new Set([
  "$schema",
  "title",
  "description",
  "type",
  "required",
  "additionalProperties",
  "properties",
  "enum",
  "items",
  "minimum",
  "maximum",
  "minLength",
  "maxItems",
  "pattern",
]);

function assertKnownKeywords(schema: Schema, where: string): void {
  for (const [keyword, value] of Object.entries(schema)) {
    assert.ok(
      KNOWN_KEYWORDS.has(keyword),
      `${where}: keyword ${keyword} is not checked by this test`,
    );
    if (keyword === "properties") {
      for (const [name, sub] of Object.entries(value as Record<string, Schema>))
        assertKnownKeywords(sub, `${where}.${name}`);
    }
    if (keyword === "items") assertKnownKeywords(value as Schema, `${where}[]`);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  return typeof value;
}

/** The subset of JSON Schema 2020-12 the listing schema uses; returns the first violation. */
function checkSchema(schema: Schema, value: unknown, where = "$"): string | null {
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type);
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === "integer" && types.includes("number")))
      return `${where}: type ${actual}, want ${types.join("|")}`;
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    return `${where}: ${JSON.stringify(value)} not in enum`;
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum)
      return `${where}: below minimum`;
    if (typeof schema.maximum === "number" && value > schema.maximum)
      return `${where}: above maximum`;
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && [...value].length < schema.minLength)
      return `${where}: too short`;
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value))
      return `${where}: ${JSON.stringify(value)} does not match ${schema.pattern}`;
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
      return `${where}: too many items`;
    for (let i = 0; i < value.length; i++) {
      const problem = checkSchema(schema.items as Schema, value[i], `${where}[${i}]`);
      if (problem !== null) return problem;
    }
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[])
      if (!(name in object)) return `${where}: missing ${name}`;
    for (const [name, item] of Object.entries(object)) {
      const sub = properties[name];
      if (sub === undefined) {
        if (schema.additionalProperties === false) return `${where}: unexpected property ${name}`;
        continue;
      }
      const problem = checkSchema(sub, item, `${where}.${name}`);
      if (problem !== null) return problem;
    }
  }
  return null;
}

const SCHEMA = JSON.parse(
  readFileSync(new URL("../../../docs/listing.schema.json", import.meta.url), "utf8"),
) as Schema;

test("the listing JSON schema uses only keywords this test checks", () => {
  assertKnownKeywords(SCHEMA, "$");
});

test("renderListingJson output conforms to docs/listing.schema.json", () => {
  const possibleNames = ODD_NAMES.filter(([name]) => !name.includes("/"));
  const oddEntries = possibleNames.map(([name], i) =>
    i % 2 === 0 ? file(name, i * 1000, 1712345678901 + i) : directory(name, -i),
  );
  const views: ListingView[] = [
    { segments: [], query: query(), entries: [], next: null },
    {
      segments: ["a b", "é"],
      query: query({ format: "json" }),
      entries: SAMPLE_ENTRIES,
      next: null,
    },
    {
      segments: ["x"],
      query: query({
        sort: "modified",
        order: "desc",
        limit: 3,
        after: { kind: "file", key: 1.5, name: "q" },
      }),
      entries: oddEntries,
      next: { kind: "file", key: 0.25, name: "#x" },
    },
  ];
  for (const view of views) {
    const document = JSON.parse(renderListingJson(view)) as unknown;
    assert.equal(checkSchema(SCHEMA, document), null, JSON.stringify(view.query));
  }
  // The checker itself rejects what the schema forbids.
  assert.notEqual(checkSchema(SCHEMA, { path: "/" }), null, "missing fields");
  const good = JSON.parse(renderListingJson(views[1] as ListingView)) as Record<string, unknown>;
  assert.notEqual(checkSchema(SCHEMA, { ...good, extra: 1 }), null, "extra field");
  assert.notEqual(checkSchema(SCHEMA, { ...good, sort: "size " }), null, "bad enum");
  assert.notEqual(
    checkSchema(SCHEMA, {
      ...good,
      entries: [
        {
          name: "a/b",
          kind: "file",
          href: "a",
          sizeBytes: 1,
          modified: "2024-04-05T19:34:38.901Z",
        },
      ],
    }),
    null,
    "slash in name",
  );
});

test("renderListingJson: fields and links", () => {
  const next = { kind: "file", key: 0, name: "a b" } as const;
  const document = JSON.parse(
    renderListingJson({
      segments: ["d"],
      query: query({ limit: 2, format: "json" }),
      entries: SAMPLE_ENTRIES,
      next,
    }),
  );
  assert.deepEqual(document, {
    path: "/d/",
    sort: "name",
    order: "asc",
    limit: 2,
    entries: [
      {
        name: "docs",
        kind: "directory",
        href: "docs/",
        sizeBytes: null,
        modified: "2024-04-05T19:34:38.901Z",
      },
      {
        name: "a b.txt",
        kind: "file",
        href: "a%20b.txt",
        sizeBytes: 1229,
        modified: "2024-04-05T19:34:38.901Z",
      },
      {
        name: "<b>bold",
        kind: "file",
        href: "%3Cb%3Ebold",
        sizeBytes: 0,
        modified: "1970-01-01T00:00:00.000Z",
      },
    ],
    nextCursor: "f/a b",
    next: "?limit=2&after=f%2Fa%20b&format=json",
  });
});
