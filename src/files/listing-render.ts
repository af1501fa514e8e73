/**
 * A listing page as HTML or JSON. Pure: values in, text out.
 *
 * Every name is untrusted (anyone who can create a file names it): it is HTML-escaped wherever it
 * is shown, and percent-encoded (then escaped) wherever it is a link. The page has no script at
 * all and no external asset, so it works under `Content-Security-Policy: default-src 'none';
 * style-src 'unsafe-inline'`.
 */

import type { ListingEntry, SortField, SortOrder, SortPoint } from "./listing-page.js";
import { formatCursor, formatListingQuery, type ListingQuery } from "./listing-query.js";

export interface ListingView {
  /** The directory's decoded path segments below the root ([] for the root). */
  readonly segments: readonly string[];
  /** The query this page answers. */
  readonly query: ListingQuery;
  readonly entries: readonly ListingEntry[];
  /** Where the next page starts, or null on the last page. */
  readonly next: SortPoint | null;
}

/** "/" for the root, "/a b/c/" below it: decoded, for people to read (escape before use). */
export function formatDirectoryPath(segments: readonly string[]): string {
  return segments.length === 0 ? "/" : `/${segments.join("/")}/`;
}

/** The JSON document described by docs/listing.schema.json. */
export function renderListingJson(view: ListingView): string {
  const { query } = view;
  return JSON.stringify({
    path: formatDirectoryPath(view.segments),
    sort: query.sort,
    order: query.order,
    limit: query.limit,
    entries: view.entries.map((entry) => ({
      name: entry.name,
      kind: entry.kind,
      href: formatEntryHref(entry),
      sizeBytes: entry.kind === "file" ? entry.sizeBytes : null,
      modified: formatIsoDate(entry.mtimeMs),
    })),
    nextCursor: view.next === null ? null : formatCursor(view.next, query.sort),
    next: view.next === null ? null : formatPageHref({ ...query, after: view.next }),
  });
}

export function renderListingHtml(view: ListingView): string {
  const { query } = view;
  const title = escapeHtml(`Index of ${formatDirectoryPath(view.segments)}`);
  let rows = "";
  if (view.segments.length > 0) {
    rows += '<tr><td><a href="../">../</a></td><td class="n"></td><td class="d"></td></tr>\n';
  }
  for (const entry of view.entries) rows += renderRow(entry);
  const links: string[] = [];
  if (query.after !== null) {
    links.push(
      `<a href="${escapeHtml(formatPageHref({ ...query, after: null }))}">← First page</a>`,
    );
  }
  if (view.next !== null) {
    const href = formatPageHref({ ...query, after: view.next });
    links.push(`<a rel="next" href="${escapeHtml(href)}">Next page →</a>`);
  }
  const empty =
    view.entries.length === 0 && query.after === null ? "<p>This directory is empty.</p>\n" : "";
  return (
    "<!doctype html>\n" +
    '<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${title}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n<main>\n` +
    `<h1>${title}</h1>\n<table>\n<thead><tr>` +
    renderHeader("Name", "name", query) +
    renderHeader("Size", "size", query, "n") +
    renderHeader("Modified", "modified", query, "d") +
    `</tr></thead>\n<tbody>\n${rows}</tbody>\n</table>\n${empty}` +
    (links.length > 0 ? `<nav>${links.join(" ")}</nav>\n` : "") +
    "</main>\n</body>\n</html>\n"
  );
}

// Light by default, dark when the reader's system prefers it; readable from 320 px wide up: long
// names wrap anywhere and, on a narrow screen, a date may break before its time (an inline-block
// span may start a line; <wbr> would break even under nowrap in Chromium).
const STYLE =
  ":root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--link:#0550ae;" +
  "--stripe:#f6f8fa;--line:#d1d9e0}" +
  "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;" +
  "--link:#4493f8;--stripe:#151b23;--line:#3d444d}}" +
  "body{margin:0 auto;max-width:64rem;padding:1rem;color:var(--fg);background:var(--bg);" +
  "font:1rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
  "h1{font-size:1.25rem;font-weight:600;overflow-wrap:anywhere}" +
  "table{width:100%;border-collapse:collapse}" +
  "th,td{padding:.375rem .5rem;text-align:left;vertical-align:top}" +
  "th{border-bottom:1px solid var(--line);white-space:nowrap}" +
  "tbody tr:nth-child(even){background:var(--stripe)}" +
  "td:first-child{overflow-wrap:anywhere}" +
  ".n,.d{color:var(--muted);font-variant-numeric:tabular-nums}" +
  ".n,.d{white-space:nowrap}.n{text-align:right}" +
  "@media (max-width:40rem){body{padding:.5rem}th,td{padding:.375rem .25rem}" +
  ".d{white-space:normal}.d span{display:inline-block}}" +
  "a{color:var(--link);text-decoration:none}a:hover,a:focus{text-decoration:underline}" +
  "th a{color:inherit}nav{margin-top:1rem;display:flex;gap:1.5rem}";

/** The order a column's link asks for first: names A→Z, sizes and dates largest/newest first. */
const FIRST_ORDER: Readonly<Record<SortField, SortOrder>> = {
  name: "asc",
  size: "desc",
  modified: "desc",
};

/** A sortable column heading: a plain link (no script) that starts over at the first page; the
 * current column is marked with an arrow and aria-sort, and its link reverses the order. */
function renderHeader(label: string, sort: SortField, query: ListingQuery, cls?: string): string {
  const current = query.sort === sort;
  let order = FIRST_ORDER[sort];
  if (current) order = query.order === "asc" ? "desc" : "asc";
  const href = formatPageHref({ ...query, sort, order, after: null });
  const classAttribute = cls === undefined ? "" : ` class="${cls}"`;
  const ariaSort = current
    ? ` aria-sort="${query.order === "asc" ? "ascending" : "descending"}"`
    : "";
  const arrow = current ? (query.order === "asc" ? " ↑" : " ↓") : "";
  return `<th scope="col"${classAttribute}${ariaSort}><a href="${escapeHtml(href)}">${label}${arrow}</a></th>`;
}

function renderRow(entry: ListingEntry): string {
  const display = entry.kind === "directory" ? `${entry.name}/` : entry.name;
  const size =
    entry.kind === "file"
      ? `<data value="${entry.sizeBytes}">${formatHumanSize(entry.sizeBytes)}</data>`
      : "—";
  const iso = formatIsoDate(entry.mtimeMs);
  // Seconds are enough to read (the datetime attribute keeps the milliseconds). The time is a
  // span so that a narrow screen can put it on a line of its own (see STYLE).
  const seconds = iso.replace(/\.[0-9]{3}Z$/, "Z");
  const timeStart = seconds.indexOf("T");
  const shown = `${seconds.slice(0, timeStart)}<span>${seconds.slice(timeStart)}</span>`;
  return (
    `<tr><td><a href="${escapeHtml(formatEntryHref(entry))}">${escapeHtml(display)}</a></td>` +
    `<td class="n">${size}</td><td class="d"><time datetime="${iso}">${shown}</time></td></tr>\n`
  );
}

/** A link to another page of this listing; "./" rather than "" for the default page, since an
 * empty href would keep the current query. */
function formatPageHref(query: ListingQuery): string {
  const text = formatListingQuery(query);
  return text === "" ? "./" : text;
}

/**
 * The relative link to an entry: its name percent-encoded as one path segment, "/" after a
 * directory (the listing is at a slash URL, so this resolves inside it). encodeURIComponent
 * leaves only unreserved characters and `!'()*`, so no name can add a segment ("/"), a query
 * ("?"), a fragment ("#"), or a scheme (":" in "javascript:x" is encoded).
 */
export function formatEntryHref(entry: Pick<ListingEntry, "name" | "kind">): string {
  const encoded = encodeURIComponent(entry.name);
  return entry.kind === "directory" ? `${encoded}/` : encoded;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Safe as element text and inside a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string);
}

const SIZE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] as const;

/**
 * Binary (IEC) units, as `ls -h` but with the unit spelled out: "0 B", "1023 B", "1.2 KiB",
 * "12 KiB", "1.0 MiB". One decimal below 10 units, whole numbers above; a value that rounds to
 * 1024 moves up a unit, so "1024 KiB" never appears.
 */
export function formatHumanSize(sizeBytes: number): string {
  let unit = 0;
  let value = sizeBytes;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${sizeBytes} B`;
  if (Math.round(value) >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value < 9.95 ? value.toFixed(1) : String(Math.round(value));
  return `${text} ${SIZE_UNITS[unit]}`;
}

/** ISO 8601 in UTC with milliseconds ("2026-03-01T12:00:00.000Z"), as Date#toISOString. A time
 * outside Date's range (±8.64e15 ms) cannot come from a file system; it is clamped, not thrown. */
export function formatIsoDate(mtimeMs: number): string {
  const clamped = Math.max(-8.64e15, Math.min(8.64e15, Math.floor(mtimeMs)));
  return new Date(Number.isNaN(clamped) ? 0 : clamped).toISOString();
}
