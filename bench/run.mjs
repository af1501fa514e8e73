// `npm run bench`: berth side by side with nginx, a node:http + send server and Caddy, on the
// workloads of issue #8, each server pinned to CPU 0 and wrk to CPU 1. Build first (npm run build).
//
//   node bench/run.mjs                  full run (3 runs × 5 s), writes bench/RESULTS.md
//   node bench/run.mjs --quick          3 runs × 1 s, (h) once with 1,000 connections; stdout only
//   node bench/run.mjs --only a,c --peers berth,nginx --runs 5 --duration 10 --out FILE
//   node bench/run.mjs --workers 2      also a scaling table (if berth serve has --workers)
//
// Phases: install missing tools → write the served files → start every server → check each
// server's answers on each workload (a failing server is excluded from that workload) → warm up
// → for each run, for each workload, for each server: one wrk run → (h) on fresh servers → report.
//
// Every server is started on 127.0.0.1 only, in its own process group, and killed on exit or
// Ctrl-C; the served files live in a temporary directory that is removed on exit. wrk and nginx
// are installed with apt-get when missing (and Caddy tried), through sudo unless run as root.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  describeSample,
  liveHelpers,
  measureIdleConnections,
  measureWorkload,
} from "./lib/measure.mjs";
import { describeCpuClock } from "./lib/proc.mjs";
import { formatReport } from "./lib/report.mjs";
import { definePeersForScaling, killAllServers, PEERS, stopServer } from "./lib/servers.mjs";
import {
  describeEnvironment,
  ensureTools,
  raiseOpenFileLimit,
  readLoadAverage,
  WANTED_OPEN_FILES,
  writeFixtures,
} from "./lib/setup.mjs";
import { checkWorkload, describeLoad, fetchEtag, WORKLOADS } from "./lib/workloads.mjs";
import { liveWrks, runWrk, writeWrkScripts } from "./lib/wrk.mjs";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(BENCH_DIR, "..");
const BERTH_CLI = join(REPO_ROOT, "dist", "cli", "main.js");
const DEFAULT_OUT = join(BENCH_DIR, "RESULTS.md");
const MiB = 1024 * 1024;

/**
 * The two modes. Quick keeps 3 runs (a median needs them) but 1 s each, no warm-up, and (h)
 * once with fewer connections, so that the whole run stays under 2 minutes on 2 CPUs.
 */
const FULL = { runs: 3, durationS: 5, idleConnections: 10_000, warmupS: 2, memoryEveryRun: true };
const QUICK = { runs: 3, durationS: 1, idleConnections: 1_000, warmupS: 0, memoryEveryRun: false };
/** Descriptors a process needs besides the held connections. */
const RESERVED_FDS = 500;
/** A process using this share of its CPU during a run was the one setting the pace. */
const CPU_BUSY_SHARE = 0.8;

const USAGE = `Usage: node bench/run.mjs [options]   (npm run bench -- [options])

  --quick               ${QUICK.runs} runs × ${QUICK.durationS} s, no warm-up, (h) once with ${QUICK.idleConnections} connections;
                        prints the report, writes no file unless --out is given
  --only LIST           workloads to run, e.g. a,c,h (default: a,b,c,d,e,f,g,h)
  --peers LIST          servers, e.g. berth,nginx (default: ${PEERS.map((peer) => peer.name).join(",")})
  --runs N              runs per figure; each figure is their median (default ${FULL.runs})
  --duration S          seconds per wrk run (default ${FULL.durationS})
  --idle-connections N  connections held idle for (h) (default ${FULL.idleConnections})
  --workers N           also berth serve --workers N (when berth has the flag) and nginx with N
                        workers, on every CPU, for a scaling table
  --out FILE            where to write the report (default: bench/RESULTS.md for a full run of
                        every workload and server; otherwise the report is only printed)
  -h, --help            this help`;

const startedMs = Date.now();
let workDir = null;

function log(message) {
  const elapsedS = ((Date.now() - startedMs) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`bench ${elapsedS}s: ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(1);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        peers: { type: "string" },
        runs: { type: "string" },
        duration: { type: "string" },
        "idle-connections": { type: "string" },
        workers: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    fail(`${error.message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const mode = values.quick ? QUICK : FULL;
  const workloadIds = parseList(
    values.only,
    WORKLOADS.map((workload) => workload.id),
    "--only",
  );
  const peerNames = parseList(
    values.peers,
    PEERS.map((peer) => peer.name),
    "--peers",
  );
  // Only a full run of everything replaces bench/RESULTS.md unasked.
  const complete = !values.quick && values.only === undefined && values.peers === undefined;
  let out = null;
  if (values.out !== undefined) out = resolve(values.out);
  else if (complete) out = DEFAULT_OUT;
  const workers =
    values.workers === undefined ? null : parsePositive(values.workers, 0, "--workers");
  if (workers === 1) fail("--workers must be at least 2 (berth itself is the 1-process row)");
  return {
    workloads: WORKLOADS.filter((workload) => workloadIds.includes(workload.id)),
    peerNames,
    runs: parsePositive(values.runs, mode.runs, "--runs"),
    durationS: parsePositive(values.duration, mode.durationS, "--duration"),
    idleConnections: parsePositive(
      values["idle-connections"],
      mode.idleConnections,
      "--idle-connections",
    ),
    workers,
    warmupS: mode.warmupS,
    memoryEveryRun: mode.memoryEveryRun,
    out,
  };
}

function parseList(text, known, flag) {
  if (text === undefined) return known;
  const items = text.split(",").map((item) => item.trim());
  for (const item of items) {
    if (!known.includes(item)) fail(`${flag}: unknown "${item}" (known: ${known.join(", ")})`);
  }
  return items;
}

function parsePositive(text, fallback, flag) {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) fail(`${flag} must be a positive integer`);
  return value;
}

/** Every server group, helper process and the temporary directory go, however we exit. */
function registerCleanup() {
  process.on("exit", () => {
    killAllServers();
    for (const child of [...liveHelpers, ...liveWrks]) child.kill("SIGKILL");
    if (workDir !== null) rmSync(workDir, { recursive: true, force: true });
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      log(`${signal}: stopping every server`);
      process.exit(130);
    });
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const options = parseOptions();
  registerCleanup();
  const notes = [];
  const note = (message) => {
    notes.push(message);
    log(message);
  };
  if (!existsSync(BERTH_CLI))
    fail(`${relative(process.cwd(), BERTH_CLI)} is missing: npm run build`);
  const loadAtStart = readLoadAverage();

  const cpus = pinCpus(note);
  const limits = raiseLimits(options, note);
  const tools = installTools(options, note);
  const peers = choosePeers(options, tools, note);

  workDir = mkdtempSync(join(tmpdir(), "berth-bench-"));
  chmodSync(workDir, 0o755); // nginx's workers run as nobody when it starts as root
  const rootDir = join(workDir, "www");
  mkdirSync(rootDir, { mode: 0o755 });
  const withBigFile = options.workloads.some((workload) => workload.id === "f");
  log(`writing the served files into ${rootDir}${withBigFile ? " (256 MiB included)" : ""}`);
  const fixtures = writeFixtures(rootDir, { withBigFile });
  const context = {
    berthCli: BERTH_CLI,
    benchDir: BENCH_DIR,
    rootDir,
    workDir,
    tools,
    openFiles: limits.openFiles,
    serverCpus: cpus.server,
    allCpus: cpus.all,
    makeDir: (path) => mkdirSync(path, { recursive: true, mode: 0o755 }),
  };
  const measureContext = {
    fixtures,
    durationS: options.durationS,
    scriptFor: writeWrkScripts(workDir),
    clientCpus: cpus.client,
    note,
  };

  const servers = await startServers(peers, context, note);
  const running = peers.filter((peer) => servers.has(peer.name));
  const { peerState, excluded } = await checkServers(running, servers, options, fixtures, note);
  const timed = options.workloads.filter((workload) => workload.kind !== "memory");
  const eligible = (peer, workload) =>
    runsOn(peer, workload) && excluded[workload.id]?.[peer.name] === undefined;

  if (options.warmupS > 0) {
    log(`warming up each server with ${options.warmupS} s of (a)`);
    for (const peer of running) {
      if (!eligible(peer, WORKLOADS[0])) continue;
      await runWrk({
        port: servers.get(peer.name).port,
        load: describeLoad(WORKLOADS[0], fixtures, null),
        durationS: options.warmupS,
        scriptFor: measureContext.scriptFor,
        taskset: cpus.client,
      }).catch((error) => note(`warm-up of ${peer.name} failed: ${error.message}`));
    }
  }

  const samples = {};
  const memory = {};
  const measuresMemory = options.workloads.some((workload) => workload.kind === "memory");
  for (let run = 0; run < options.runs; run++) {
    const label = `run ${run + 1}/${options.runs}`;
    // Rotate the order of the servers each run, so that none always follows the same one.
    const order = rotate(running, run);
    for (const workload of timed) {
      for (const peer of order) {
        if (!eligible(peer, workload)) continue;
        const state = peerState.get(peer.name);
        const server = servers.get(peer.name);
        const sample = await measureWorkload(server, workload, state, measureContext);
        samples[workload.id] ??= {};
        samples[workload.id][peer.name] ??= [];
        samples[workload.id][peer.name][run] = sample;
        log(`${label} (${workload.id}) ${peer.name}: ${describeSample(sample)}`);
      }
    }
    if (!measuresMemory || !(options.memoryEveryRun || run === options.runs - 1)) continue;
    for (const peer of order) {
      // (h) is about berth and its single-process peers; nginx-nopush only differs on (c).
      if (peer.scaling || peer.workloads !== undefined) continue;
      const reading = await measureOnFreshServer(peer, context, fixtures, limits, measureContext);
      if (reading === null) continue;
      memory[peer.name] ??= [];
      memory[peer.name].push(reading);
      log(
        `${label} (h) ${peer.name}: ${(reading.idleBytes / MiB).toFixed(1)} MiB idle, ` +
          `${reading.kibPerConnection.toFixed(1)} KiB per idle connection (${reading.held} held)`,
      );
    }
  }

  for (const peer of running) await stopServer(servers.get(peer.name));
  noteContention(samples, note);

  const elapsedS = Math.round((Date.now() - startedMs) / 1000);
  const argv = process.argv.slice(2).join(" ");
  const report = formatReport({
    commandLine: `node bench/run.mjs${argv ? ` ${argv}` : ""}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    environment: [
      ...describeEnvironment(tools, REPO_ROOT, cpus.count),
      ["Load average (1, 5, 15 min) at the start", loadAtStart],
      ["Load average (1, 5, 15 min) at the end", readLoadAverage()],
      ["Open-file limit", String(limits.openFiles)],
      ["Wall time of this run", `${elapsedS} s`],
    ],
    cpuCount: cpus.count,
    pinned: cpus.pinned,
    cpuClock: describeCpuClock(process.pid),
    runs: options.runs,
    durationS: options.durationS,
    idleConnections: limits.idleConnections,
    memoryEveryRun: options.memoryEveryRun,
    workloads: options.workloads,
    peers: running,
    scalingPeers: running.filter((peer) => peer.scaling),
    samples,
    memory,
    excluded,
    notes,
  });
  process.stdout.write(`${report}\n`);
  if (options.out === null) {
    log(`done in ${elapsedS} s (no file written; --out FILE keeps the report)`);
  } else {
    writeFileSync(options.out, report);
    log(`wrote ${relative(process.cwd(), options.out)} in ${elapsedS} s`);
  }
}

/** Servers on CPU 0, wrk and our helpers on CPU 1, multi-process servers on every CPU. */
function pinCpus(note) {
  const count = availableParallelism();
  const pinned = count >= 2;
  if (pinned) {
    // This process's timers and /proc reads stay off the servers' CPU too.
    spawnSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  } else {
    note("fewer than 2 CPUs: servers and wrk are not pinned and share the CPU");
  }
  return {
    count,
    pinned,
    server: pinned ? ["taskset", "-c", "0"] : [],
    client: pinned ? ["taskset", "-c", "1"] : [],
    all: pinned ? ["taskset", "-c", `0-${count - 1}`] : [],
  };
}

/** The open-file limit every child inherits, and how many idle connections (h) can hold. */
function raiseLimits(options, note) {
  const openFiles = raiseOpenFileLimit();
  if (openFiles < WANTED_OPEN_FILES) {
    log(`open-file limit is ${openFiles} (could not raise it to ${WANTED_OPEN_FILES})`);
  }
  let idleConnections = options.idleConnections;
  if (openFiles - RESERVED_FDS < idleConnections) {
    idleConnections = Math.max(1, openFiles - RESERVED_FDS);
    note(
      `(h) holds ${idleConnections} connections: the open-file limit (${openFiles}) allows no more`,
    );
  }
  return { openFiles, idleConnections };
}

function installTools(options, note) {
  const wanted = { wrk: { packageName: "wrk", required: true } };
  const wantsNginx = options.peerNames.some((name) => name.startsWith("nginx"));
  if (wantsNginx || options.workers !== null)
    wanted.nginx = { packageName: "nginx", required: true };
  if (options.peerNames.includes("caddy")) wanted.caddy = { packageName: "caddy", required: false };
  try {
    const { tools, notes } = ensureTools(wanted, log);
    for (const message of notes) note(message);
    return tools;
  } catch (error) {
    fail(error.message);
  }
}

function choosePeers(options, tools, note) {
  const selected = (peer) =>
    options.peerNames.includes(peer.name) &&
    (peer.workloads === undefined || options.workloads.some((w) => peer.workloads.includes(w.id)));
  let peers = PEERS.filter(selected);
  if (tools.caddy === undefined) peers = peers.filter((peer) => peer.name !== "caddy");
  if (options.workers === null) return peers;
  const help = spawnSync(process.execPath, [BERTH_CLI, "serve", "--help"], { encoding: "utf8" });
  if (!/--workers\b/.test(`${help.stdout}${help.stderr}`)) {
    note(
      `--workers ${options.workers}: berth serve has no --workers flag yet, so no scaling table`,
    );
    return peers;
  }
  // nginx with N workers only means something beside nginx with one.
  const scaling = definePeersForScaling(options.workers).filter(
    (peer) => !peer.name.startsWith("nginx") || options.peerNames.includes("nginx"),
  );
  return [...peers, ...scaling];
}

/** Starts every peer; one that cannot start is left out with a note (berth cannot be). */
async function startServers(peers, context, note) {
  const servers = new Map();
  for (const peer of peers) {
    try {
      const server = await peer.start(context);
      servers.set(peer.name, server);
      log(`started ${peer.name} on 127.0.0.1:${server.port} (pid ${server.pid})`);
    } catch (error) {
      if (peer.name === "berth") fail(error.message);
      note(`${peer.name} did not start, left out: ${error.message}`);
    }
  }
  return servers;
}

/** Each server's ETag and checked response size per workload, or why it is excluded. */
async function checkServers(running, servers, options, fixtures, note) {
  const peerState = new Map();
  const excluded = {};
  for (const peer of running) {
    const { port } = servers.get(peer.name);
    const state = { etag: await fetchEtag(port, fixtures).catch(() => null), responseBytes: {} };
    peerState.set(peer.name, state);
    for (const workload of options.workloads) {
      if (workload.kind === "memory" || !runsOn(peer, workload)) continue;
      const check = await checkWorkload(workload, port, fixtures, state.etag);
      if (check.ok) {
        state.responseBytes[workload.id] = check.responseBytes;
        continue;
      }
      excluded[workload.id] ??= {};
      excluded[workload.id][peer.name] = check.problem;
      note(
        `${peer.name} failed the check of (${workload.id}) and is excluded from it: ${check.problem}`,
      );
    }
  }
  log("every server passed its checks, or is excluded where it failed");
  return { peerState, excluded };
}

/** (h) on a new instance of the peer, stopped afterwards. */
async function measureOnFreshServer(peer, context, fixtures, limits, measureContext) {
  let server;
  try {
    server = await peer.start(context);
  } catch (error) {
    measureContext.note(`(h) ${peer.name} did not start: ${error.message}`);
    return null;
  }
  try {
    // One checked request first, so that the idle figure is of a server that has served.
    const check = await checkWorkload(WORKLOADS[0], server.port, fixtures, null);
    if (!check.ok) {
      measureContext.note(`(h) ${peer.name} failed its check: ${check.problem}`);
      return null;
    }
    return await measureIdleConnections(server, fixtures, limits.idleConnections, measureContext);
  } finally {
    await stopServer(server);
  }
}

/**
 * In a closed loop (every wrk connection waits for its response) either the server or wrk is
 * the bottleneck and keeps its CPU busy. Runs where neither did lost CPU time to other processes
 * on the machine; say how many, since their req/s are low and noisy.
 */
function noteContention(samples, note) {
  let runs = 0;
  let contended = 0;
  for (const byPeer of Object.values(samples)) {
    for (const sample of Object.values(byPeer).flat()) {
      if (!sample?.valid || sample.clientCpuShare === null) continue;
      runs += 1;
      const serverBusy = sample.serverCpuShare >= CPU_BUSY_SHARE;
      const clientBusy = sample.clientCpuShare >= CPU_BUSY_SHARE;
      if (!serverBusy && !clientBusy) contended += 1;
    }
  }
  if (contended === 0) return;
  note(
    `in ${contended} of ${runs} timed runs neither the server nor wrk used ${CPU_BUSY_SHARE * 100}% ` +
      "of its CPU: other processes were taking CPU time, so those req/s figures are low and noisy; " +
      "CPU per request is the sturdier figure",
  );
}

function runsOn(peer, workload) {
  return peer.workloads === undefined || peer.workloads.includes(workload.id);
}

function rotate(list, by) {
  const shift = by % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

main().catch((error) => {
  log(error.stack ?? String(error));
  process.exit(1);
});
