// One measurement: a wrk run against a server with the server's CPU time around it, or (h)'s
// resident memory with and without idle keep-alive connections.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { listProcessTree, readTreeCpuNs, readTreeRssBytes } from "./proc.mjs";
import { readLogTail } from "./servers.mjs";
import { describeLoad } from "./workloads.mjs";
import { runWrk } from "./wrk.mjs";

const MiB = 1024 * 1024;
/** wrk's byte count must fit the responses it counted within this share (see checkBytes). */
const BYTES_TOLERANCE = 0.005;
/** RSS has settled when two readings RSS_SAMPLE_MS apart differ by less than SETTLED_RSS_BYTES. */
const RSS_SAMPLE_MS = 250;
const SETTLED_RSS_BYTES = 256 * 1024;
const RSS_SETTLE_TIMEOUT_MS = 5_000;
/** The connection holder gets this long to close its connections and exit. */
const HOLDER_EXIT_MS = 10_000;
const HOLDER_SCRIPT = fileURLToPath(new URL("hold-connections.mjs", import.meta.url));

/** Helper processes running now, for run.mjs to kill if it exits mid-measurement. */
export const liveHelpers = new Set();

/**
 * One wrk run against `server` (context: { fixtures, durationS, scriptFor, clientCpus, note }).
 * Returns a sample: { valid, problem, reqPerS, cpuUsPerReq (or mbPerS, cpuUsPerMiB), p50Ms,
 * p99Ms, clientCpuShare, rssPeakBytes (on (b) only) }.
 */
export async function measureWorkload(server, workload, peerState, context) {
  const { fixtures, durationS, scriptFor, clientCpus, note } = context;
  if (server.exited) return { valid: false, problem: "the server had exited" };
  const load = describeLoad(workload, fixtures, peerState.etag);
  const pids = listProcessTree(server.pid);
  let rssPeakBytes = 0;
  const cpuBeforeNs = readTreeCpuNs(pids);
  let result;
  try {
    result = await runWrk({
      port: server.port,
      load,
      durationS,
      scriptFor,
      taskset: clientCpus,
      whileRunning:
        workload.id === "b"
          ? () => {
              rssPeakBytes = Math.max(rssPeakBytes, readTreeRssBytes(pids));
            }
          : undefined,
    });
  } catch (error) {
    note(`(${workload.id}) ${server.name}: ${error.message}`);
    return { valid: false, problem: error.message };
  }
  const cpuNs = readTreeCpuNs(pids) - cpuBeforeNs;
  if (server.exited) {
    note(`(${workload.id}) ${server.name} exited during the run: ${readLogTail(server)}`);
    return { valid: false, problem: "the server exited" };
  }
  const throughput = workload.kind === "throughput";
  const problem = checkBytes(result, peerState.responseBytes[workload.id], load, throughput);
  if (result.errorText !== "")
    note(`(${workload.id}) ${server.name}: wrk errors ${result.errorText}`);
  if (problem !== null) note(`(${workload.id}) ${server.name}: run not counted: ${problem}`);
  // wrk's latency percentiles are broken with pipelining (zeros: wg/wrk#236): none for (c).
  const hasLatency = load.pipeline === 1;
  const sample = {
    valid: problem === null,
    problem,
    p50Ms: hasLatency ? result.p50Ms : null,
    p99Ms: hasLatency ? result.p99Ms : null,
    // How much of its CPU the server got: well below 100% with wrk not busy either means other
    // work on the machine took the CPU, and req/s says little (CPU per request still holds).
    serverCpuShare: cpuNs / 1e9 / result.durationS,
    clientCpuShare: result.clientCpuShare,
    rssPeakBytes: workload.id === "b" ? rssPeakBytes : null,
  };
  if (throughput) {
    sample.mbPerS = result.bytes / result.durationS / 1e6;
    sample.cpuUsPerMiB = cpuNs / 1000 / (result.bytes / MiB);
  } else {
    sample.reqPerS = result.requests / result.durationS;
    sample.cpuUsPerReq = cpuNs / 1000 / result.requests;
  }
  return sample;
}

/**
 * wrk counts a response when it has parsed it whole, so the bytes it read must weigh at least
 * `requests` checked responses, and at most one more partial response per connection. A mismatch
 * means wrk counted something other than the checked response (an error page, a pipelining
 * miscount): the run does not count. Nor does one with responses of status ≥ 400, or, for
 * request rates, one with no response at all. (A 256 MiB download may not finish in a short run:
 * its rate is in bytes.)
 */
function checkBytes(result, responseBytes, load, throughput) {
  if (result.errors.status > 0) return `${result.errors.status} responses with status ≥ 400`;
  if (!throughput && result.requests === 0) return "no responses";
  if (throughput && result.bytes === 0) return "no bytes";
  const least = result.requests * responseBytes * (1 - BYTES_TOLERANCE);
  const most = (result.requests + load.connections) * responseBytes * (1 + BYTES_TOLERANCE);
  if (result.bytes < least || result.bytes > most) {
    const perResponse = (result.bytes / Math.max(1, result.requests)).toFixed(1);
    return `wrk read ${perResponse} bytes per response counted, the checked response has ${responseBytes}`;
  }
  return null;
}

/** A log line for one sample. */
export function describeSample(sample) {
  if (!sample.valid) return `not counted (${sample.problem})`;
  const server = `server ${Math.round(sample.serverCpuShare * 100)}%`;
  const client =
    sample.clientCpuShare === null ? "" : `, wrk ${Math.round(sample.clientCpuShare * 100)}%`;
  const shares = ` (CPU used: ${server}${client})`;
  if (sample.mbPerS !== undefined) {
    return `${Math.round(sample.mbPerS)} MB/s, ${Math.round(sample.cpuUsPerMiB)} µs CPU/MiB${shares}`;
  }
  const p99 = sample.p99Ms === null ? "" : `, p99 ${sample.p99Ms.toFixed(2)} ms`;
  const rate = Math.round(sample.reqPerS).toLocaleString("en-US");
  return `${rate} req/s, ${sample.cpuUsPerReq.toFixed(1)} µs CPU/req${p99}${shares}`;
}

/**
 * (h) on a freshly started server (so that heap left over from the load runs does not absorb
 * the connections): its RSS idle after one request, then while a helper process on the client
 * CPU holds `count` idle keep-alive connections. Returns { idleBytes, heldBytes, held,
 * kibPerConnection }, or null (with a note) when the holder fails.
 */
export async function measureIdleConnections(server, fixtures, count, { clientCpus, note }) {
  const pids = listProcessTree(server.pid);
  const idleBytes = await readSettledRss(pids);
  const command = [
    ...clientCpus,
    process.execPath,
    HOLDER_SCRIPT,
    String(server.port),
    fixtures["1k"].path,
    String(fixtures["1k"].sizeBytes),
    String(count),
  ];
  const holder = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
  liveHelpers.add(holder);
  const exited = new Promise((resolveExit) => holder.on("close", resolveExit));
  const lines = createInterface({ input: holder.stdout });
  const nextLine = () =>
    Promise.race([
      new Promise((resolveLine) => lines.once("line", (line) => resolveLine(JSON.parse(line)))),
      exited.then(() => {
        throw new Error("the connection holder exited early");
      }),
    ]);
  try {
    const opened = await nextLine();
    if (opened.failed > 0) {
      note(`(h) ${server.name}: ${opened.failed} connections failed (${opened.firstError})`);
    }
    const heldBytes = await readSettledRss(pids);
    holder.stdin.write("status\n");
    const { open } = await nextLine();
    if (open < opened.held)
      note(`(h) ${server.name} closed ${opened.held - open} idle connections`);
    const held = Math.min(open, opened.held);
    if (held === 0) return null;
    return { idleBytes, heldBytes, held, kibPerConnection: (heldBytes - idleBytes) / 1024 / held };
  } catch (error) {
    note(`(h) ${server.name}: ${error.message}`);
    return null;
  } finally {
    holder.stdin.end();
    await Promise.race([exited, sleep(HOLDER_EXIT_MS, undefined, { ref: false })]);
    holder.kill("SIGKILL");
    liveHelpers.delete(holder);
  }
}

/** RSS once two readings RSS_SAMPLE_MS apart agree within SETTLED_RSS_BYTES (or at timeout). */
async function readSettledRss(pids) {
  const deadline = Date.now() + RSS_SETTLE_TIMEOUT_MS;
  let previous = readTreeRssBytes(pids);
  while (Date.now() < deadline) {
    await sleep(RSS_SAMPLE_MS);
    const current = readTreeRssBytes(pids);
    if (Math.abs(current - previous) < SETTLED_RSS_BYTES) return current;
    previous = current;
  }
  return previous;
}
