// Measured figures for berth's resource bounds under hostile clients, as a Markdown table:
//
//   node bench/hardening-figures.mjs            (after `npm run build`)
//   node bench/hardening-figures.mjs --json     (the same figures as JSON, for test/load/)
//
// It spawns `berth serve` (so /proc/PID is berth alone) on 127.0.0.1 and measures:
// - RSS of berth with --readers (default 1,000) stalled readers: each GETs a sparse 1 GiB file and
//   never reads past the first bytes (socket.pause()); measured once berth has stopped writing
//   (its CPU time and RSS hold still), as MiB in total and KiB per stalled reader. Kernel socket
//   buffers are not in RSS: they are reported beside it.
// - the time berth takes to drop a slowloris connection (one head byte every 500 ms,
//   --header-timeout-ms 2000): first byte to berth's FIN, the median of --samples (5) connections
//   that run among --slowloris (200) more.
// - berth's open descriptors at baseline and after each fault: --resets (200) connections reset
//   mid-download, the slowloris connections timed out, the stalled readers destroyed (--rounds 2
//   times: the second round also shows whether the first left memory behind).
//
// Every connection goes to 127.0.0.1 and every wait is bounded. On the host loopback each stalled
// reader pins ~4 MiB of kernel socket buffers (loopback's 64 KiB MTU starts every connection with
// a send buffer at tcp_wmem's maximum), so 1,000 of them would need ~4 GiB, past the machine-wide
// tcp_mem limit that every other process's TCP shares. So, as root where `unshare` and `ip` exist
// (--netns auto, the default; --netns on|off to insist), the whole run moves into a private
// network namespace whose loopback has Ethernet's MTU of 1500 and whose socket buffers are capped
// at 256 KiB (tcp_wmem and tcp_rmem are per namespace). What berth holds per reader, one 64 KiB
// chunk at most plus the connection's objects, does not depend on them; its RSS does a little: with
// 4 MiB send buffers each reader's first 4 MiB pass through 64 KiB chunks, garbage that is still
// resident when RSS is read (measured with 200 readers: 247 against 206 KiB per reader).
// Wherever it runs, opening readers stops, with a message, before kernel TCP memory would reach
// half of tcp_mem's pressure threshold, and the reader count is lowered, with a message, when
// `ulimit -n` cannot hold them.
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI_PATH = join(REPO_ROOT, "dist", "cli", "main.js");
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** berth's flags for the run. The send timeout is long so that stalled readers stay stalled
 * while they are measured; the header timeout is the one the slowloris figure is about. */
const HEADER_TIMEOUT_MS = 2000;
const SEND_TIMEOUT_MS = 120_000;
/** One head byte this often: slowloris. */
const SLOWLORIS_BYTE_INTERVAL_MS = 500;
/** The timing samples start this far apart, spread over berth's 250 ms deadline sweep, so that
 * their median is not one sweep phase seen five times. */
const SLOWLORIS_SAMPLE_STAGGER_MS = 50;
/** The sparse file the stalled readers and resets download. */
const BIG_FILE_BYTES = GiB;
/** A reset happens once this much of the body arrived: the response is mid-stream. */
const RESET_AFTER_BYTES = 256 * KiB;
/** Connections are opened this many at a time, below Node's listen backlog of 511. */
const BATCH = 50;
/** Descriptors a process needs besides the connections (stdio, libuv, listeners, slack). */
const RESERVED_FDS = 100;
/** berth has stopped writing when, over this many samples in a row, ... */
const STABLE_SAMPLES = 3;
const SAMPLE_MS = 200;
/** ... its CPU time grew by at most this (clock ticks, 10 ms each) and RSS by at most this. */
const IDLE_CPU_TICKS = 2;
const STABLE_RSS_BYTES = 512 * KiB;
/** Kernel TCP memory (all sockets of the machine) stops the readers at this share of tcp_mem's
 * pressure threshold: above the threshold Linux shrinks every TCP socket's buffers. */
const TCP_MEM_SHARE = 0.5;
/** The longest any single wait may take. */
const WAIT_MS = 20_000;

const { values: options } = parseArgs({
  options: {
    readers: { type: "string", default: "1000" },
    resets: { type: "string", default: "200" },
    slowloris: { type: "string", default: "200" },
    samples: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    json: { type: "boolean", default: false },
    netns: { type: "string", default: "auto" },
  },
});
const wanted = {
  readers: positiveInt("readers"),
  resets: positiveInt("resets"),
  slowloris: positiveInt("slowloris"),
  samples: positiveInt("samples"),
  rounds: positiveInt("rounds"),
};
const notes = [];

function positiveInt(name) {
  const value = Number(options[name]);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a positive integer`);
  return value;
}

function fail(message) {
  process.stderr.write(`hardening-figures: ${message}\n`);
  process.exit(2);
}

function note(message) {
  notes.push(message);
  process.stderr.write(`hardening-figures: ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// A private network namespace (see the top comment).

if (!["auto", "on", "off"].includes(options.netns)) fail("--netns must be auto, on or off");
/** Inside the new namespace: its loopback, up, with Ethernet's MTU. */
const LOOPBACK_SETUP = "ip link set lo mtu 1500 up";
const IN_NETNS = process.env.BERTH_BENCH_NETNS === "1";
if (!IN_NETNS && options.netns !== "off") {
  const usable = canUseNetns();
  if (usable === true) {
    const script = fileURLToPath(import.meta.url);
    const result = spawnSync(
      "unshare",
      [
        "-n",
        "sh",
        "-c",
        // tcp_wmem and tcp_rmem are per namespace: at most 256 KiB of kernel buffer per socket
        // keeps 1,000 stalled readers far below the machine-wide tcp_mem. Where /proc/sys is
        // read-only the defaults stay (the table says which) and the tcp_mem guard still holds.
        `${LOOPBACK_SETUP} && { ` +
          'echo "4096 16384 262144" > /proc/sys/net/ipv4/tcp_wmem; ' +
          'echo "4096 131072 262144" > /proc/sys/net/ipv4/tcp_rmem; } 2>/dev/null; exec "$0" "$@"',
        process.execPath,
        script,
        ...process.argv.slice(2),
      ],
      // tcp_mem is machine-wide, and not visible from inside a network namespace.
      {
        stdio: "inherit",
        env: { ...process.env, BERTH_BENCH_NETNS: "1", BERTH_BENCH_TCP_MEM: readTcpMemLimits() },
      },
    );
    process.exit(result.status ?? 1);
  }
  if (options.netns === "on") fail(`--netns on: ${usable}`);
  note(`host loopback (no private network namespace: ${usable})`);
}

/** true, or why not. */
function canUseNetns() {
  if (process.getuid?.() !== 0) return "not root";
  const probe = spawnSync("unshare", ["-n", "sh", "-c", LOOPBACK_SETUP], { stdio: "ignore" });
  if (probe.error !== undefined || probe.status !== 0) {
    return "`unshare -n` or `ip` unavailable or not permitted";
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// /proc readings.

function openFileLimit() {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(
    readFileSync("/proc/self/limits", "latin1"),
  );
  if (match === null || match[1] === undefined) return null;
  return match[1] === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

function rssBytes(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  return match === null ? 0 : Number(match[1]) * KiB;
}

function fdCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** utime + stime in clock ticks. */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

function readSysctl(name) {
  try {
    return readFileSync(`/proc/sys/net/ipv4/${name}`, "latin1").trim().replace(/\s+/g, " ");
  } catch {
    return "unknown";
  }
}

/** tcp_mem: "min pressure max" in pages, machine-wide. */
function readTcpMemLimits() {
  return (
    process.env.BERTH_BENCH_TCP_MEM ?? readFileSync("/proc/sys/net/ipv4/tcp_mem", "latin1").trim()
  );
}

/** Kernel memory of all TCP sockets of the machine, and tcp_mem's pressure threshold. */
function tcpMemory() {
  const sockstat = readFileSync("/proc/net/sockstat", "latin1");
  const pages = Number(/^TCP: .* mem (\d+)$/m.exec(sockstat)?.[1] ?? 0);
  const limits = readTcpMemLimits().split(/\s+/).map(Number);
  return { usedBytes: pages * 4096, pressureBytes: (limits[1] ?? 0) * 4096 };
}

/** Bytes queued in the kernel for berth's port: sent by berth and not yet taken by the clients
 * (server side: tx_queue), and received by the clients but not read (client side: rx_queue). */
function queuedBytes(port) {
  let serverTx = 0;
  let clientRx = 0;
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5) continue;
      const [tx, rx] = (fields[4] ?? "0:0").split(":").map((hex) => Number.parseInt(hex, 16));
      if (fields[1]?.endsWith(`:${hexPort}`)) serverTx += tx ?? 0;
      else if (fields[2]?.endsWith(`:${hexPort}`)) clientRx += rx ?? 0;
    }
  }
  return { serverTx, clientRx };
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function pollUntil(what, condition, timeoutMs = WAIT_MS) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await delay(20);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

function openSocket(port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {}); // resets are part of the faults
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// berth.

async function startBerth(root) {
  const child = spawn(
    process.execPath,
    [
      CLI_PATH,
      "serve",
      root,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--quiet",
      "--header-timeout-ms",
      String(HEADER_TIMEOUT_MS),
      "--send-timeout-ms",
      String(SEND_TIMEOUT_MS),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  process.on("exit", () => child.kill("SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text) => {
    stdout += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text) => {
    stderr += text;
  });
  const exited = new Promise((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const match = await pollUntil(
    "berth's serving line",
    () => /on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout) ?? child.exitCode !== null,
    5000,
  );
  if (match === true) throw new Error(`berth exited at start: ${stderr}`);
  return {
    pid: child.pid,
    port: Number(match[1]),
    stderr: () => stderr,
    async stop() {
      child.kill("SIGTERM");
      return Promise.race([exited, delay(WAIT_MS).then(() => ({ code: null, signal: "timeout" }))]);
    },
  };
}

/** Waits until berth's open descriptors hold still (closing sockets linger ≤ 2 s). */
async function settledFds(berth) {
  let previous = fdCount(berth.pid);
  let stable = 0;
  const deadline = performance.now() + WAIT_MS;
  while (stable < 5 && performance.now() < deadline) {
    await delay(100);
    const current = fdCount(berth.pid);
    stable = current === previous ? stable + 1 : 0;
    previous = current;
  }
  return previous;
}

/** Waits until berth's fd count is at most `baseline`; returns the count and how long it took. */
async function fdsBackTo(berth, baseline, sinceMs) {
  const deadline = performance.now() + WAIT_MS;
  let count = fdCount(berth.pid);
  while (count > baseline && performance.now() < deadline) {
    await delay(20);
    count = fdCount(berth.pid);
  }
  return { fds: count, afterMs: performance.now() - sinceMs };
}

/** Waits until berth stopped working: CPU time and RSS hold still for STABLE_SAMPLES samples. */
async function quiescentRss(berth) {
  let ticks = cpuTicks(berth.pid);
  let rss = rssBytes(berth.pid);
  let stable = 0;
  const startMs = performance.now();
  while (stable < STABLE_SAMPLES) {
    if (performance.now() - startMs > WAIT_MS) throw new Error("berth never stopped working");
    await delay(SAMPLE_MS);
    const nowTicks = cpuTicks(berth.pid);
    const nowRss = rssBytes(berth.pid);
    const idle = nowTicks - ticks <= IDLE_CPU_TICKS && Math.abs(nowRss - rss) <= STABLE_RSS_BYTES;
    stable = idle ? stable + 1 : 0;
    ticks = nowTicks;
    rss = nowRss;
  }
  return { rss, waitedMs: performance.now() - startMs };
}

// ---------------------------------------------------------------------------------------------
// The clients.

/** GET of the big file that stops reading after its first bytes. Resolves with the socket once
 * the head arrived; `status` says what it was. */
async function startDownload(port, pauseAfterBytes) {
  const socket = await openSocket(port);
  return new Promise((resolve, reject) => {
    let received = 0;
    let head = "";
    const timer = setTimeout(() => reject(new Error("no response to GET /big.bin")), WAIT_MS);
    socket.on("data", (chunk) => {
      if (head.length < 12) head += chunk.toString("latin1", 0, Math.min(chunk.length, 12));
      received += chunk.length;
      if (received >= pauseAfterBytes) {
        socket.pause();
        clearTimeout(timer);
        resolve({ socket, status: Number(head.slice(9, 12)) });
      }
    });
    socket.once("close", () => {
      clearTimeout(timer);
      reject(new Error(`closed after ${received} bytes of GET /big.bin`));
    });
    socket.write("GET /big.bin HTTP/1.1\r\nHost: bench\r\n\r\n");
  });
}

/** Opens `count` downloads, BATCH at a time; `beforeBatch` may stop early (returns a reason). */
async function openDownloads(port, count, pauseAfterBytes, beforeBatch = () => null) {
  const downloads = [];
  while (downloads.length < count) {
    const stop = beforeBatch(downloads.length);
    if (stop !== null) return { downloads, stoppedBecause: stop };
    const size = Math.min(BATCH, count - downloads.length);
    const batch = await Promise.all(
      Array.from({ length: size }, () => startDownload(port, pauseAfterBytes)),
    );
    downloads.push(...batch);
  }
  return { downloads, stoppedBecause: null };
}

const SLOWLORIS_HEAD = Buffer.from(
  "GET /small.txt HTTP/1.1\r\nHost: bench\r\nUser-Agent: slowloris\r\nX-Padding: aaaaaaaa\r\n\r\n",
  "latin1",
);

/** Sends one head byte every SLOWLORIS_BYTE_INTERVAL_MS until berth closes; resolves with the ms
 * from the first byte to berth's FIN, the status berth sent, and whether it was a clean close. */
async function slowloris(port) {
  const socket = await openSocket(port);
  return new Promise((resolve) => {
    let received = "";
    let sent = 0;
    const startMs = performance.now();
    let endedMs = 0;
    const send = () => {
      if (sent < SLOWLORIS_HEAD.length && !socket.destroyed) {
        socket.write(SLOWLORIS_HEAD.subarray(sent, sent + 1));
        sent++;
      }
    };
    send();
    const timer = setInterval(send, SLOWLORIS_BYTE_INTERVAL_MS);
    const giveUp = setTimeout(() => socket.destroy(), WAIT_MS);
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
    });
    socket.on("end", () => {
      endedMs = performance.now();
    });
    socket.on("close", (hadError) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({
        closedAfterMs: (endedMs || performance.now()) - startMs,
        status: Number(received.slice(9, 12)) || 0,
        clean: endedMs !== 0 && !hadError,
        bytesSent: sent,
      });
    });
  });
}

/** Opens `count` stalled readers (fewer if kernel TCP memory runs short), waits until berth has
 * stopped writing, measures, destroys them and waits for berth's descriptors to come back. */
async function measureStalledReaders(berth, count, baselineFds) {
  const before = await quiescentRss(berth);
  const fdsBefore = fdCount(berth.pid);
  const tcpBefore = tcpMemory();
  let perReaderKernelBytes = 0;
  const opened = await openDownloads(berth.port, count, 1, (openedCount) => {
    if (openedCount === 0) return null;
    const tcp = tcpMemory();
    const perReader = (tcp.usedBytes - tcpBefore.usedBytes) / openedCount;
    perReaderKernelBytes = Math.max(perReaderKernelBytes, perReader);
    const projected = tcp.usedBytes + Math.min(BATCH, count - openedCount) * perReaderKernelBytes;
    if (projected <= TCP_MEM_SHARE * tcp.pressureBytes) return null;
    return (
      `kernel TCP memory would pass ${Math.round(TCP_MEM_SHARE * 100)}% of tcp_mem's pressure ` +
      `threshold (${(tcp.pressureBytes / MiB).toFixed(0)} MiB) at ` +
      `~${(perReaderKernelBytes / KiB).toFixed(0)} KiB per stalled reader`
    );
  });
  const stalled = opened.downloads;
  if (opened.stoppedBecause !== null) {
    note(`stopped at ${stalled.length} of ${count} stalled readers: ${opened.stoppedBecause}`);
  }
  const after = await quiescentRss(berth);
  const queued = queuedBytes(berth.port);
  const fdsWith = fdCount(berth.pid);
  const kernelTcpBytes = tcpMemory().usedBytes - tcpBefore.usedBytes;
  const destroyMs = performance.now();
  for (const { socket } of stalled) socket.destroy();
  const released = await fdsBackTo(berth, baselineFds, destroyMs);
  await delay(200);
  return {
    readers: stalled.length,
    not200: stalled.filter((d) => d.status !== 200).length,
    rssBeforeBytes: before.rss,
    rssWithBytes: after.rss,
    rssPerReaderBytes: Math.round((after.rss - before.rss) / stalled.length),
    rssAfterBytes: rssBytes(berth.pid),
    stallWaitMs: Math.round(after.waitedMs),
    fdsWith,
    fdsPerReader: (fdsWith - fdsBefore) / stalled.length,
    fdsAfter: released.fds,
    releasedAfterMs: Math.round(released.afterMs),
    kernelTcpBytes,
    kernelServerQueuedBytes: queued.serverTx,
    kernelClientQueuedBytes: queued.clientRx,
  };
}

// ---------------------------------------------------------------------------------------------
// The run.

async function main() {
  const limit = openFileLimit();
  let readers = wanted.readers;
  if (limit !== null) {
    // berth holds a socket and a file per stalled reader; this process a socket.
    const fitting = Math.floor((limit - RESERVED_FDS) / 2);
    if (fitting < readers) {
      note(
        `ulimit -n is ${limit}: ${readers} stalled readers need ~${2 * readers + RESERVED_FDS} ` +
          `descriptors in berth; measuring ${fitting} instead (raise it with \`ulimit -n\`)`,
      );
      readers = fitting;
    }
  }

  const root = mkdtempSync(join(tmpdir(), "berth-hardening-"));
  const fd = openSync(join(root, "big.bin"), "w");
  ftruncateSync(fd, BIG_FILE_BYTES); // sparse: no disk used
  closeSync(fd);
  writeFileSync(join(root, "small.txt"), "small\n");
  const berth = await startBerth(root);
  const figures = {
    node: process.version,
    kernel: release(),
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / GiB),
    network: IN_NETNS
      ? `private network namespace (loopback MTU 1500, tcp_wmem ${readSysctl("tcp_wmem")}, ` +
        `tcp_rmem ${readSysctl("tcp_rmem")})`
      : "host loopback",
    openFileLimit: limit,
    headerTimeoutMs: HEADER_TIMEOUT_MS,
  };
  try {
    // Warm-up: code paths compiled, the file opened once, before the baseline.
    const warm = await openDownloads(berth.port, 4, RESET_AFTER_BYTES);
    for (const { socket } of warm.downloads) socket.destroy();
    const baselineFds = await settledFds(berth);
    figures.baselineFds = baselineFds;
    figures.baselineRssBytes = rssBytes(berth.pid);

    // 1. Stalled readers, first: RSS growth is clearest before other phases leave freed memory
    // behind for the allocator to reuse. Another round shows whether the first left anything
    // behind: its peak should match the first's, not add to it.
    figures.readersWanted = readers;
    figures.readerRounds = [];
    for (let round = 0; round < wanted.rounds; round++) {
      figures.readerRounds.push(await measureStalledReaders(berth, readers, baselineFds));
    }

    // 2. Resets mid-download: half RST at once, half FIN with unread data (the kernel RSTs).
    const resets = await openDownloads(berth.port, wanted.resets, RESET_AFTER_BYTES);
    figures.resets = resets.downloads.length;
    figures.fdsDuringResets = fdCount(berth.pid);
    const resetMs = performance.now();
    resets.downloads.forEach(({ socket }, i) => {
      if (i % 2 === 0) socket.resetAndDestroy();
      else socket.destroy();
    });
    const afterResets = await fdsBackTo(berth, baselineFds, resetMs);
    figures.fdsAfterResets = afterResets.fds;
    figures.resetsReleasedAfterMs = Math.round(afterResets.afterMs);

    // 3. Slowloris: the timing samples among a crowd of them, all at once.
    const [samples, crowd] = await Promise.all([
      Promise.all(
        Array.from({ length: wanted.samples }, (_, i) =>
          delay(i * SLOWLORIS_SAMPLE_STAGGER_MS).then(() => slowloris(berth.port)),
        ),
      ),
      Promise.all(Array.from({ length: wanted.slowloris }, () => slowloris(berth.port))),
    ]);
    figures.slowlorisSamplesMs = samples.map((s) => Math.round(s.closedAfterMs));
    figures.slowlorisMedianMs = Math.round(median(samples.map((s) => s.closedAfterMs)));
    figures.slowlorisSampleStatuses = samples.map((s) => s.status);
    figures.slowlorisSamplesClean = samples.every((s) => s.clean);
    const crowdMs = crowd.map((s) => s.closedAfterMs);
    figures.slowloris = crowd.length;
    figures.slowlorisCrowdMedianMs = Math.round(median(crowdMs));
    figures.slowlorisCrowdMaxMs = Math.round(Math.max(...crowdMs));
    figures.slowlorisCrowd408 = crowd.filter((s) => s.status === 408).length;
    figures.slowlorisCrowdClean = crowd.filter((s) => s.clean).length;
    const afterSlowloris = await fdsBackTo(berth, baselineFds, performance.now());
    figures.fdsAfterSlowloris = afterSlowloris.fds;
  } finally {
    const exit = await berth.stop();
    figures.exit = exit;
    figures.berthInternalErrors = berth.stderr().includes("internal error");
    rmSync(root, { recursive: true, force: true });
  }
  figures.notes = notes;
  return figures;
}

function formatTable(f) {
  const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
  const [first, ...others] = f.readerRounds;
  const rows = [
    [
      `berth RSS, baseline → with ${first.readers} stalled readers of a 1 GiB file`,
      `${mib(first.rssBeforeBytes)} → ${mib(first.rssWithBytes)} ` +
        `(+${mib(first.rssWithBytes - first.rssBeforeBytes)}, ` +
        `**${(first.rssPerReaderBytes / KiB).toFixed(0)} KiB per stalled reader**; ` +
        `${mib(first.rssAfterBytes)} after they were destroyed)`,
    ],
    ...others.map((round, i) => [
      `… round ${i + 2}: ${round.readers} stalled readers again`,
      `${mib(round.rssBeforeBytes)} → ${mib(round.rssWithBytes)} → ${mib(round.rssAfterBytes)}`,
    ]),
    [
      "kernel socket memory with them (not in RSS)",
      `${mib(first.kernelTcpBytes)} TCP memory ` +
        `(${(first.kernelTcpBytes / first.readers / KiB).toFixed(0)} KiB per reader): ` +
        `${mib(first.kernelServerQueuedBytes)} queued in berth's send buffers, ` +
        `${mib(first.kernelClientQueuedBytes)} unread by the clients`,
    ],
    [
      `slowloris (1 head byte / ${SLOWLORIS_BYTE_INTERVAL_MS} ms, --header-timeout-ms ${f.headerTimeoutMs}): first byte → berth's FIN`,
      `**median ${(f.slowlorisMedianMs / 1000).toFixed(2)} s** of ${f.slowlorisSamplesMs.length} ` +
        `(${f.slowlorisSamplesMs.map((ms) => (ms / 1000).toFixed(2)).join(", ")} s), ` +
        `status ${[...new Set(f.slowlorisSampleStatuses)].join("/")}`,
    ],
    [
      `${f.slowloris} more slowloris connections at the same time`,
      `${f.slowlorisCrowd408} answered 408; closed after median ` +
        `${(f.slowlorisCrowdMedianMs / 1000).toFixed(2)} s, max ${(f.slowlorisCrowdMaxMs / 1000).toFixed(2)} s`,
    ],
    ["berth's open fds, baseline", String(f.baselineFds)],
    [
      `… during ${f.resets} downloads → after they were reset mid-download`,
      `${f.fdsDuringResets} → ${f.fdsAfterResets} (back in ${f.resetsReleasedAfterMs} ms)`,
    ],
    [`… after ${f.slowloris} slowloris connections timed out`, String(f.fdsAfterSlowloris)],
    ...f.readerRounds.map((round, i) => [
      `… with ${round.readers} stalled readers → after they were destroyed (round ${i + 1})`,
      `${round.fdsWith} (${round.fdsPerReader} per reader) → ${round.fdsAfter} ` +
        `(back in ${round.releasedAfterMs} ms)`,
    ]),
  ];
  const lines = [
    `berth hardening figures — Node ${f.node}, Linux ${f.kernel}, ${f.cpus} CPUs, ` +
      `${f.memoryGiB} GiB, ${f.network}, ulimit -n ${f.openFileLimit ?? "unknown"}`,
    "",
    "| measurement | figure |",
    "|---|---|",
    ...rows.map(([what, value]) => `| ${what} | ${value} |`),
  ];
  for (const text of f.notes) lines.push("", `Note: ${text}`);
  return lines.join("\n");
}

try {
  const figures = await main();
  process.stdout.write(options.json ? `${JSON.stringify(figures)}\n` : `${formatTable(figures)}\n`);
  process.exit(0);
} catch (error) {
  process.stderr.write(`hardening-figures: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
}
