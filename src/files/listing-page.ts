/**
 * Ordering and pagination of directory listings. Pure: entries in, one page out.
 *
 * A page is chosen in one pass over the directory with a bounded max-heap that keeps the `limit`
 * + 1 smallest entries after the cursor: O(n log limit) time and O(limit) memory whatever the
 * directory holds, so a directory of 100,000 entries never sits in memory at once (Caddy reads
 * and sorts everything, and caps listings at 10,000 entries: caddyserver/caddy#6644, #7902).
 * The one extra entry says whether a next page exists without counting the rest.
 *
 * The order is total (names are unique within a directory), so "after this cursor" names one
 * exact place: walking the pages visits every entry once, with no gap and no duplicate, and an
 * entry added or removed between two pages moves nothing else.
 */

export type EntryKind = "directory" | "file";

export interface ListingEntry {
  readonly name: string;
  readonly kind: EntryKind;
  /** The file's size; 0 for a directory (its st_size is file-system bookkeeping, not content). */
  readonly sizeBytes: number;
  readonly mtimeMs: number;
}

export type SortField = "name" | "size" | "modified";
export type SortOrder = "asc" | "desc";

export interface ListingOrder {
  readonly sort: SortField;
  readonly order: SortOrder;
}

/** A place in the order: the cursor a page ends at, and what an entry is compared by. `key` is
 * the size or mtime for those sorts and 0 for the sort by name. */
export interface SortPoint {
  readonly kind: EntryKind;
  readonly key: number;
  readonly name: string;
}

export function sortPointOf(entry: ListingEntry, sort: SortField): SortPoint {
  return { kind: entry.kind, key: sortKeyOf(entry, sort), name: entry.name };
}

function sortKeyOf(entry: ListingEntry, sort: SortField): number {
  switch (sort) {
    case "name":
      return 0;
    case "size":
      // Directories have no content size; among themselves they fall back to their names.
      return entry.kind === "directory" ? 0 : entry.sizeBytes;
    case "modified":
      return entry.mtimeMs;
  }
}

/**
 * Directories first, then files, in both orders (what every listing users know does); within each
 * group by (key, name), the whole tuple reversed for "desc". Negative: `a` comes first.
 */
export function compareSortPoints(a: SortPoint, b: SortPoint, order: SortOrder): number {
  if (a.kind !== b.kind) return a.kind === "directory" ? -1 : 1;
  let result = a.key < b.key ? -1 : a.key > b.key ? 1 : compareCodePoints(a.name, b.name);
  if (order === "desc") result = -result;
  return result;
}

/**
 * Compares strings by Unicode code point: the order of their UTF-8 bytes, what `LC_ALL=C ls`
 * shows. Locale-independent, so every server and client agrees on it, unlike localeCompare,
 * whose order changes with the ICU data. Plain `<` compares UTF-16 code units instead, which puts
 * U+FF5E after U+1F680 (a surrogate pair starts with 0xD83D < 0xFF5E); this fixes that.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (0xD800–0xDFFF, the halves of code points above U+FFFF) above 0xE000–0xFFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

export interface Page<T extends ListingEntry> {
  /** In listing order, at most `limit` of them. */
  readonly entries: readonly T[];
  /** Whether entries exist after the last one of this page. */
  readonly hasMore: boolean;
}

export interface PageSelector<T extends ListingEntry> {
  /** Considers one entry; each name must be offered once. */
  offer(entry: T): void;
  /** The page: the `limit` first entries after the cursor, in order. */
  finish(): Page<T>;
}

interface Candidate<T> {
  readonly point: SortPoint;
  readonly entry: T;
}

/** Keeps the `limit` first entries strictly after `after` (null: from the start) in `order`. */
export function createPageSelector<T extends ListingEntry>(
  order: ListingOrder,
  after: SortPoint | null,
  limit: number,
): PageSelector<T> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`createPageSelector: limit ${limit} is not a positive integer`);
  }
  // limit + 1: the extra one only tells whether more exist.
  const capacity = limit + 1;
  // A max-heap: heap[0] is the last of the kept entries, the one a better entry replaces.
  const heap: Candidate<T>[] = [];
  const compare = (a: Candidate<T>, b: Candidate<T>): number =>
    compareSortPoints(a.point, b.point, order.order);

  return {
    offer(entry) {
      const point = sortPointOf(entry, order.sort);
      if (after !== null && compareSortPoints(point, after, order.order) <= 0) return;
      const candidate = { point, entry };
      if (heap.length < capacity) {
        heap.push(candidate);
        siftUp(heap, heap.length - 1, compare);
      } else if (compare(candidate, heap[0] as Candidate<T>) < 0) {
        heap[0] = candidate;
        siftDown(heap, 0, compare);
      }
    },
    finish() {
      const sorted = heap.slice().sort(compare);
      const hasMore = sorted.length > limit;
      return { entries: sorted.slice(0, limit).map((c) => c.entry), hasMore };
    },
  };
}

type Compare<T> = (a: T, b: T) => number;

function siftUp<T>(heap: T[], index: number, compare: Compare<T>): void {
  let child = index;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    if (compare(heap[child] as T, heap[parent] as T) <= 0) return;
    swap(heap, child, parent);
    child = parent;
  }
}

function siftDown<T>(heap: T[], index: number, compare: Compare<T>): void {
  let parent = index;
  for (;;) {
    const left = 2 * parent + 1;
    if (left >= heap.length) return;
    const right = left + 1;
    let largest = left;
    if (right < heap.length && compare(heap[right] as T, heap[left] as T) > 0) largest = right;
    if (compare(heap[largest] as T, heap[parent] as T) <= 0) return;
    swap(heap, parent, largest);
    parent = largest;
  }
}

function swap<T>(heap: T[], i: number, j: number): void {
  const item = heap[i] as T;
  heap[i] = heap[j] as T;
  heap[j] = item;
}
