/**
 * A least-recently-used map bounded by bytes, not by count: a cache of file contents must bound
 * memory, and one 1 MiB file weighs as much as a thousand 1 KiB ones. Pure: no clock, no I/O.
 *
 * Recency rides on Map's insertion order: a hit moves its key to the end, eviction takes from the
 * front. Every entry also weighs `ENTRY_OVERHEAD_BYTES`, so a budget bounds the count of entries
 * too (a million empty files cannot grow the cache without limit).
 */
export interface Weighed {
  /** Bytes this value holds, as charged against the budget. */
  readonly bytes: number;
}

/** A rough charge for the key, the entry objects and the Map slot of each entry. */
export const ENTRY_OVERHEAD_BYTES = 1024;

export class LruByBytes<V extends Weighed> {
  private readonly entries = new Map<string, V>();
  private heldBytes = 0;

  constructor(readonly maxBytes: number) {}

  /** The value, now the most recently used; undefined when absent. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** The value without changing its recency; undefined when absent. */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Stores the value as the most recently used, evicting the least recently used ones until the
   * budget holds. A value heavier than the whole budget is not stored (and replaces nothing). */
  set(key: string, value: V): void {
    this.delete(key);
    const weight = value.bytes + ENTRY_OVERHEAD_BYTES;
    if (weight > this.maxBytes) return;
    this.entries.set(key, value);
    this.heldBytes += weight;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.heldBytes <= this.maxBytes) break;
      this.entries.delete(oldestKey);
      this.heldBytes -= oldest.bytes + ENTRY_OVERHEAD_BYTES;
    }
  }

  delete(key: string): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.heldBytes -= value.bytes + ENTRY_OVERHEAD_BYTES;
  }

  /** Bytes charged against the budget, overheads included. */
  get sizeBytes(): number {
    return this.heldBytes;
  }

  get count(): number {
    return this.entries.size;
  }
}
