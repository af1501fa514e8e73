/**
 * What `berth bench` prints: the --json object computed from the counters, the text summary and
 * the Nagle table, and the number formats they use.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LatencyHistogram } from "../../src/bench/histogram.js";
import {
  createNagleRow,
  formatBytes,
  formatCount,
  formatHttpSummary,
  formatMs,
  formatNagleTable,
  formatRate,
  summarizeHttpLoad,
} from "../../src/bench/summary.js";

function histogramOf(valuesUs: readonly number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const value of valuesUs) histogram.record(value);
  return histogram;
}

describe("summarizeHttpLoad", () => {
  test("rates per second, latency in ms, statuses in order", () => {
    const summary = summarizeHttpLoad({
      responses: 1000,
      durationMs: 2000,
      bytesRead: 300_000,
      histogram: histogramOf(Array.from({ length: 1000 }, (_, i) => i + 1)),
      statusCounts: new Map([
        [404, 10],
        [200, 990],
      ]),
      errors: { connect: 1, reset: 2, timeout: 3, parse: 4 },
    });
    assert.deepEqual(summary, {
      requests: 1000,
      durationMs: 2000,
      requestsPerSecond: 500,
      bytesPerSecond: 150_000,
      latencyMs: { p50: 0.5, p90: 0.9, p99: 0.99, p999: 0.999, max: 1 },
      statusCounts: { 200: 990, 404: 10 },
      errors: { connect: 1, reset: 2, timeout: 3, parse: 4 },
    });
    assert.deepEqual(Object.keys(summary.statusCounts), ["200", "404"]);
  });

  test("an empty run has zeros, not NaN", () => {
    const summary = summarizeHttpLoad({
      responses: 0,
      durationMs: 0,
      bytesRead: 0,
      histogram: new LatencyHistogram(),
      statusCounts: new Map(),
      errors: { connect: 3, reset: 0, timeout: 0, parse: 0 },
    });
    assert.deepEqual(
      [
        summary.requestsPerSecond,
        summary.bytesPerSecond,
        summary.latencyMs.p50,
        summary.latencyMs.max,
      ],
      [0, 0, 0, 0],
    );
  });
});

describe("formatHttpSummary", () => {
  const summary = summarizeHttpLoad({
    responses: 412_345,
    durationMs: 10_000,
    bytesRead: 123_456_789,
    histogram: histogramOf([742, 1103, 2310, 4020, 12_500]),
    statusCounts: new Map([[200, 412_345]]),
    errors: { connect: 0, reset: 0, timeout: 0, parse: 0 },
  });

  test("one line per figure", () => {
    const text = formatHttpSummary(summary, {
      urls: ["http://127.0.0.1:8080/"],
      connections: 4,
      pipeline: 8,
      close: false,
      length: "10 s",
      ratePerSecond: null,
    });
    assert.equal(
      text,
      [
        "berth bench http://127.0.0.1:8080/: 4 connections, pipeline 8, 10 s",
        "  requests/s    41,234.5   (412,345 responses in 10.00 s)",
        "  transfer/s    11.77 MiB/s",
        "  latency       p50 2.31 ms   p90 12.50 ms   p99 12.50 ms   p99.9 12.50 ms   max 12.50 ms",
        "  status        200: 412,345",
        "  errors        connect 0  reset 0  timeout 0  parse 0",
      ].join("\n"),
    );
  });

  test("--close, --rate and several URLs are named", () => {
    const text = formatHttpSummary(summary, {
      urls: ["http://h/a", "http://h/b", "http://h/c"],
      connections: 1,
      pipeline: 1,
      close: true,
      length: "1,000 requests",
      ratePerSecond: 5000,
    });
    const lines = text.split("\n");
    assert.equal(
      lines[0],
      "berth bench http://h/a and 2 more URLs in rotation: 1 connection, a new connection per request, 1,000 requests, rate 5,000 req/s",
    );
    assert.equal(lines.at(-1), "  (latency measured from each request's scheduled send time)");
  });
});

describe("formatNagleTable", () => {
  test("aligned columns, numbers right-aligned", () => {
    const rows = [
      createNagleRow("write-write-read", false, histogramOf([43_980, 44_250, 44_310])),
      createNagleRow("write-write-read", true, histogramOf([100, 640])),
      createNagleRow("single-write", false, histogramOf([70])),
    ];
    // 44,250 µs lies in a 32 µs slot (44,224..44,255): p50 is that slot's highest value.
    assert.deepEqual(rows[0], {
      mode: "write-write-read",
      nodelay: false,
      p50Ms: 44.255,
      p99Ms: 44.31,
      maxMs: 44.31,
    });
    assert.equal(
      formatNagleTable(rows),
      [
        "mode               TCP_NODELAY   p50 ms   p99 ms   max ms",
        "write-write-read   off            44.26    44.31    44.31",
        "write-write-read   on              0.10     0.64     0.64",
        "single-write       off             0.07     0.07     0.07",
      ].join("\n"),
    );
  });
});

describe("number formats", () => {
  // biome-ignore format: one row per line
  const bytes: readonly (readonly [number, string])[] = [[0, "0 B"], [1023, "1023 B"], [1024, "1.00 KiB"], [1536, "1.50 KiB"], [12_939_428, "12.34 MiB"], [1.1e9, "1.02 GiB"]];
  for (const [value, want] of bytes) {
    test(`formatBytes(${value}) = ${want}`, () => assert.equal(formatBytes(value), want));
  }
  // biome-ignore format: one row per line
  const counts: readonly (readonly [number, string, string])[] = [[0, "0", "0.0"], [7, "7", "7.0"], [999, "999", "999.0"], [1000, "1,000", "1,000.0"], [41_234.56, "41,234.6", "41,234.6"], [1_234_567, "1,234,567", "1,234,567.0"]];
  for (const [value, count, rate] of counts) {
    test(`formatCount(${value}) = ${count}, formatRate(${value}) = ${rate}`, () => {
      assert.deepEqual([formatCount(value), formatRate(value)], [count, rate]);
    });
  }
  // biome-ignore format: one row per line
  const ms: readonly (readonly [number, string])[] = [[0.742, "0.742 ms"], [0.05, "0.050 ms"], [1, "1.00 ms"], [43.981, "43.98 ms"]];
  for (const [value, want] of ms) {
    test(`formatMs(${value}) = ${want}`, () => assert.equal(formatMs(value), want));
  }
});
