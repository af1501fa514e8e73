// Time and memory of a directory listing page in a huge directory, as a Markdown table:
//
//   npm run build && node bench/listing-figures.mjs                 100,000 entries, 3 runs each
//   node bench/listing-figures.mjs --entries 20000 --runs 5 --keep  (keep the temp directory)
//
// It creates --entries files (names "f-000000.txt"…, 0–99 bytes each, so sizes tie and the name
// breaks the tie) in a temporary directory, then asks planDirectoryListing (dist/, the code the
// server runs) for pages: the first and a middle page of each sort, at the default and the
// maximum limit, and the whole directory read the naive way (readdir + stat of every entry +
// sort) for comparison. Each measurement runs in a fresh child process (node --expose-gc), so
// one run's garbage never counts in the next: time is wall time from the call to the plan;
// memory is the peak, sampled every millisecond, above the child's baseline after a full GC, of
// the JS heap + external memory, and of RSS. The table reports the median time and the largest
// peaks of --runs runs.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(REPO_ROOT, "dist");
const MiB = 1024 * 1024;
/** Memory is sampled this often while a page is produced. */
const SAMPLE_INTERVAL_MS = 1;

const { values: options } = parseArgs({
  options: {
    entries: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
    // Internal: one measurement, in a child process.
    child: { type: "string" },
  },
});

if (options.child !== undefined) {
  await measureInChild(JSON.parse(options.child));
} else {
  await main();
}

async function main() {
  const entries = Number(options.entries);
  const runs = Number(options.runs);
  if (!Number.isInteger(entries) || entries < 2) fail("--entries must be an integer ≥ 2");
  if (!Number.isInteger(runs) || runs < 1) fail("--runs must be a positive integer");
  const { compareSortPoints, sortPointOf } = await import(join(DIST, "files/listing-page.js"));
  const { formatCursor, DEFAULT_LISTING_LIMIT_ENTRIES, MAX_LISTING_LIMIT_ENTRIES } = await import(
    join(DIST, "files/listing-query.js")
  );

  const dir = mkdtempSync(join(tmpdir(), "berth-listing-figures-"));
  try {
    const createStart = performance.now();
    const content = Buffer.alloc(100, 0x61);
    for (let i = 0; i < entries; i++) {
      writeFileSync(join(dir, `f-${String(i).padStart(6, "0")}.txt`), content.subarray(0, i % 100));
    }
    const createMs = performance.now() - createStart;
    process.stderr.write(
      `listing-figures: ${entries} files created in ${Math.round(createMs)} ms\n`,
    );

    // The middle page's cursor, from the full order computed here (not by the code measured).
    const all = readdirSync(dir).map((name) => {
      const stats = statSync(join(dir, name));
      return { name, kind: "file", sizeBytes: stats.size, mtimeMs: stats.mtimeMs };
    });
    const middleAfter = (sort, order) => {
      const sorted = all
        .map((entry) => sortPointOf(entry, sort))
        .sort((a, b) => compareSortPoints(a, b, order));
      return formatCursor(sorted[Math.floor(sorted.length / 2)], sort);
    };

    const scenarios = [];
    for (const limit of [DEFAULT_LISTING_LIMIT_ENTRIES, MAX_LISTING_LIMIT_ENTRIES]) {
      for (const [sort, order] of [
        ["name", "asc"],
        ["size", "desc"],
        ["modified", "desc"],
      ]) {
        for (const page of ["first", "middle"]) {
          const params = new URLSearchParams({ sort, order, limit: String(limit) });
          if (page === "middle") params.set("after", middleAfter(sort, order));
          scenarios.push({
            label: `${page} page, sort=${sort} order=${order} limit=${limit}`,
            kind: "page",
            query: `?${params}`,
          });
        }
      }
    }
    scenarios.push({ label: "naive: readdir + stat all + sort (no page)", kind: "naive" });

    const rows = [];
    for (const scenario of scenarios) {
      const results = [];
      for (let run = 0; run < runs; run++) {
        results.push(runChild({ ...scenario, dir }));
      }
      const times = results.map((r) => r.ms).sort((a, b) => a - b);
      rows.push({
        label: scenario.label,
        ms: times[Math.floor(times.length / 2)],
        heapMiB: Math.max(...results.map((r) => r.peakHeapBytes)) / MiB,
        rssMiB: Math.max(...results.map((r) => r.peakRssBytes)) / MiB,
        entries: results[0].entries,
        bodyBytes: results[0].bodyBytes,
      });
      process.stderr.write(`listing-figures: ${scenario.label}: ${times.map(Math.round)} ms\n`);
    }
    printTable(entries, runs, createMs, dir, rows);
  } finally {
    if (options.keep) process.stderr.write(`listing-figures: kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(scenario) {
  const result = spawnSync(
    process.execPath,
    ["--expose-gc", fileURLToPath(import.meta.url), "--child", JSON.stringify(scenario)],
    { encoding: "utf8", maxBuffer: 16 * MiB },
  );
  if (result.status !== 0) fail(`child failed (${scenario.label}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}

async function measureInChild(scenario) {
  const { createServableRoot } = await import(join(DIST, "files/open-servable.js"));
  const { planDirectoryListing } = await import(join(DIST, "server/plan-listing.js"));
  const root = await createServableRoot(scenario.dir, { dotfiles: "deny", symlinks: "contain" });
  // Warm what every request finds warm in a server: modules, the root, the inode cache.
  if (scenario.kind === "page") {
    await planOnce(planDirectoryListing, root, "?limit=1");
  }
  globalThis.gc();
  const baseline = process.memoryUsage();
  let peakHeap = 0;
  let peakRss = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakHeap = Math.max(
      peakHeap,
      usage.heapUsed + usage.external - baseline.heapUsed - baseline.external,
    );
    peakRss = Math.max(peakRss, usage.rss - baseline.rss);
  };
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
  const start = performance.now();
  let entries;
  let bodyBytes = 0;
  if (scenario.kind === "page") {
    const plan = await planOnce(planDirectoryListing, root, scenario.query);
    const ms = performance.now() - start;
    sample();
    clearInterval(timer);
    if (plan.status !== 200) throw new Error(`status ${plan.status}`);
    bodyBytes = plan.body.length;
    // One row per entry (no parent row at the root).
    entries = plan.body.toString().split("<tr><td>").length - 1;
    process.stdout.write(
      JSON.stringify({ ms, peakHeapBytes: peakHeap, peakRssBytes: peakRss, entries, bodyBytes }),
    );
    return;
  }
  const { readdir, stat } = await import("node:fs/promises");
  const names = await readdir(scenario.dir);
  const stats = [];
  for (let i = 0; i < names.length; i += 32) {
    stats.push(
      ...(await Promise.all(names.slice(i, i + 32).map((n) => stat(join(scenario.dir, n))))),
    );
  }
  const order = names
    .map((name, i) => ({ name, size: stats[i].size }))
    .sort((a, b) => b.size - a.size);
  const ms = performance.now() - start;
  sample();
  clearInterval(timer);
  entries = order.length;
  process.stdout.write(
    JSON.stringify({ ms, peakHeapBytes: peakHeap, peakRssBytes: peakRss, entries, bodyBytes }),
  );
}

function planOnce(planDirectoryListing, root, query) {
  return new Promise((resolve) => {
    planDirectoryListing(
      {
        method: "GET",
        segments: [],
        query,
        accept: null,
        dateLine: "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n",
        root,
        directoryRealPath: root.realRoot,
      },
      resolve,
    );
  });
}

function printTable(entries, runs, createMs, dir, rows) {
  const fsType = spawnSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).stdout.trim();
  const cpu = cpus();
  console.log(
    `${entries.toLocaleString("en")} files in one directory (${fsType}); Node ${process.version}, ` +
      `${cpu.length} × ${cpu[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB; ` +
      `created in ${(createMs / 1000).toFixed(1)} s; median of ${runs} runs, largest peaks.\n`,
  );
  console.log("| request | entries | time | peak heap + external | peak RSS | HTML body |");
  console.log("|---|---|---|---|---|---|");
  for (const row of rows) {
    console.log(
      `| ${row.label} | ${row.entries.toLocaleString("en")} | ${Math.round(row.ms)} ms | ` +
        `${row.heapMiB.toFixed(1)} MiB | ${row.rssMiB.toFixed(1)} MiB | ` +
        `${row.bodyBytes === 0 ? "—" : `${Math.round(row.bodyBytes / 1024)} KiB`} |`,
    );
  }
}

function fail(message) {
  process.stderr.write(`listing-figures: ${message}\n`);
  process.exit(2);
}
