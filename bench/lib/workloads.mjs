// The workloads of issue #8 and the correctness check each peer must pass before it is timed.
import { exchange, formatRequest } from "./http-check.mjs";

/** Requests in flight per connection in the pipelined workload. */
export const PIPELINE_DEPTH = 16;

/**
 * kind "requests": wrk, reported as req/s and CPU µs per request.
 * kind "throughput": wrk on a large file, reported as MB/s and CPU µs per MiB.
 * kind "memory": RSS, measured by run.mjs around (b) and an idle-connection holder.
 */
export const WORKLOADS = [
  { id: "a", title: "1 KiB, keep-alive, 50 connections", kind: "requests", file: "1k" },
  { id: "b", title: "1 KiB, keep-alive, 1,000 connections", kind: "requests", file: "1k" },
  {
    id: "c",
    title: `1 KiB, pipelined ${PIPELINE_DEPTH} deep, 50 connections`,
    kind: "requests",
    file: "1k",
  },
  { id: "d", title: "1 KiB, Connection: close, 50 connections", kind: "requests", file: "1k" },
  { id: "e", title: "64 KiB, keep-alive, 50 connections", kind: "requests", file: "64k" },
  { id: "f", title: "256 MiB file, 4 connections", kind: "throughput", file: "big" },
  { id: "g", title: "304 revalidation (If-None-Match), 50 connections", kind: "requests" },
  { id: "h", title: "memory (RSS)", kind: "memory" },
];

const CONNECTIONS = { a: 50, b: 1000, c: 50, d: 50, e: 50, f: 4, g: 50 };

/** How wrk drives a workload against one peer: connections, path, headers, pipeline depth. */
export function describeLoad(workload, fixtures, etag) {
  const path = workload.id === "g" ? fixtures["1k"].path : fixtures[workload.file].path;
  const headers = {};
  if (workload.id === "d") headers.Connection = "close";
  if (workload.id === "g") headers["If-None-Match"] = etag;
  return {
    connections: CONNECTIONS[workload.id],
    path,
    headers,
    pipeline: workload.id === "c" ? PIPELINE_DEPTH : 1,
  };
}

/**
 * Checks what the peer on `port` answers for the workload's requests. Resolves with
 * { ok: true, responseBytes } (the bytes of one response, to compare with what wrk read) or
 * { ok: false, problem }.
 */
export async function checkWorkload(workload, port, fixtures, etag) {
  try {
    return { ok: true, responseBytes: await runCheck(workload, port, fixtures, etag) };
  } catch (error) {
    return { ok: false, problem: error.message };
  }
}

/** The ETag the peer sends with the 1 KiB file, which (g) revalidates. */
export async function fetchEtag(port, fixtures) {
  const { responses } = await exchange(port, [
    { request: formatRequest(port, fixtures["1k"].path) },
  ]);
  return responses[0]?.headers.get("etag") ?? null;
}

async function runCheck(workload, port, fixtures, etag) {
  const load = describeLoad(workload, fixtures, etag);
  const request = formatRequest(port, load.path, load.headers);
  switch (workload.id) {
    case "a":
    case "b":
    case "e":
    case "f": {
      const rounds = workload.id === "f" ? [{ request }] : [{ request }, { request }];
      const { responses } = await exchange(port, rounds);
      for (const response of responses) expectFile(response, fixtures[workload.file]);
      return responses[0].headBytes + responses[0].bodyBytes;
    }
    case "c": {
      const { responses } = await exchange(port, [
        { request: request.repeat(PIPELINE_DEPTH), responses: PIPELINE_DEPTH },
      ]);
      for (const response of responses) expectFile(response, fixtures["1k"]);
      return responses[0].headBytes + responses[0].bodyBytes;
    }
    case "d": {
      const { responses } = await exchange(port, [{ request }], { expectClose: true });
      expectFile(responses[0], fixtures["1k"]);
      return responses[0].headBytes + responses[0].bodyBytes;
    }
    case "g": {
      if (etag === null) throw new Error("no ETag on the 1 KiB file, so nothing to revalidate");
      // Twice on one connection: a 304 must leave the connection usable.
      const { responses } = await exchange(port, [{ request }, { request }]);
      for (const response of responses) {
        if (response.status !== 304) {
          throw new Error(`If-None-Match: ${etag} answered ${response.status}, want 304`);
        }
      }
      return responses[0].headBytes;
    }
    default:
      throw new Error(`no check for workload ${workload.id}`);
  }
}

function expectFile(response, fixture) {
  if (response.status !== 200) throw new Error(`${fixture.path}: status ${response.status}`);
  const contentLength = Number(response.headers.get("content-length"));
  if (contentLength !== fixture.sizeBytes) {
    throw new Error(`${fixture.path}: Content-Length ${contentLength}, want ${fixture.sizeBytes}`);
  }
  if (response.bodySha256 !== fixture.sha256) throw new Error(`${fixture.path}: wrong body bytes`);
}
