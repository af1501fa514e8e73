/**
 * The latency histogram: slot arithmetic (every value lands in a slot whose range holds it, no
 * wider than 1/1024 of it), percentiles of known distributions, precision at large values, and
 * bounded memory whatever is recorded.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  highestEquivalentValue,
  LatencyHistogram,
  lowestEquivalentValue,
  MAX_TRACKABLE_US,
  slotOf,
} from "../../src/bench/histogram.js";

function histogramOf(values: Iterable<number>): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.record(value);
  return histogram;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

interface SlotRow {
  readonly value: number;
  readonly slot: number;
  readonly lowest: number;
  readonly highest: number;
}

// biome-ignore format: one row per line
const SLOT_ROWS: readonly SlotRow[] = [
  { value: 0, slot: 0, lowest: 0, highest: 0 },
  { value: 1, slot: 1, lowest: 1, highest: 1 },
  { value: 1023, slot: 1023, lowest: 1023, highest: 1023 },
  { value: 1024, slot: 1024, lowest: 1024, highest: 1024 },
  { value: 2047, slot: 2047, lowest: 2047, highest: 2047 },
  { value: 2048, slot: 2048, lowest: 2048, highest: 2049 },
  { value: 2049, slot: 2048, lowest: 2048, highest: 2049 },
  { value: 4095, slot: 3071, lowest: 4094, highest: 4095 },
  { value: 4096, slot: 3072, lowest: 4096, highest: 4099 },
  { value: 1_000_000, slot: 11_169, lowest: 999_936, highest: 1_000_447 },
  { value: MAX_TRACKABLE_US, slot: 23_551, lowest: 4_292_870_144, highest: MAX_TRACKABLE_US },
];

describe("slotOf / lowestEquivalentValue / highestEquivalentValue", () => {
  for (const row of SLOT_ROWS) {
    test(`slotOf(${row.value}) = ${row.slot} holding ${row.lowest}..${row.highest}`, () => {
      const slot = slotOf(row.value);
      assert.deepEqual(
        { slot, lowest: lowestEquivalentValue(slot), highest: highestEquivalentValue(slot) },
        { slot: row.slot, lowest: row.lowest, highest: row.highest },
        `slotOf(${row.value})`,
      );
    });
  }

  test("every slot's range holds its values and is at most 1/1024 of them wide", () => {
    for (let value = 1; value < MAX_TRACKABLE_US; value = Math.floor(value * 1.37) + 1) {
      const slot = slotOf(value);
      const lowest = lowestEquivalentValue(slot);
      const highest = highestEquivalentValue(slot);
      assert.ok(
        lowest <= value && value <= highest,
        `slotOf(${value}) = ${slot}: ${lowest}..${highest}`,
      );
      assert.ok(
        (highest - lowest + 1) / lowest <= 1 / 1024 || highest === lowest,
        `slot ${slot} too wide`,
      );
      assert.equal(slotOf(highest + 1), slot + 1, `slot after ${highest}`);
    }
  });
});

interface PercentileRow {
  readonly name: string;
  readonly values: () => Iterable<number>;
  /** [percentile, wanted value in µs] */
  readonly want: readonly (readonly [number, number])[];
}

// biome-ignore format: one row per line
const PERCENTILE_ROWS: readonly PercentileRow[] = [
  { name: "empty", values: () => [], want: [[50, 0], [100, 0]] },
  { name: "one value", values: () => [730], want: [[0, 730], [50, 730], [99.9, 730], [100, 730]] },
  { name: "1..1000 µs, exact", values: () => range(1, 1000), want: [[0, 1], [50, 500], [90, 900], [99, 990], [99.9, 999], [100, 1000]] },
  { name: "1..3", values: () => [3, 1, 2], want: [[50, 2], [66.6, 2], [66.7, 3], [100, 3]] },
  { name: "99 fast, 1 stall of 40 ms", values: () => [...Array(99).fill(100), 40_000], want: [[50, 100], [99, 100], [99.9, 40_000], [100, 40_000]] },
  { name: "fractions round", values: () => [1.4, 1.6, -5], want: [[0, 0], [50, 1], [100, 2]] },
  { name: "large values within 0.1%", values: () => [10_000_000, 20_000_000], want: [[50, 10_002_431], [100, 20_000_000]] },
  { name: "beyond the trackable range: max still exact", values: () => [5, 1e10], want: [[50, 5], [100, 1e10]] },
];

describe("LatencyHistogram.valueAtPercentileUs", () => {
  for (const row of PERCENTILE_ROWS) {
    test(row.name, () => {
      const histogram = histogramOf(row.values());
      for (const [percentile, want] of row.want) {
        assert.equal(
          histogram.valueAtPercentileUs(percentile),
          want,
          `${row.name}: p${percentile}`,
        );
      }
    });
  }

  test("count, min, max and mean are exact", () => {
    const histogram = histogramOf([250, 1_000_001, 3]);
    assert.deepEqual(
      {
        count: histogram.count,
        min: histogram.minUs,
        max: histogram.maxUs,
        mean: histogram.meanUs,
      },
      { count: 3, min: 3, max: 1_000_001, mean: 1_000_254 / 3 },
    );
  });

  test("merge gives the histogram of both inputs", () => {
    const merged = histogramOf(range(1, 500));
    merged.merge(histogramOf(range(501, 1000)));
    const whole = histogramOf(range(1, 1000));
    for (const percentile of [0, 25, 50, 90, 99, 99.9, 100]) {
      assert.equal(
        merged.valueAtPercentileUs(percentile),
        whole.valueAtPercentileUs(percentile),
        `p${percentile}`,
      );
    }
    assert.deepEqual([merged.count, merged.minUs, merged.maxUs], [1000, 1, 1000]);
  });

  test("a million values cost no memory beyond the fixed slots", () => {
    const histogram = new LatencyHistogram();
    // A deterministic spread from 50 µs to ~50 ms: values a loaded server gives.
    let seed = 1;
    for (let i = 0; i < 1_000_000; i++) {
      seed = (seed * 48_271) % 2_147_483_647;
      histogram.record(50 + (seed % 50_000));
    }
    assert.equal(histogram.count, 1_000_000);
    const p50 = histogram.valueAtPercentileUs(50);
    assert.ok(Math.abs(p50 - 25_050) < 25_050 * 0.01, `p50 ${p50}, want about 25050`);
  });
});
