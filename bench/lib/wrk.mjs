// Running wrk (one thread, pinned to the client CPU) and reading its exact totals.
//
// wrk's text summary rounds ("11.45MB"), so each run loads a Lua script whose done() prints the
// exact counts and latency percentiles as one JSON line.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTreeCpuNs } from "./proc.mjs";

const RESULT_MARK = "BENCH_RESULT ";
/** wrk processes running now, for run.mjs to kill if it exits mid-run. */
export const liveWrks = new Set();
/** wrk's own timeout per request; a response slower than this counts as a timeout error. */
const WRK_TIMEOUT_S = 10;
/** Past its duration, a wrk process gets this long to finish before it is killed. */
const WRK_OVERRUN_MS = 30_000;
/** wrk's own CPU time is sampled this often, and whileRunning called. */
const SAMPLE_MS = 100;

const DONE_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${RESULT_MARK}{"durationUs":%.0f,"requests":%.0f,"bytes":%.0f,"connectErrors":%.0f,' ..
    '"readErrors":%.0f,"writeErrors":%.0f,"statusErrors":%.0f,"timeouts":%.0f,' ..
    '"p50Us":%.0f,"p99Us":%.0f}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

/**
 * wrk's documented pipelining (scripts/pipeline.lua): request() returns DEPTH requests at once.
 * wrk parses that buffer to learn how many responses to expect per write and counts every
 * response, not every write; run.mjs still compares the bytes wrk read with what that many
 * responses weigh. Its latency percentiles are not usable in this mode (wg/wrk#236).
 */
function pipelineLua(depth) {
  return `
init = function(args)
  local batch = {}
  for i = 1, ${depth} do batch[i] = wrk.format() end
  pipelined = table.concat(batch)
end
request = function()
  return pipelined
end
${DONE_LUA}`;
}

/** Writes the Lua scripts into dir; returns a function from pipeline depth to script path. */
export function writeWrkScripts(dir) {
  const plain = join(dir, "done.lua");
  writeFileSync(plain, DONE_LUA);
  const pipelined = new Map();
  return (depth) => {
    if (depth === 1) return plain;
    if (!pipelined.has(depth)) {
      const path = join(dir, `pipeline-${depth}.lua`);
      writeFileSync(path, pipelineLua(depth));
      pipelined.set(depth, path);
    }
    return pipelined.get(depth);
  };
}

/**
 * Runs wrk for durationS against http://127.0.0.1:port + load.path. `taskset` is the CPU
 * prefix (["taskset", "-c", "1"] or []). `whileRunning` is called every SAMPLE_MS. Resolves with
 * the exact totals: { requests, bytes, durationS, p50Ms, p99Ms, errors, errorText } and
 * clientCpuShare, the share of one CPU wrk used (near 1: the client, not the server, is the
 * limit).
 */
export function runWrk({ port, load, durationS, scriptFor, taskset, whileRunning }) {
  const args = [
    "wrk",
    "-t1",
    `-c${load.connections}`,
    `-d${durationS}s`,
    "--timeout",
    `${WRK_TIMEOUT_S}s`,
    "-s",
    scriptFor(load.pipeline),
  ];
  for (const [name, value] of Object.entries(load.headers)) args.push("-H", `${name}: ${value}`);
  args.push(`http://127.0.0.1:${port}${load.path}`);
  const command = [...taskset, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    liveWrks.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const startedMs = Date.now();
    let clientCpuShare = null;
    let clientCpuNs = 0;
    const sampler = setInterval(() => {
      // CPU time only grows while wrk runs; once it has exited (a zombie has no threads left)
      // the reading drops, so the largest reading is the one taken last before the exit.
      const cpuNs = readTreeCpuNs([child.pid]);
      if (cpuNs > clientCpuNs) {
        clientCpuNs = cpuNs;
        clientCpuShare = cpuNs / 1e6 / (Date.now() - startedMs);
      }
      whileRunning?.();
    }, SAMPLE_MS);
    const killer = setTimeout(() => child.kill("SIGKILL"), durationS * 1000 + WRK_OVERRUN_MS);
    child.on("error", (error) => {
      liveWrks.delete(child);
      clearInterval(sampler);
      clearTimeout(killer);
      reject(new Error(`cannot run ${command.join(" ")}: ${error.message}`));
    });
    child.on("close", (code) => {
      liveWrks.delete(child);
      clearInterval(sampler);
      clearTimeout(killer);
      const line = stdout.split("\n").find((text) => text.startsWith(RESULT_MARK));
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk failed (exit ${code}): ${(stderr || stdout).trim().slice(0, 500)}`));
        return;
      }
      resolve({ ...parseResult(JSON.parse(line.slice(RESULT_MARK.length))), clientCpuShare });
    });
  });
}

function parseResult(raw) {
  const errors = {
    connect: raw.connectErrors,
    read: raw.readErrors,
    write: raw.writeErrors,
    status: raw.statusErrors,
    timeout: raw.timeouts,
  };
  const errorText = Object.entries(errors)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${name} ${count}`)
    .join(", ");
  return {
    requests: raw.requests,
    bytes: raw.bytes,
    durationS: raw.durationUs / 1e6,
    // A percentile of 0 is wrk's way of failing (wg/wrk#236, #354), not a 0 µs response.
    p50Ms: raw.p50Us > 0 ? raw.p50Us / 1000 : null,
    p99Ms: raw.p99Us > 0 ? raw.p99Us / 1000 : null,
    errors,
    errorText,
  };
}
