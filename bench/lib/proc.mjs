// Readings from /proc for a server's process tree: its CPU time and its resident memory.
//
// A "server" is the process we spawned and every descendant of it (nginx's master and workers,
// berth's primary and its --workers children), so every peer is measured the same way.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const KiB = 1024;
/** `getconf CLK_TCK`: the unit of utime and stime, 100 on every common Linux build. */
const CLOCK_TICKS_PER_SECOND =
  Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) || 100;

/** The pid and all its descendants, found by each process's parent pid (field 4 of stat). */
export function listProcessTree(rootPid) {
  const childrenByParent = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const parentPid = readParentPid(Number(entry));
    if (parentPid === null) continue;
    const siblings = childrenByParent.get(parentPid) ?? [];
    siblings.push(Number(entry));
    childrenByParent.set(parentPid, siblings);
  }
  const tree = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop();
    tree.push(pid);
    pending.push(...(childrenByParent.get(pid) ?? []));
  }
  return tree;
}

function readParentPid(pid) {
  const fields = readStatFields(`/proc/${pid}/stat`);
  return fields === null ? null : Number(fields[1]);
}

/** The fields of a stat line after "(comm)", so that field N of proc(5) is index N - 3. */
function readStatFields(path) {
  let text;
  try {
    text = readFileSync(path, "latin1");
  } catch {
    return null; // the process or thread has exited
  }
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU time (user + system) of the whole tree in nanoseconds, per thread and summed.
 *
 * /proc/TID/schedstat's first field is exact on-CPU time in ns; utime + stime in stat are in
 * clock ticks (10 ms), too coarse for a few-second run of a server that spends ~10 µs per
 * request. schedstat is per thread (Node's libuv pool and V8's helper threads do work too), so
 * every task of every process is summed. Where a kernel has no schedstat, stat's ticks are used.
 */
export function readTreeCpuNs(pids) {
  let totalNs = 0;
  for (const pid of pids) totalNs += readProcessCpuNs(pid);
  return totalNs;
}

function readProcessCpuNs(pid) {
  let tids;
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  if (hasSchedstat(pid)) {
    let ns = 0;
    for (const tid of tids) ns += readThreadSchedstatNs(pid, tid);
    return ns;
  }
  const fields = readStatFields(`/proc/${pid}/stat`);
  if (fields === null) return 0;
  // proc(5): utime is field 14, stime field 15, in clock ticks (process-wide, all threads).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e9) / CLOCK_TICKS_PER_SECOND;
}

let schedstatAvailable;
function hasSchedstat(pid) {
  if (schedstatAvailable === undefined) {
    try {
      const first = readFileSync(`/proc/${pid}/schedstat`, "latin1").split(" ")[0];
      schedstatAvailable = first !== undefined && /^\d+$/.test(first);
    } catch {
      schedstatAvailable = false;
    }
  }
  return schedstatAvailable;
}

function readThreadSchedstatNs(pid, tid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "latin1").split(" ")[0]);
  } catch {
    return 0;
  }
}

/** Which clock readTreeCpuNs used, for the results' notes. */
export function describeCpuClock(pid) {
  return hasSchedstat(pid)
    ? "/proc/PID/task/TID/schedstat (ns, per thread, summed)"
    : `/proc/PID/stat utime+stime (clock ticks of ${1000 / CLOCK_TICKS_PER_SECOND} ms)`;
}

/** VmRSS of the whole tree in bytes. Pages shared between processes count once per process. */
export function readTreeRssBytes(pids) {
  let bytes = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
      if (match !== null) bytes += Number(match[1]) * KiB;
    } catch {
      // exited
    }
  }
  return bytes;
}

/** The soft limit on open files of this process. */
export function readOpenFileLimit() {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(
    readFileSync("/proc/self/limits", "latin1"),
  );
  if (match === null) return 1024;
  return match[1] === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}
