import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DEFAULT_MAX_RANGES,
  evaluateIfRange,
  parseRange,
  type RangeResult,
  type RangeValidators,
} from "../../src/conditional/range.js";

const ignore: RangeResult = { kind: "ignore" };
const unsatisfiable: RangeResult = { kind: "unsatisfiable" };
/** Inclusive [first, last] pairs, as a Content-Range would print them. */
const ranges = (...spans: readonly (readonly [number, number])[]): RangeResult => ({
  kind: "ranges",
  ranges: spans.map(([first, last]) => ({ start: first, length: last - first + 1 })),
});

/** "ranges 2-4,6-7" (inclusive, like Content-Range), "ignore" or "unsatisfiable". */
function formatResult(result: RangeResult): string {
  if (result.kind !== "ranges") return result.kind;
  const spans = result.ranges.map((r) => `${r.start}-${r.start + r.length - 1}`);
  return `ranges ${spans.join(",")}`;
}

function formatCall(header: string, sizeBytes: number, maxRanges: number | undefined): string {
  const max = maxRanges === undefined ? "" : `, ${maxRanges}`;
  return `parseRange(${JSON.stringify(header)}, ${sizeBytes}${max})`;
}

const huge = "99999999999999999999"; // 20 digits, far past Number.MAX_SAFE_INTEGER
const maxSafe = String(Number.MAX_SAFE_INTEGER); // 9007199254740991
const aboveMaxSafe = "9007199254740993"; // rounds to 2^53 as a float
const TiB = 2 ** 40;
// Ten one-byte specs cover digits.txt exactly; the rest are unsatisfiable but still count.
const atCap = Array.from({ length: DEFAULT_MAX_RANGES }, (_, i) =>
  i < 10 ? `${i}-${i}` : "10-",
).join(",");
const overCap = `${atCap},10-`;

// Size 10 reads as the fixture digits.txt, "0123456789": bytes=2-4 is "234".
// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [string, number, number | undefined, RangeResult]> = [
  // one int-range
  ["bytes=2-4", 10, undefined, ranges([2, 4])],
  ["bytes=0-0", 10, undefined, ranges([0, 0])],
  ["bytes=9-9", 10, undefined, ranges([9, 9])],
  ["bytes=0-9", 10, undefined, ranges([0, 9])],
  ["bytes=3-3", 10, undefined, ranges([3, 3])],
  ["bytes=5-", 10, undefined, ranges([5, 9])],
  ["bytes=0-", 10, undefined, ranges([0, 9])],
  ["bytes=9-", 10, undefined, ranges([9, 9])],
  // last-pos past the end clips to the end (RFC 9110 §14.1.2)
  ["bytes=5-10", 10, undefined, ranges([5, 9])],
  ["bytes=5-1000", 10, undefined, ranges([5, 9])],
  ["bytes=0-10", 10, undefined, ranges([0, 9])],
  // first-pos at or past the end is unsatisfiable
  ["bytes=10-", 10, undefined, unsatisfiable],
  ["bytes=10-20", 10, undefined, unsatisfiable],
  ["bytes=11-11", 10, undefined, unsatisfiable],
  // suffix-range
  ["bytes=-3", 10, undefined, ranges([7, 9])],
  ["bytes=-1", 10, undefined, ranges([9, 9])],
  ["bytes=-9", 10, undefined, ranges([1, 9])],
  ["bytes=-10", 10, undefined, ranges([0, 9])],
  ["bytes=-20", 10, undefined, ranges([0, 9])],
  ["bytes=-0", 10, undefined, unsatisfiable],
  ["bytes=-0,2-3", 10, undefined, ranges([2, 3])],
  ["bytes=10-,-0", 10, undefined, unsatisfiable],
  ["bytes=2-3,10-", 10, undefined, ranges([2, 3])],
  // leading zeros are still decimal
  ["bytes=007-008", 10, undefined, ranges([7, 8])],
  ["bytes=-0003", 10, undefined, ranges([7, 9])],
  ["bytes=00-00", 10, undefined, ranges([0, 0])],
  // last-pos < first-pos invalidates the whole header
  ["bytes=3-2", 10, undefined, ignore],
  ["bytes=1-2,3-2", 10, undefined, ignore],
  ["bytes=9-0", 10, undefined, ignore],
  // the unit: case-insensitive "bytes" only; no whitespace before "="
  ["BYTES=1-2", 10, undefined, ranges([1, 2])],
  ["Bytes=1-2", 10, undefined, ranges([1, 2])],
  ["items=1-2", 10, undefined, ignore],
  ["byte=1-2", 10, undefined, ignore],
  ["bytess=1-2", 10, undefined, ignore],
  ["=1-2", 10, undefined, ignore],
  ["bytes =1-2", 10, undefined, ignore],
  ["1-2", 10, undefined, ignore],
  ["", 10, undefined, ignore],
  // OWS after "=" is the list's leading OWS (RFC 9110 §5.6.1.2), so it is accepted
  ["bytes= 1-2", 10, undefined, ranges([1, 2])],
  ["bytes=\t1-2", 10, undefined, ranges([1, 2])],
  ["bytes=1-2 ", 10, undefined, ranges([1, 2])],
  ["bytes=1-2 , 4-5", 10, undefined, ranges([1, 2], [4, 5])],
  ["bytes=1-2\t,\t4-5", 10, undefined, ranges([1, 2], [4, 5])],
  // but not whitespace inside a spec, nor anything other than SP/HTAB
  ["bytes=1 -2", 10, undefined, ignore],
  ["bytes=1- 2", 10, undefined, ignore],
  ["bytes=- 2", 10, undefined, ignore],
  ["bytes=\r1-2", 10, undefined, ignore],
  ["bytes=\u00a01-2", 10, undefined, ignore],
  // empty list elements are skipped; at least one spec is needed
  ["bytes=", 10, undefined, ignore],
  ["bytes=,", 10, undefined, ignore],
  ["bytes= , ,", 10, undefined, ignore],
  ["bytes=,1-2", 10, undefined, ranges([1, 2])],
  ["bytes=1-2,", 10, undefined, ranges([1, 2])],
  ["bytes=1-2,,4-5", 10, undefined, ranges([1, 2], [4, 5])],
  ["bytes= ,1-2", 10, undefined, ranges([1, 2])],
  // bad syntax
  ["bytes=1", 10, undefined, ignore],
  ["bytes=-", 10, undefined, ignore],
  ["bytes=--1", 10, undefined, ignore],
  ["bytes=a-b", 10, undefined, ignore],
  ["bytes=1-b", 10, undefined, ignore],
  ["bytes=1-2-3", 10, undefined, ignore],
  ["bytes=+1-2", 10, undefined, ignore],
  ["bytes=1-+2", 10, undefined, ignore],
  ["bytes=-+2", 10, undefined, ignore],
  ["bytes=0x1-2", 10, undefined, ignore],
  ["bytes=1.0-2", 10, undefined, ignore],
  ["bytes=1e1-", 10, undefined, ignore],
  ["bytes=\uff11-2", 10, undefined, ignore],
  ["bytes=1-2;3-4", 10, undefined, ignore],
  ["bytes=1-2,x", 10, undefined, ignore],
  ["bytes==1-2", 10, undefined, ignore],
  ["bytes=1-2=", 10, undefined, ignore],
  // several specs keep request order
  ["bytes=1-2,4-5", 10, undefined, ranges([1, 2], [4, 5])],
  ["bytes=6-7,1-2", 10, undefined, ranges([6, 7], [1, 2])],
  ["bytes=0-0,-1", 10, undefined, ranges([0, 0], [9, 9])],
  ["bytes=-1,0-0", 10, undefined, ranges([9, 9], [0, 0])],
  ["bytes=0-0,2-2,4-4,6-6,8-8", 10, undefined, ranges([0, 0], [2, 2], [4, 4], [6, 6], [8, 8])],
  // overlapping or adjacent specs merge, at the place of the earliest
  ["bytes=1-4,3-6", 10, undefined, ranges([1, 6])],
  ["bytes=3-6,1-4", 10, undefined, ranges([1, 6])],
  ["bytes=1-2,3-4", 10, undefined, ranges([1, 4])],
  ["bytes=3-4,1-2", 10, undefined, ranges([1, 4])],
  ["bytes=0-1,8-9,2-3", 10, undefined, ranges([0, 3], [8, 9])],
  ["bytes=8-9,0-1,2-3", 10, undefined, ranges([8, 9], [0, 3])],
  ["bytes=8-9,2-3,0-1", 10, undefined, ranges([8, 9], [0, 3])],
  ["bytes=0-0,4-4,2-2,1-1,3-3", 10, undefined, ranges([0, 4])],
  ["bytes=6-6,0-0,4-4,1-3", 10, undefined, ranges([6, 6], [0, 4])],
  ["bytes=1-1,8-8,2-7", 10, undefined, ranges([1, 8])],
  ["bytes=2-5,3-4", 10, undefined, ranges([2, 5])],
  ["bytes=7-,-3", 10, undefined, ranges([7, 9])],
  ["bytes=-6,0-4", 10, undefined, ignore],
  ["bytes=7-,-2", 10, undefined, ranges([7, 9])],
  ["bytes=-2,5-6", 10, undefined, ranges([8, 9], [5, 6])],
  ["bytes=-5,0-4", 10, undefined, ranges([0, 9])],
  ["bytes=0-1,3-4,2-2", 10, undefined, ranges([0, 4])],
  // duplicates: allowed while the total stays within the size, then merged
  ["bytes=0-4,0-4", 10, undefined, ranges([0, 4])],
  ["bytes=0-5,0-5", 10, undefined, ignore],
  ["bytes=0-,0-", 10, undefined, ignore],
  ["bytes=-10,-1", 10, undefined, ignore],
  ["bytes=0-8,9-", 10, undefined, ranges([0, 9])],
  ["bytes=0-8,8-", 10, undefined, ignore],
  ["bytes=1-1,1-1,1-1", 10, undefined, ranges([1, 1])],
  // only satisfiable specs count toward the total
  ["bytes=0-9,10-,-0", 10, undefined, ranges([0, 9])],
  // the cap counts specs as written, satisfiable or not, before coalescing
  [`bytes=${atCap}`, 10, undefined, ranges([0, 9])],
  [`bytes=${overCap}`, 10, undefined, ignore],
  ["bytes=0-0,1-1", 10, 2, ranges([0, 1])],
  ["bytes=0-0,1-1,2-2", 10, 2, ignore],
  ["bytes=0-0,,1-1,", 10, 2, ranges([0, 1])],
  ["bytes=20-,0-0,30-", 10, 2, ignore],
  ["bytes=0-0,x", 10, 1, ignore],
  ["bytes=5-", 10, 1, ranges([5, 9])],
  // numbers past Number.MAX_SAFE_INTEGER stay exact where it matters
  [`bytes=0-${huge}`, 10, undefined, ranges([0, 9])],
  [`bytes=${huge}-`, 10, undefined, unsatisfiable],
  [`bytes=${huge}-${huge}`, 10, undefined, unsatisfiable],
  [`bytes=-${huge}`, 10, undefined, ranges([0, 9])],
  [`bytes=${huge}9-${huge}`, 10, undefined, ignore],
  [`bytes=${huge}-${huge}9`, 10, undefined, unsatisfiable],
  [`bytes=${aboveMaxSafe}-9007199254740992`, 10, undefined, ignore],
  [`bytes=00000000000000000000000000003-4`, 10, undefined, ranges([3, 4])],
  [`bytes=3-00000000000000000000000000002`, 10, undefined, ignore],
  [`bytes=0-${maxSafe}`, 10, undefined, ranges([0, 9])],
  [`bytes=${huge}-,2-3`, 10, undefined, ranges([2, 3])],
  // an empty representation: Range is ignored (our decision), whatever it says
  ["bytes=0-0", 0, undefined, ignore],
  ["bytes=-1", 0, undefined, ignore],
  ["bytes=0-", 0, undefined, ignore],
  ["bytes=-0", 0, undefined, ignore],
  ["bytes=3-2", 0, undefined, ignore],
  // a one-byte representation
  ["bytes=0-0", 1, undefined, ranges([0, 0])],
  ["bytes=0-", 1, undefined, ranges([0, 0])],
  ["bytes=-1", 1, undefined, ranges([0, 0])],
  ["bytes=-5", 1, undefined, ranges([0, 0])],
  ["bytes=0-5", 1, undefined, ranges([0, 0])],
  ["bytes=1-", 1, undefined, unsatisfiable],
  ["bytes=-0", 1, undefined, unsatisfiable],
  ["bytes=0-0,0-0", 1, undefined, ignore],
  ["bytes=0-0,1-1", 1, undefined, ranges([0, 0])],
  // a one-TiB representation
  ["bytes=0-", TiB, undefined, ranges([0, TiB - 1])],
  [`bytes=${TiB - 1}-`, TiB, undefined, ranges([TiB - 1, TiB - 1])],
  [`bytes=${TiB}-`, TiB, undefined, unsatisfiable],
  ["bytes=-1", TiB, undefined, ranges([TiB - 1, TiB - 1])],
  [`bytes=-${TiB + 1}`, TiB, undefined, ranges([0, TiB - 1])],
  [`bytes=-${huge}`, TiB, undefined, ranges([0, TiB - 1])],
  [`bytes=0-${huge}`, TiB, undefined, ranges([0, TiB - 1])],
  [`bytes=${huge}-`, TiB, undefined, unsatisfiable],
  [`bytes=${TiB / 2}-${TiB / 2 + 99}`, TiB, undefined, ranges([TiB / 2, TiB / 2 + 99])],
  [`bytes=0-${TiB / 2},${TiB / 2}-`, TiB, undefined, ignore],
  [`bytes=0-${TiB / 2 - 1},${TiB / 2}-`, TiB, undefined, ranges([0, TiB - 1])],
  // the largest representation we accept
  [`bytes=${maxSafe}-`, Number.MAX_SAFE_INTEGER, undefined, unsatisfiable],
  [`bytes=-${huge}`, Number.MAX_SAFE_INTEGER, undefined, ranges([0, Number.MAX_SAFE_INTEGER - 1])],
  [`bytes=${Number.MAX_SAFE_INTEGER - 1}-${huge}`, Number.MAX_SAFE_INTEGER, undefined, ranges([Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER - 1])],
];

for (const [header, sizeBytes, maxRanges, want] of rows) {
  const call = formatCall(
    header.length > 80 ? `${header.slice(0, 77)}...` : header,
    sizeBytes,
    maxRanges,
  );
  test(call, () => {
    const got = parseRange(header, sizeBytes, maxRanges);
    assert.deepEqual(got, want, `${call} = ${formatResult(got)}, want ${formatResult(want)}`);
  });
}

// Contract violations are our own bugs and must not pass silently.
// biome-ignore format: one row per line
const badArguments: ReadonlyArray<readonly [number, number | undefined]> = [
  [-1, undefined],
  [1.5, undefined],
  [Number.NaN, undefined],
  [2 ** 53, undefined],
  [10, 0],
  [10, 1.5],
];

for (const [sizeBytes, maxRanges] of badArguments) {
  const call = formatCall("bytes=0-0", sizeBytes, maxRanges);
  test(`${call} throws`, () => {
    assert.throws(() => parseRange("bytes=0-0", sizeBytes, maxRanges), RangeError, call);
  });
}

/**
 * A second opinion on the semantic rules, by a different method: each spec of a pool has a
 * hand-written meaning on digits.txt, and the oracle coalesces by marking bytes in a bitmap and
 * reading off runs, instead of sorting and sweeping. Every header of one to three specs from the
 * pool must agree.
 */
// biome-ignore format: one row per line
const pool: ReadonlyArray<readonly [string, "invalid" | "unsatisfiable" | readonly [number, number]]> = [
  ["0-0", [0, 0]],
  ["1-2", [1, 2]],
  ["2-4", [2, 4]],
  ["3-3", [3, 3]],
  ["5-", [5, 9]],
  ["6-7", [6, 7]],
  ["9-20", [9, 9]],
  ["-3", [7, 9]],
  ["-20", [0, 9]],
  ["-0", "unsatisfiable"],
  ["10-", "unsatisfiable"],
  ["4-3", "invalid"],
];

function oracle(
  specs: readonly (typeof pool)[number][],
  sizeBytes: number,
  maxRanges: number,
): RangeResult {
  if (specs.some(([, meaning]) => meaning === "invalid")) return ignore;
  if (specs.length > maxRanges) return ignore;
  const spans = specs.flatMap(([, meaning]) => (typeof meaning === "string" ? [] : [meaning]));
  if (spans.length === 0) return unsatisfiable;
  const total = spans.reduce((sum, [first, last]) => sum + last - first + 1, 0);
  if (total > sizeBytes) return ignore;
  // Spans that overlap or touch cover a run of consecutive bytes, and nothing else does.
  const covered = Array.from({ length: sizeBytes }, (_, byte) =>
    spans.some(([first, last]) => first <= byte && byte <= last),
  );
  const runs: { first: number; last: number; order: number }[] = [];
  for (let byte = 0; byte < sizeBytes; byte++) {
    if (!covered[byte]) continue;
    const run = runs.at(-1);
    if (run !== undefined && run.last === byte - 1) run.last = byte;
    else runs.push({ first: byte, last: byte, order: 0 });
  }
  for (const run of runs) {
    run.order = spans.findIndex(([first, last]) => first <= run.last && run.first <= last);
  }
  runs.sort((a, b) => a.order - b.order);
  return ranges(...runs.map((run) => [run.first, run.last] as const));
}

test("parseRange agrees with a bitmap oracle on every 1-, 2- and 3-spec header from a pool", () => {
  const headers: (typeof pool)[number][][] = [];
  for (const a of pool) {
    headers.push([a]);
    for (const b of pool) {
      headers.push([a, b]);
      for (const c of pool) headers.push([a, b, c]);
    }
  }
  const failures: string[] = [];
  for (const specs of headers) {
    for (const maxRanges of [2, DEFAULT_MAX_RANGES]) {
      const header = `bytes=${specs.map(([text]) => text).join(",")}`;
      const got = parseRange(header, 10, maxRanges);
      const want = oracle(specs, 10, maxRanges);
      if (formatResult(got) !== formatResult(want)) {
        failures.push(
          `${formatCall(header, 10, maxRanges)} = ${formatResult(got)}, want ${formatResult(want)}`,
        );
      }
    }
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} disagreements`);
});

// ---------------------------------------------------------------------------------------------
// If-Range

const etag = '"5f-a-1b2c"';
const lastModifiedMs = 784111777000; // Sun, 06 Nov 1994 08:49:37 GMT
const both: RangeValidators = { etag, lastModifiedMs };
const withMs = (ms: number): RangeValidators => ({ etag, lastModifiedMs: ms });
const noDate: RangeValidators = { etag, lastModifiedMs: null };
const noTag: RangeValidators = { etag: null, lastModifiedMs };
const weakTag: RangeValidators = { etag: 'W/"5f-a-1b2c"', lastModifiedMs };
const imf = "Sun, 06 Nov 1994 08:49:37 GMT";
const rfc850 = "Sunday, 06-Nov-94 08:49:37 GMT";
const asctime = "Sun Nov  6 08:49:37 1994";

// biome-ignore format: one row per line
const ifRangeRows: ReadonlyArray<readonly [string, RangeValidators, boolean]> = [
  // entity-tag: strong comparison only (RFC 9110 §8.8.3.2)
  [etag, both, true],
  [etag, noDate, true],
  ['"5f-a-1b2d"', both, false],
  ['"5f-a-1b2c', both, false],
  ['"5F-A-1B2C"', both, false],
  [`W/${etag}`, both, false],
  [`W/${etag}`, weakTag, false],
  [etag, weakTag, false],
  [etag, noTag, false],
  ['""', { etag: '""', lastModifiedMs }, true],
  ['"a b"', { etag: '"a b"', lastModifiedMs }, false],
  [` ${etag}`, both, false],
  // an entity-tag never falls back to the date
  [etag, { etag: '"other"', lastModifiedMs }, false],
  // HTTP-date: exact equality at second precision, all three forms (RFC 9110 §5.6.7)
  [imf, both, true],
  [rfc850, both, true],
  [asctime, both, true],
  ["Sun Nov 06 08:49:37 1994", both, true],
  [imf, noTag, true],
  [imf, withMs(lastModifiedMs + 999), true],
  [imf, withMs(lastModifiedMs + 1000), false],
  [imf, withMs(lastModifiedMs - 1), false],
  [imf, withMs(lastModifiedMs - 1000), false],
  ["Sun, 06 Nov 1994 08:49:38 GMT", both, false],
  ["Sun, 06 Nov 1994 08:49:36 GMT", both, false],
  ["Sunday, 06-Nov-94 08:49:38 GMT", both, false],
  ["Sun Nov  6 08:49:36 1994", both, false],
  [imf, noDate, false],
  [imf, { etag: null, lastModifiedMs: null }, false],
  // a date never falls back to the entity-tag
  [imf, { etag: imf, lastModifiedMs: null }, false],
  // rfc850's two-digit year, resolved within 50 years of Last-Modified
  ["Thursday, 01-Jan-70 00:00:00 GMT", withMs(0), true],
  ["Saturday, 01-Jan-00 00:00:00 GMT", withMs(946684800000), true],
  ["Monday, 01-Jan-00 00:00:00 GMT", withMs(-2208988800000), true],
  ["Wednesday, 09-Jun-21 10:18:14 GMT", withMs(1623233894000), true],
  // malformed or not quite a date: false, never a throw
  ["", both, false],
  ["garbage", both, false],
  ["0", both, false],
  ["784111777", both, false],
  ["sun, 06 Nov 1994 08:49:37 GMT", both, false],
  ["Sun, 06 nov 1994 08:49:37 GMT", both, false],
  ["Sun, 06 Nov 1994 08:49:37 gmt", both, false],
  ["Sun, 06 Nov 1994 08:49:37 UTC", both, false],
  ["Sun, 06 Nov 1994 08:49:37 +0000", both, false],
  ["Sun, 6 Nov 1994 08:49:37 GMT", both, false],
  ["Sun,  06 Nov 1994 08:49:37 GMT", both, false],
  ["Sun, 06 Nov 1994 08:49:37 GMT ", both, false],
  ["Sun 06 Nov 1994 08:49:37 GMT", both, false],
  ["Mon, 06 Nov 1994 08:49:37 GMT", both, false],
  ["Sunday, 06 Nov 1994 08:49:37 GMT", both, false],
  ["Sun, 06-Nov-94 08:49:37 GMT", both, false],
  ["Sun, 31 Feb 1994 08:49:37 GMT", both, false],
  ["Sun, 06 Nov 1994 24:49:37 GMT", both, false],
  ["Sun, 06 Nov 1994 08:60:37 GMT", both, false],
  ["Sun, 06 Nov 1994 08:49:60 GMT", both, false],
  ["Sun Nov 6 08:49:37 1994", both, false],
  ["Sun Nov  6 08:49:37 1994 GMT", both, false],
  ["1994-11-06T08:49:37Z", both, false],
  ["W/", both, false],
];

for (const [ifRange, validators, want] of ifRangeRows) {
  const call = `evaluateIfRange(${JSON.stringify(ifRange)}, ${JSON.stringify(validators)})`;
  test(call, () => {
    const got = evaluateIfRange(ifRange, validators);
    assert.equal(got, want, `${call} = ${got}, want ${want}`);
  });
}
