import assert from "node:assert/strict";
import { test } from "node:test";
import { ENTRY_OVERHEAD_BYTES, LruByBytes } from "../../src/files/lru-by-bytes.js";

const weigh = (bytes: number) => ({ bytes });
/** A budget for `count` entries of `bytes` each, overheads included. */
const budgetFor = (count: number, bytes: number) => count * (bytes + ENTRY_OVERHEAD_BYTES);

test("holds entries within the byte budget, overheads counted", () => {
  const lru = new LruByBytes(budgetFor(3, 100));
  for (const key of ["a", "b", "c"]) lru.set(key, weigh(100));
  assert.equal(lru.count, 3);
  assert.equal(lru.sizeBytes, budgetFor(3, 100));
  lru.set("d", weigh(100));
  assert.equal(lru.count, 3);
  assert.equal(lru.get("a"), undefined, "the least recently used entry went");
  assert.equal(lru.sizeBytes, budgetFor(3, 100));
});

test("a hit makes an entry the most recently used", () => {
  const lru = new LruByBytes(budgetFor(3, 100));
  for (const key of ["a", "b", "c"]) lru.set(key, weigh(100));
  assert.ok(lru.get("a"));
  lru.set("d", weigh(100));
  assert.ok(lru.get("a"), "a was used after b and c");
  assert.equal(lru.get("b"), undefined);
});

test("one heavy entry evicts as many light ones as it needs", () => {
  const lru = new LruByBytes(budgetFor(4, 100));
  for (const key of ["a", "b", "c", "d"]) lru.set(key, weigh(100));
  lru.set("big", weigh(2 * 100 + ENTRY_OVERHEAD_BYTES));
  assert.deepEqual(
    ["a", "b", "c", "d", "big"].map((key) => lru.get(key) !== undefined),
    [false, false, true, true, true],
  );
  assert.ok(lru.sizeBytes <= lru.maxBytes);
});

test("a value heavier than the budget is not stored and replaces nothing", () => {
  const lru = new LruByBytes(budgetFor(2, 100));
  lru.set("a", weigh(100));
  lru.set("huge", weigh(budgetFor(2, 100)));
  assert.equal(lru.get("huge"), undefined);
  assert.ok(lru.get("a"));
  // Replacing a key with a value too heavy drops the old value too: never serve the old one.
  lru.set("a", weigh(budgetFor(2, 100)));
  assert.equal(lru.get("a"), undefined);
  assert.equal(lru.sizeBytes, 0);
});

test("replacing and deleting keep the byte count exact", () => {
  const lru = new LruByBytes(budgetFor(10, 1000));
  lru.set("a", weigh(10));
  lru.set("a", weigh(500));
  assert.equal(lru.count, 1);
  assert.equal(lru.sizeBytes, 500 + ENTRY_OVERHEAD_BYTES);
  lru.delete("a");
  lru.delete("missing");
  assert.equal(lru.count, 0);
  assert.equal(lru.sizeBytes, 0);
});
