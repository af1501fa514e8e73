// From the samples of every run to the Markdown tables: medians, ratios to nginx and to the
// node:http + send baseline from the same run, and the verdict on each target of issue #8.

const MiB = 1024 * 1024;

/**
 * The targets of issue #8 for berth (one process). `either`: met when the req/s ratio or the CPU
 * ratio reaches the target (wrk's one thread saturates before the server there).
 */
export const TARGETS = [
  { workload: "a", against: "nginx", atLeast: 1.0, either: true },
  { workload: "b", against: "nginx", atLeast: 1.0, either: true },
  { workload: "c", against: "nginx", atLeast: 3.0, either: false },
  { workload: "d", against: "nginx", atLeast: 0.9, either: false },
  { workload: "e", against: "nginx", atLeast: 0.8, either: false },
  { workload: "f", against: "nginx", atLeast: 0.9, either: false },
  { workload: "g", against: "nginx", atLeast: 0.8, either: true },
  { workload: "a", against: "node-send", atLeast: 5.0, either: true },
  { workload: "b", against: "node-send", atLeast: 5.0, either: true },
  { workload: "c", against: "node-send", atLeast: 5.0, either: false },
  { workload: "e", against: "node-send", atLeast: 5.0, either: false },
];
/** (h): at most this RSS per idle keep-alive connection. */
export const MAX_KIB_PER_IDLE_CONNECTION = 6;

export function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((x, y) => x - y);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The figures of one run: req/s (or MB/s for throughput) and CPU per unit, if valid. */
function rateOf(sample) {
  return sample.mbPerS ?? sample.reqPerS;
}

function cpuOf(sample) {
  return sample.cpuUsPerMiB ?? sample.cpuUsPerReq;
}

/**
 * The reference sample of a run: nginx's, except on (c), where it is the faster of nginx with
 * and without tcp_nopush in that run (issue #8: "against whichever nginx setting is faster").
 */
function findReference(results, workloadId, against, runIndex) {
  const names = workloadId === "c" && against === "nginx" ? ["nginx", "nginx-nopush"] : [against];
  let best = null;
  for (const name of names) {
    const sample = results.samples[workloadId]?.[name]?.[runIndex];
    if (sample?.valid && (best === null || rateOf(sample) > rateOf(best))) best = sample;
  }
  return best;
}

/** Median over runs of peer / reference in the same run: { rate, cpu } (null where unknown). */
export function computeRatios(results, workloadId, peer, against) {
  const rates = [];
  const cpus = [];
  const runs = results.samples[workloadId]?.[peer] ?? [];
  runs.forEach((sample, runIndex) => {
    const reference = findReference(results, workloadId, against, runIndex);
    if (!sample?.valid || reference === null) return;
    rates.push(rateOf(sample) / rateOf(reference));
    if (cpuOf(sample) > 0) cpus.push(cpuOf(reference) / cpuOf(sample));
  });
  return { rate: median(rates), cpu: median(cpus) };
}

function summarise(samples) {
  const valid = (samples ?? []).filter((sample) => sample?.valid);
  const pick = (field) => median(valid.map((sample) => sample[field]));
  const rates = valid.map(rateOf);
  const middle = median(rates);
  return {
    count: valid.length,
    total: (samples ?? []).filter(Boolean).length,
    rate: middle,
    spread: middle ? (Math.max(...rates) - Math.min(...rates)) / middle : null,
    cpu: median(valid.map(cpuOf)),
    p50Ms: pick("p50Ms"),
    p99Ms: pick("p99Ms"),
    serverCpuShare: pick("serverCpuShare"),
    clientCpuShare: pick("clientCpuShare"),
    rssPeakBytes: pick("rssPeakBytes"),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown.

const fmtInt = (value) => (value === null ? "—" : Math.round(value).toLocaleString("en-US"));
const fmtFixed = (digits) => (value) => (value === null ? "—" : value.toFixed(digits));
const fmtRatio = (value) => (value === null ? "—" : `${value.toFixed(2)}×`);
const fmtSpread = (value) => (value === null ? "—" : `±${Math.round((value * 100) / 2)}%`);
const fmtShare = (value) => (value === null ? "—" : `${Math.round(value * 100)}%`);
const fmtMiB = (bytes) => (bytes === null ? "—" : (bytes / MiB).toFixed(1));

function table(header, rows) {
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

/** The Markdown document: environment, how to read, targets, one table per workload. */
export function formatReport(results) {
  const parts = [
    "# berth benchmark results",
    "",
    `Written by \`${results.commandLine}\` on ${results.date}.`,
    "",
    table(
      ["", ""],
      results.environment.map(([label, value]) => [label, value]),
    ),
    "",
    formatMethod(results),
    "",
    "## How to read",
    "",
    formatHowToRead(results),
    "",
  ];
  const targetRows = formatTargetRows(results);
  if (targetRows.length > 0) {
    parts.push(
      "## Targets (issue #8, berth with one process)",
      "",
      table(["target", "wanted", "berth measured", "verdict"], targetRows),
      "",
    );
  }
  for (const workload of results.workloads) {
    if (workload.kind === "memory") parts.push(formatMemorySection(results, workload), "");
    else parts.push(formatWorkloadSection(results, workload), "");
  }
  if (results.scalingPeers.length > 0) parts.push(formatScalingSection(results), "");
  if (results.notes.length > 0) {
    parts.push("## Notes", "", ...results.notes.map((note) => `- ${note}`), "");
  }
  return parts.join("\n");
}

function formatMethod(results) {
  const pinning = results.pinned
    ? "each server pinned to CPU 0 (`taskset -c 0`), wrk and the connection holder to CPU 1"
    : "no CPU pinning (fewer than 2 CPUs)";
  const text =
    `Method: ${results.runs} runs × ${results.durationS} s per workload and server, interleaved ` +
    "(every run times every workload on every server, the servers in a rotating order); " +
    `${pinning}; wrk with 1 thread. CPU time is read from ${results.cpuClock} for the server's ` +
    "whole process tree before and after each wrk run. Before any timing, every server passed a " +
    "byte-for-byte check of each workload's responses (status, Content-Length, body, 304 for " +
    "its own ETag, keep-alive, pipelining, Connection: close); one that fails is excluded from " +
    "that workload and named in the Notes. A timed run counts only if wrk saw no status ≥ 400 and " +
    "the bytes it read match the responses it counted.";
  return [
    wrap(text),
    "",
    table(
      ["server", "what"],
      results.peers.map((peer) => [peer.name, peer.describe]),
    ),
  ].join("\n");
}

function formatHowToRead(results) {
  return wrap(
    "Each figure is the median of the runs; *spread* is half the range of the runs around it. " +
      "*CPU µs/req* is the server's user+system CPU time divided by the requests wrk counted: " +
      "lower is better, and unlike req/s it does not stop at the client's ceiling (issue #8: one " +
      "wrk thread on one core tops out near 95k req/s on its 2-core machine, which nginx reaches " +
      "on (a), (b) and (g)). *server CPU* and *wrk CPU* are the shares of one core each used: wrk " +
      "near 100% means the client, not the server, set the rate; both well below 100% means " +
      "other work on the machine took the CPU. Either way the CPU ratio is the one to read. The ratios are medians of per-run ratios, each against the reference " +
      "measured in the same run: *req/s × nginx* above 1 is faster than nginx; *CPU × nginx* is " +
      "nginx's CPU per request divided by this server's, so above 1 is cheaper. On (c) the " +
      "reference is the faster of nginx with and without tcp_nopush in that run. Targets (a), (b) " +
      "and (g), against nginx and against node-send, count as met when either ratio reaches " +
      "them. wrk reports no usable latency percentiles with pipelining (wg/wrk#236), so (c) has " +
      `none. The machine is small (${results.cpuCount} CPUs) and may be shared, so single figures ` +
      "move by several percent between runs: compare ratios, and only within one run.",
  );
}

/** Text wrapped at 100 columns, for a readable raw file. */
function wrap(text, width = 100) {
  const lines = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

function formatTargetRows(results) {
  const rows = [];
  const done = new Set(results.workloads.map((workload) => workload.id));
  for (const target of TARGETS) {
    if (!done.has(target.workload)) continue;
    const unit = target.workload === "f" ? "MB/s" : "req/s";
    const wanted = `≥ ${target.atLeast.toFixed(1)}× ${target.against} ${unit}${target.either ? " or CPU/req" : ""}`;
    const label = `(${target.workload}) vs ${target.against}${target.workload === "c" && target.against === "nginx" ? " (faster setting)" : ""}`;
    const problem = results.excluded[target.workload]?.berth;
    if (problem !== undefined) {
      rows.push([label, wanted, `failed its check: ${problem}`, "**not met**"]);
      continue;
    }
    const ratios = computeRatios(results, target.workload, "berth", target.against);
    if (ratios.rate === null) {
      rows.push([label, wanted, `no ${target.against} figure`, "no data"]);
      continue;
    }
    const met =
      ratios.rate >= target.atLeast ||
      (target.either && ratios.cpu !== null && ratios.cpu >= target.atLeast);
    const measured = `${unit} ${fmtRatio(ratios.rate)}, CPU ${fmtRatio(ratios.cpu)}`;
    rows.push([label, wanted, measured, met ? "met" : "**not met**"]);
  }
  if (done.has("h")) {
    const perConnection = median(
      (results.memory.berth ?? []).map((reading) => reading.kibPerConnection),
    );
    const wanted = `≤ ${MAX_KIB_PER_IDLE_CONNECTION} KiB per idle connection`;
    if (perConnection === null) rows.push(["(h) memory", wanted, "no figure", "no data"]);
    else {
      const met = perConnection <= MAX_KIB_PER_IDLE_CONNECTION;
      rows.push([
        "(h) memory",
        wanted,
        `${perConnection.toFixed(1)} KiB`,
        met ? "met" : "**not met**",
      ]);
    }
  }
  return rows;
}

function formatWorkloadSection(results, workload) {
  const throughput = workload.kind === "throughput";
  const header = throughput
    ? [
        "server",
        "MB/s",
        "spread",
        "CPU µs/MiB",
        "server CPU",
        "wrk CPU",
        "MB/s × nginx",
        "CPU × nginx",
        "MB/s × node-send",
      ]
    : [
        "server",
        "req/s",
        "spread",
        "CPU µs/req",
        "p50 ms",
        "p99 ms",
        "server CPU",
        "wrk CPU",
        "req/s × nginx",
        "CPU × nginx",
        "req/s × node-send",
      ];
  const rows = [];
  for (const peer of results.peers) {
    if (peer.scaling || !peerRuns(peer, workload.id)) continue;
    const problem = results.excluded[workload.id]?.[peer.name];
    if (problem !== undefined) {
      rows.push([peer.name, `excluded: ${problem}`, ...header.slice(2).map(() => "")]);
      continue;
    }
    const s = summarise(results.samples[workload.id]?.[peer.name]);
    const vsNginx = computeRatios(results, workload.id, peer.name, "nginx");
    const vsNode = computeRatios(results, workload.id, peer.name, "node-send");
    // nginx is its own reference except on (c), where the faster of its two settings is.
    const isNginx = (peer.name === "nginx" || peer.name === "nginx-nopush") && s.count > 0;
    const name = s.count < s.total ? `${peer.name} (${s.count}/${s.total} runs valid)` : peer.name;
    const ratioCells = [
      isNginx && workload.id !== "c" ? "1.00×" : fmtRatio(vsNginx.rate),
      isNginx && workload.id !== "c" ? "1.00×" : fmtRatio(vsNginx.cpu),
      peer.name === "node-send" && s.count > 0 ? "1.00×" : fmtRatio(vsNode.rate),
    ];
    const shares = [fmtShare(s.serverCpuShare), fmtShare(s.clientCpuShare)];
    rows.push(
      throughput
        ? [name, fmtInt(s.rate), fmtSpread(s.spread), fmtFixed(0)(s.cpu), ...shares, ...ratioCells]
        : [
            name,
            fmtInt(s.rate),
            fmtSpread(s.spread),
            fmtFixed(1)(s.cpu),
            fmtFixed(2)(s.p50Ms),
            fmtFixed(2)(s.p99Ms),
            ...shares,
            ...ratioCells,
          ],
    );
  }
  return [`## (${workload.id}) ${workload.title}`, "", table(header, rows)].join("\n");
}

function peerRuns(peer, workloadId) {
  return peer.workloads === undefined || peer.workloads.includes(workloadId);
}

function formatMemorySection(results, workload) {
  const held = results.idleConnections;
  const header = [
    "server",
    "idle RSS MiB",
    "peak RSS during (b) MiB",
    `RSS holding ${held.toLocaleString("en-US")} idle connections MiB`,
    "KiB per idle connection",
    "connections held",
  ];
  const rows = [];
  for (const peer of results.peers) {
    const readings = results.memory[peer.name];
    if (peer.scaling || readings === undefined) continue;
    const b = summarise(results.samples.b?.[peer.name]);
    const pick = (field) => median(readings.map((reading) => reading[field]));
    rows.push([
      peer.name,
      fmtMiB(pick("idleBytes")),
      fmtMiB(b.rssPeakBytes),
      fmtMiB(pick("heldBytes")),
      fmtFixed(1)(pick("kibPerConnection")),
      fmtInt(pick("held")),
    ]);
  }
  return [
    `## (h) ${workload.title}`,
    "",
    wrap(
      "Measured on a freshly started instance of each server (heap left over from the load runs " +
        "would absorb the connections), after one request. RSS is VmRSS summed over the server's " +
        "processes (nginx: master and worker). KiB per idle connection = (RSS holding them − idle " +
        "RSS) / connections held; the holder, on CPU 1, opens each connection, sends one GET of " +
        "the 1 KiB file, reads the response and keeps the connection open. Kernel socket buffers " +
        `are not in RSS. ${results.memoryEveryRun ? "Medians of every run." : "Measured once (quick mode)."} ` +
        "The peak during (b) is from the long-running instance." +
        (held < 10_000
          ? " With fewer than issue #8's 10,000 connections, growth that does not scale with the " +
            "count (heap pages, buffers) is shared by fewer of them, so the figure reads high."
          : ""),
    ),
    "",
    table(header, rows),
  ].join("\n");
}

function formatScalingSection(results) {
  const pairs = [
    ["berth", results.scalingPeers.find((peer) => peer.name.startsWith("berth-w"))?.name],
    ["nginx", results.scalingPeers.find((peer) => peer.name.startsWith("nginx-w"))?.name],
  ].filter(([, many]) => many !== undefined);
  const header = ["workload"];
  for (const [one, many] of pairs) header.push(one, many, "scaling");
  const rows = [];
  for (const workload of results.workloads) {
    if (workload.kind === "memory") continue;
    const row = [`(${workload.id}) ${workload.title}`];
    for (const [one, many] of pairs) {
      const single = summarise(results.samples[workload.id]?.[one]).rate;
      const multi = summarise(results.samples[workload.id]?.[many]).rate;
      row.push(fmtInt(single), fmtInt(multi), single && multi ? fmtRatio(multi / single) : "—");
    }
    rows.push(row);
  }
  return [
    "## Scaling",
    "",
    wrap(
      `The multi-process servers may use all ${results.cpuCount} CPUs while wrk stays on CPU 1: ` +
        "on 2 CPUs they share a core with the load generator, so their gain is bounded by what " +
        "wrk leaves free, not by the server alone. The single-process figures are on CPU 0 only. " +
        "Figures are req/s, MB/s for (f).",
    ),
    "",
    table(header, rows),
  ].join("\n");
}
