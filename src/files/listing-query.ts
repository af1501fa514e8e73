/**
 * What a listing request asks for: its query parameters, its cursor and its format (Accept).
 * Pure: strings in, values out.
 *
 * Query: `?sort=name|size|modified&order=asc|desc&limit=N&after=CURSOR&format=json|html`.
 * A known parameter with a bad value is a 400 (strict, like the rest of berth: a typo should not
 * silently give another order); unknown parameters are ignored, so a cache-busting `?v=3` works.
 */

import type { ListingOrder, SortField, SortOrder, SortPoint } from "./listing-page.js";

/** Entries per page when the query names no limit: a page of 1,000 rows renders at once in a
 * browser (~200 KiB of HTML) and costs ~2,000 syscalls (lstat and access per entry shown). */
export const DEFAULT_LISTING_LIMIT_ENTRIES = 1000;
/** Most entries per page: bounds the memory and stat calls one request can cost. */
export const MAX_LISTING_LIMIT_ENTRIES = 5000;

export type ListingFormat = "html" | "json";

export interface ListingQuery extends ListingOrder {
  readonly limit: number;
  /** Where the previous page ended; null for the first page. */
  readonly after: SortPoint | null;
  /** `format=` when given, which beats Accept; null otherwise. */
  readonly format: ListingFormat | null;
}

export type ListingQueryResult =
  | { readonly kind: "ok"; readonly query: ListingQuery }
  | {
      readonly kind: "bad-request";
      readonly reason:
        | "BAD_QUERY_ENCODING"
        | "DUPLICATE_PARAMETER"
        | "BAD_SORT"
        | "BAD_ORDER"
        | "BAD_LIMIT"
        | "BAD_CURSOR"
        | "BAD_FORMAT";
    };

type BadRequest = Extract<ListingQueryResult, { kind: "bad-request" }>;
type Reason = BadRequest["reason"];

const DEFAULT_ORDER: ListingOrder = { sort: "name", order: "asc" };
const SORT_FIELDS: readonly SortField[] = ["name", "size", "modified"];
const SORT_ORDERS: readonly SortOrder[] = ["asc", "desc"];
const LISTING_FORMATS: readonly ListingFormat[] = ["html", "json"];

const KNOWN_PARAMETERS = new Set(["sort", "order", "limit", "after", "format"]);

/** `rawQuery` is the request's query with its "?" ("" when none), still percent-encoded. */
export function parseListingQuery(rawQuery: string): ListingQueryResult {
  const values = new Map<string, string>();
  const body = rawQuery.startsWith("?") ? rawQuery.slice(1) : rawQuery;
  for (const pair of body === "" ? [] : body.split("&")) {
    const equals = pair.indexOf("=");
    const name = decodeFormComponent(equals < 0 ? pair : pair.slice(0, equals));
    // Someone else's parameter is none of our business, however it is encoded.
    if (name === null || !KNOWN_PARAMETERS.has(name)) continue;
    const value = decodeFormComponent(equals < 0 ? "" : pair.slice(equals + 1));
    if (value === null) return badRequest("BAD_QUERY_ENCODING");
    if (values.has(name)) return badRequest("DUPLICATE_PARAMETER");
    values.set(name, value);
  }
  const sort = parseChoice<SortField>(values.get("sort") ?? "name", SORT_FIELDS);
  if (sort === undefined) return badRequest("BAD_SORT");
  const order = parseChoice<SortOrder>(values.get("order") ?? "asc", SORT_ORDERS);
  if (order === undefined) return badRequest("BAD_ORDER");
  const limit = parseLimit(values.get("limit"));
  if (limit === undefined) return badRequest("BAD_LIMIT");
  const afterText = values.get("after");
  const after = afterText === undefined ? null : parseCursor(afterText, sort);
  if (after === undefined) return badRequest("BAD_CURSOR");
  const formatText = values.get("format");
  const format = formatText === undefined ? null : parseChoice(formatText, LISTING_FORMATS);
  if (format === undefined) return badRequest("BAD_FORMAT");
  return { kind: "ok", query: { sort, order, limit, after, format } };
}

function badRequest(reason: Reason): BadRequest {
  return { kind: "bad-request", reason };
}

/** application/x-www-form-urlencoded: "+" is a space (what an HTML form sends), then
 * percent-decoding as UTF-8; null when malformed. */
function decodeFormComponent(text: string): string | null {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return null;
  }
}

function parseChoice<T extends string>(value: string, choices: readonly T[]): T | undefined {
  return choices.find((choice) => choice === value);
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return DEFAULT_LISTING_LIMIT_ENTRIES;
  // Plain decimal digits only: no sign, exponent, spaces or leading zeros to interpret.
  if (!/^[1-9][0-9]{0,5}$/.test(value)) return undefined;
  const limit = Number(value);
  return limit <= MAX_LISTING_LIMIT_ENTRIES ? limit : undefined;
}

/**
 * The cursor is the sort point of the last entry shown, as text: `KIND/NAME` for the sort by name,
 * `KIND/KEY/NAME` for size and modified, KIND being "d" or "f" (directories come first, so the
 * kind is part of the place) and KEY the size or mtime in JavaScript's own number text, which
 * reads back to the same number. A name never holds "/", so splitting on it is unambiguous.
 * Readable on purpose: it says where a page starts, and clients may build one ("f/m" = files
 * after "m").
 */
export function formatCursor(point: SortPoint, sort: SortField): string {
  const kind = point.kind === "directory" ? "d" : "f";
  return sort === "name" ? `${kind}/${point.name}` : `${kind}/${String(point.key)}/${point.name}`;
}

/** The place `text` names for `sort`, or undefined when it is not a cursor of that sort. */
export function parseCursor(text: string, sort: SortField): SortPoint | undefined {
  const parts = text.split("/");
  const kindText = parts[0];
  const kind = kindText === "d" ? "directory" : kindText === "f" ? "file" : null;
  if (kind === null) return undefined;
  if (sort === "name") {
    const name = parts[1];
    return parts.length === 2 && name !== undefined && name !== ""
      ? { kind, key: 0, name }
      : undefined;
  }
  const keyText = parts[1] ?? "";
  const name = parts[2];
  const key = Number(keyText);
  // Canonical number text only ("1.50", " 1" or "0x10" would still parse): one cursor per place.
  if (parts.length !== 3 || name === undefined || name === "" || String(key) !== keyText) {
    return undefined;
  }
  return Number.isFinite(key) ? { kind, key, name } : undefined;
}

/**
 * The query of a link to a listing page: only parameters that differ from the defaults, so the
 * first page sorted by name is "" and links stay short. Starts with "?" unless empty.
 */
export function formatListingQuery(query: ListingQuery): string {
  const parts: string[] = [];
  if (query.sort !== DEFAULT_ORDER.sort) parts.push(`sort=${query.sort}`);
  if (query.order !== DEFAULT_ORDER.order) parts.push(`order=${query.order}`);
  if (query.limit !== DEFAULT_LISTING_LIMIT_ENTRIES) parts.push(`limit=${query.limit}`);
  if (query.after !== null) {
    parts.push(`after=${encodeURIComponent(formatCursor(query.after, query.sort))}`);
  }
  if (query.format !== null) parts.push(`format=${query.format}`);
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/**
 * Negotiates the listing's format from an Accept value (RFC 9110 §12.5.1), or null when absent:
 * JSON only when the client prefers it. Each of text/html and application/json gets the weight
 * of the most specific media range that matches it (`application/json` over `application/*` over
 * `*\/*`; parameters other than q are ignored). JSON wins on a higher weight, or on an equal
 * non-zero one when it was named more specifically than HTML: `application/json, text/plain,
 * *\/*` (axios, many fetch wrappers) asks for JSON, `*\/*` alone (curl) and a browser's
 * `text/html,…,*\/*;q=0.8` get HTML. Unmatched or unparseable: HTML, never 406 (RFC 9110 §12.1
 * lets a server disregard the field).
 */
export function negotiateListingFormat(accept: string | null): ListingFormat {
  if (accept === null) return "html";
  const html = { specificity: 0, weight: 0 };
  const json = { specificity: 0, weight: 0 };
  for (const element of splitListElements(accept)) {
    const range = parseMediaRange(element);
    if (range === null) continue;
    match(json, range, "application", "json");
    match(html, range, "text", "html");
  }
  if (json.weight !== html.weight) return json.weight > html.weight ? "json" : "html";
  return json.weight > 0 && json.specificity > html.specificity ? "json" : "html";
}

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  /** In thousandths, the qvalue grammar's full precision (RFC 9110 §12.4.2). */
  readonly weight: number;
}

function match(
  best: { specificity: number; weight: number },
  range: MediaRange,
  type: string,
  subtype: string,
): void {
  let specificity = 0;
  if (range.type === type && range.subtype === subtype) specificity = 3;
  else if (range.type === type && range.subtype === "*") specificity = 2;
  else if (range.type === "*" && range.subtype === "*") specificity = 1;
  // RFC 9110 §12.5.1: the most specific range decides; a repeat of the same range, the lowest.
  if (specificity > best.specificity) {
    best.specificity = specificity;
    best.weight = range.weight;
  } else if (specificity > 0 && specificity === best.specificity) {
    best.weight = Math.min(best.weight, range.weight);
  }
}

/** RFC 9110 §5.6.1 list elements, honouring quoted strings (a parameter may hold a comma). */
function splitListElements(value: string): string[] {
  const elements: string[] = [];
  let start = 0;
  let inQuotes = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (inQuotes) {
      if (char === "\\") i++;
      else if (char === '"') inQuotes = false;
    } else if (char === '"') {
      inQuotes = true;
    } else if (char === ",") {
      elements.push(value.slice(start, i));
      start = i + 1;
    }
  }
  elements.push(value.slice(start));
  return elements;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/** RFC 9110 §12.5.1 `media-range = type "/" subtype parameters`, with a weight; null if malformed
 * (ignored, as a malformed element cannot be trusted to mean anything). */
function parseMediaRange(element: string): MediaRange | null {
  const [typeText = "", ...parameters] = element.split(";");
  const slash = typeText.indexOf("/");
  const type = typeText.slice(0, slash).trim().toLowerCase();
  const subtype = typeText
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (slash < 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  if (type === "*" && subtype !== "*") return null;
  let weight = 1000;
  for (const parameter of parameters) {
    // RFC 9110 §5.6.6: an empty parameter (a stray ";") is allowed; one without "=" is not.
    if (parameter.trim() === "") continue;
    const equals = parameter.indexOf("=");
    if (equals < 0) return null;
    if (parameter.slice(0, equals).trim().toLowerCase() !== "q") continue;
    const q = parameter.slice(equals + 1).trim();
    if (!QVALUE.test(q)) return null;
    weight = Math.round(Number(q) * 1000);
  }
  return { type, subtype, weight };
}
