/**
 * What `berth bench` prints: the figures of a run as one object (the `--json` shape) and as text
 * for people. Pure: counters in, text out.
 */
import type { LatencyHistogram } from "./histogram.js";

/** Why a request got no response. Each request sent ends exactly once: a response (counted by
 * status) or one of these. */
export type BenchErrorKind = "connect" | "reset" | "timeout" | "parse";
export const BENCH_ERROR_KINDS: readonly BenchErrorKind[] = [
  "connect",
  "reset",
  "timeout",
  "parse",
];

export type ErrorCounts = Record<BenchErrorKind, number>;

export function createErrorCounts(): ErrorCounts {
  return { connect: 0, reset: 0, timeout: 0, parse: 0 };
}

/** What the load loop measured. */
export interface HttpLoadMeasurements {
  /** Responses received (any status). */
  readonly responses: number;
  readonly durationMs: number;
  /** Every byte read from the server: heads, bodies, framing. */
  readonly bytesRead: number;
  /** Latency of each response, in µs. */
  readonly histogram: LatencyHistogram;
  /** Responses per status code. */
  readonly statusCounts: ReadonlyMap<number, number>;
  readonly errors: ErrorCounts;
}

/** The `--json` object, exactly. */
export interface HttpBenchSummary {
  readonly requests: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly bytesPerSecond: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly p999: number;
    readonly max: number;
  };
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly errors: ErrorCounts;
}

/** `requests` counts responses: requests that failed are in `errors` (wrk counts the same way). */
export function summarizeHttpLoad(measured: HttpLoadMeasurements): HttpBenchSummary {
  const seconds = measured.durationMs / 1000;
  const perSecond = (count: number): number => (seconds > 0 ? count / seconds : 0);
  const { histogram } = measured;
  const ms = (us: number): number => roundTo(us / 1000, 3);
  const statusCounts: Record<string, number> = {};
  for (const status of [...measured.statusCounts.keys()].sort((a, b) => a - b)) {
    statusCounts[String(status)] = measured.statusCounts.get(status) ?? 0;
  }
  return {
    requests: measured.responses,
    durationMs: roundTo(measured.durationMs, 3),
    requestsPerSecond: roundTo(perSecond(measured.responses), 1),
    bytesPerSecond: Math.round(perSecond(measured.bytesRead)),
    latencyMs: {
      p50: ms(histogram.valueAtPercentileUs(50)),
      p90: ms(histogram.valueAtPercentileUs(90)),
      p99: ms(histogram.valueAtPercentileUs(99)),
      p999: ms(histogram.valueAtPercentileUs(99.9)),
      max: ms(histogram.maxUs),
    },
    statusCounts,
    errors: { ...measured.errors },
  };
}

/** How the run was set up, for the first line of the text summary. */
export interface HttpRunDescription {
  readonly urls: readonly string[];
  readonly connections: number;
  readonly pipeline: number;
  readonly close: boolean;
  /** "10 s" or "1000 requests". */
  readonly length: string;
  readonly ratePerSecond: number | null;
}

/**
 * berth bench http://127.0.0.1:8080/: 4 connections, pipeline 8, 10 s
 *   requests/s   41,234.5   (412,345 responses in 10.00 s)
 *   ...
 */
export function formatHttpSummary(summary: HttpBenchSummary, run: HttpRunDescription): string {
  const setup = [
    `${run.connections} connection${run.connections === 1 ? "" : "s"}`,
    run.close ? "a new connection per request" : `pipeline ${run.pipeline}`,
    run.length,
  ];
  if (run.ratePerSecond !== null) setup.push(`rate ${formatCount(run.ratePerSecond)} req/s`);
  const [first = "", ...more] = run.urls;
  const target =
    more.length === 0
      ? first
      : `${first} and ${more.length} more URL${more.length === 1 ? "" : "s"} in rotation`;
  const { latencyMs: latency } = summary;
  const statuses = Object.entries(summary.statusCounts)
    .map(([status, count]) => `${status}: ${formatCount(count)}`)
    .join("  ");
  const errors = BENCH_ERROR_KINDS.map(
    (kind) => `${kind} ${formatCount(summary.errors[kind])}`,
  ).join("  ");
  const lines = [
    `berth bench ${target}: ${setup.join(", ")}`,
    `  requests/s    ${formatRate(summary.requestsPerSecond)}   (${formatCount(summary.requests)} responses in ${(summary.durationMs / 1000).toFixed(2)} s)`,
    `  transfer/s    ${formatBytes(summary.bytesPerSecond)}/s`,
    `  latency       p50 ${formatMs(latency.p50)}   p90 ${formatMs(latency.p90)}   p99 ${formatMs(latency.p99)}   p99.9 ${formatMs(latency.p999)}   max ${formatMs(latency.max)}`,
    `  status        ${statuses === "" ? "none" : statuses}`,
    `  errors        ${errors}`,
  ];
  if (run.ratePerSecond !== null) {
    lines.push("  (latency measured from each request's scheduled send time)");
  }
  return lines.join("\n");
}

/** One row of the Nagle lab: the `--json` shape. */
export interface NagleRow {
  readonly mode: NagleMode;
  readonly nodelay: boolean;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** write-write-read: a frame's header and payload in two writes, then wait for the echo.
 * single-write: the same frame in one write. */
export type NagleMode = "write-write-read" | "single-write";

export function createNagleRow(
  mode: NagleMode,
  nodelay: boolean,
  histogram: LatencyHistogram,
): NagleRow {
  const ms = (us: number): number => roundTo(us / 1000, 3);
  return {
    mode,
    nodelay,
    p50Ms: ms(histogram.valueAtPercentileUs(50)),
    p99Ms: ms(histogram.valueAtPercentileUs(99)),
    maxMs: ms(histogram.maxUs),
  };
}

/**
 * mode               TCP_NODELAY    p50 ms    p99 ms    max ms
 * write-write-read   off             43.98     44.25     44.31
 */
export function formatNagleTable(rows: readonly NagleRow[]): string {
  const header = ["mode", "TCP_NODELAY", "p50 ms", "p99 ms", "max ms"];
  const cells = rows.map((row) => [
    row.mode,
    row.nodelay ? "on" : "off",
    row.p50Ms.toFixed(2),
    row.p99Ms.toFixed(2),
    row.maxMs.toFixed(2),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => (row[column] ?? "").length)),
  );
  const format = (row: readonly string[]): string =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        // Text columns left-aligned, numbers right-aligned.
        return column < 2 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join("   ")
      .trimEnd();
  return [format(header), ...cells.map(format)].join("\n");
}

/** 41234.5 → "41,234.5"; 7 → "7.0". */
export function formatRate(perSecond: number): string {
  const [whole = "0", fraction = "0"] = perSecond.toFixed(1).split(".");
  return `${groupThousands(whole)}.${fraction}`;
}

/** 412345 → "412,345"; 2.5 → "2.5". */
export function formatCount(count: number): string {
  const [whole = "0", fraction] = String(Math.round(count * 10) / 10).split(".");
  return fraction === undefined ? groupThousands(whole) : `${groupThousands(whole)}.${fraction}`;
}

/** "1234567" → "1,234,567". By hand: toLocaleString would load ICU data (~50 ms) at exit. */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+$)/g, ",");
}

/** Binary units: "512 B", "1.50 KiB", "12.34 MiB", "1.02 GiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(2)} ${units[unit]}`;
}

/** Milliseconds with µs precision below 1 ms, 0.01 ms above: "0.742 ms", "43.98 ms". */
export function formatMs(ms: number): string {
  return `${ms < 1 ? ms.toFixed(3) : ms.toFixed(2)} ms`;
}

function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
