#!/usr/bin/env node
// Accuracy check for `berth bench http`: on the same server and settings, its req/s must be within
// 15% of wrk's (issue #7). Starts `berth serve` on a temporary directory (or uses --url), then
// runs wrk and `berth bench http` in turns with the same connections, duration and pipelining,
// each client pinned to CPU 1 and the server to CPU 0 (taskset, when there are 2+ CPUs), and
// prints both req/s side by side, the ratio of each pair of runs (back to back, in alternating
// order, so load from elsewhere weighs on both alike) and its median, and each client's CPU time
// per response (which says how many req/s it could drive on one core of its own, whatever the
// server does).
//
//   npm run build && node bench/bench-vs-wrk.mjs [--connections 10] [--duration 5] [--pipeline 1]
//                                                 [--runs 5] [--url http://127.0.0.1:8080/]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(REPO, "dist", "cli", "main.js");
/** The tolerance of issue #7. */
const MAX_DEVIATION = 0.15;

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "10" },
    duration: { type: "string", default: "5" },
    pipeline: { type: "string", default: "1" },
    runs: { type: "string", default: "5" },
    url: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), "utf8")
      .split("\n")
      .slice(1, 12)
      .join("\n"),
  );
  process.exit(0);
}
const connections = Number(values.connections);
const durationS = Number(values.duration);
const pipeline = Number(values.pipeline);
const runs = Number(values.runs);

if (!existsSync(CLI)) fail("dist/cli/main.js is missing: run npm run build first");
if (!hasCommand("wrk")) fail("wrk is not installed (apt-get install -y wrk)");
const pinned = hasCommand("taskset") && availableParallelism() >= 2;
const timed = existsSync("/usr/bin/time");
const pin = (cpu, argv) => (pinned ? ["taskset", "-c", String(cpu), ...argv] : argv);

const work = mkdtempSync(join(tmpdir(), "berth-bench-vs-wrk-"));
let server = null;
try {
  let url = values.url;
  if (url === undefined) {
    // 1 KiB: a small page, so the figure is about requests, not bytes.
    writeFileSync(join(work, "index.html"), `<!doctype html><p>${"x".repeat(1000)}</p>\n`);
    const port = await freePort();
    // taskset execs the command: the child is berth itself, and SIGTERM reaches it.
    const command = pin(0, [
      process.execPath,
      CLI,
      "serve",
      work,
      "--listen",
      `127.0.0.1:${port}`,
      "--quiet",
    ]);
    server = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
    await waitForLine(server, /^berth: serving /m);
    url = `http://127.0.0.1:${port}/index.html`;
  }
  const luaPath = join(work, "pipeline.lua");
  writeFileSync(
    luaPath,
    [
      "init = function(args)",
      "  local r = {}",
      "  for i = 1, tonumber(args[1]) do r[i] = wrk.format() end",
      "  req = table.concat(r)",
      "end",
      "request = function() return req end",
      "",
    ].join("\n"),
  );

  console.log(
    `${url}: ${connections} connections, ${durationS} s, pipeline ${pipeline}, ${runs} runs; ` +
      `Node ${process.version}, ${availableParallelism()} CPUs, ` +
      (pinned ? "server on CPU 0, clients on CPU 1" : "not pinned (taskset missing or 1 CPU)"),
  );
  // What starting node and loading berth costs, so the CPU per response is the run's alone.
  const startupCpuS = median(
    [1, 2, 3].map(
      () =>
        runClient([process.execPath, CLI, "bench", "http", url, "-n", "1", "--json"]).cpuS ??
        Number.NaN,
    ),
  );
  console.log(
    `berth bench start-up: ${Number.isFinite(startupCpuS) ? `${(startupCpuS * 1000).toFixed(0)} ms of CPU, left out of its CPU per response` : "not measured (no /usr/bin/time)"}`,
  );
  console.log("run   wrk req/s   berth req/s   berth/wrk   wrk µs CPU/resp   berth µs CPU/resp");
  const rows = [];
  for (let run = 1; run <= runs; run++) {
    const wrkArgs = ["wrk", "-t1", `-c${connections}`, `-d${durationS}s`];
    if (pipeline > 1) wrkArgs.push("-s", luaPath, url, "--", String(pipeline));
    else wrkArgs.push(url);
    const berthArgs = [
      process.execPath,
      CLI,
      "bench",
      "http",
      url,
      "-c",
      String(connections),
      "-d",
      `${durationS}s`,
      "--pipeline",
      String(pipeline),
      "--json",
    ];
    // Each pair runs back to back, in alternating order, so that whatever else the machine is
    // doing weighs on both clients alike; the verdict uses the median of the pairs' ratios.
    let wrk;
    let berth;
    if (run % 2 === 1) {
      wrk = runClient(wrkArgs);
      berth = runClient(berthArgs);
    } else {
      berth = runClient(berthArgs);
      wrk = runClient(wrkArgs);
    }
    const wrkRps = Number(/^Requests\/sec:\s+([\d.]+)/m.exec(wrk.stdout)?.[1]);
    const wrkResponses = Number(/^\s*(\d+) requests in/m.exec(wrk.stdout)?.[1]);
    const summary = JSON.parse(berth.stdout);
    if (!(wrkRps > 0) || summary.requests === 0)
      fail(`a client measured nothing:\n${wrk.stdout}\n${berth.stdout}`);
    const errors = Object.values(summary.errors).reduce((a, b) => a + b, 0);
    const row = {
      wrkRps,
      berthRps: summary.requestsPerSecond,
      wrkCpuUs: wrk.cpuS === null ? null : (wrk.cpuS * 1e6) / wrkResponses,
      berthCpuUs:
        berth.cpuS === null
          ? null
          : (Math.max(0, berth.cpuS - startupCpuS) * 1e6) / summary.requests,
      errors,
    };
    rows.push(row);
    console.log(
      `${String(run).padStart(3)}   ${fmt(row.wrkRps).padStart(9)}   ${fmt(row.berthRps).padStart(11)}   ` +
        `${(row.berthRps / row.wrkRps).toFixed(3).padStart(9)}   ${fmtUs(row.wrkCpuUs).padStart(15)}   ` +
        `${fmtUs(row.berthCpuUs).padStart(17)}${errors > 0 ? `   (${errors} errors)` : ""}`,
    );
  }
  const wrkMedian = median(rows.map((row) => row.wrkRps));
  const berthMedian = median(rows.map((row) => row.berthRps));
  const ratio = median(rows.map((row) => row.berthRps / row.wrkRps));
  const berthCpuUs = median(rows.map((row) => row.berthCpuUs ?? Number.NaN));
  console.log(
    `median   ${fmt(wrkMedian).padStart(7)}   ${fmt(berthMedian).padStart(11)}   ${ratio.toFixed(3).padStart(9)}   ` +
      `${fmtUs(median(rows.map((row) => row.wrkCpuUs ?? Number.NaN))).padStart(15)}   ${fmtUs(berthCpuUs).padStart(17)}`,
  );
  const within = Math.abs(ratio - 1) <= MAX_DEVIATION;
  console.log(
    `berth bench / wrk (median of the ${runs} pairs) = ${ratio.toFixed(3)}: ${within ? "within" : "NOT within"} ${MAX_DEVIATION * 100}% of wrk` +
      (Number.isFinite(berthCpuUs)
        ? `; berth bench used ${berthCpuUs.toFixed(1)} µs of CPU per response (≈ ${fmt(1e6 / berthCpuUs)} req/s on a core of its own)`
        : ""),
  );
  process.exitCode = within ? 0 : 1;
} finally {
  server?.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}

/** Runs a client pinned to CPU 1; its stdout and, with /usr/bin/time, its CPU seconds. */
function runClient(argv) {
  const timeFile = join(work, "time.txt");
  const command = pin(1, timed ? ["/usr/bin/time", "-f", "%U %S", "-o", timeFile, ...argv] : argv);
  const result = spawnSync(command[0], command.slice(1), { encoding: "utf8", maxBuffer: 1 << 24 });
  if (result.status !== 0)
    fail(`${argv.join(" ")} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  let cpuS = null;
  if (timed) {
    const [user, system] = readFileSync(timeFile, "utf8").trim().split(/\s+/).map(Number);
    cpuS = user + system;
  }
  return { stdout: result.stdout, cpuS };
}

function hasCommand(name) {
  return spawnSync("sh", ["-c", `command -v ${name}`]).status === 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function waitForLine(child, pattern) {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 10_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text) => {
      out += text;
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

function median(numbers) {
  const sorted = numbers.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function fmt(perSecond) {
  return Math.round(perSecond).toLocaleString("en-US");
}

function fmtUs(us) {
  return us === null || !Number.isFinite(us) ? "-" : us.toFixed(1);
}

function fail(message) {
  console.error(`bench-vs-wrk: ${message}`);
  server?.kill("SIGTERM");
  process.exit(1);
}
