import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/**
 * Best effort, Linux only: which process listens on a TCP port, read from /proc/net/tcp{,6}
 * (the socket inode of the listener) and /proc/PID/fd (who holds that inode). Used only to word a
 * start-up error, so it may return null whenever /proc cannot tell (other users' processes
 * without privileges, other systems).
 */
export function findListeningProcess(port: number): { pid: number; name: string } | null {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1];
      // st 0A is TCP_LISTEN; the local address ends in :PORT in hex.
      if (local === undefined || columns[3] !== "0A") continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16) !== port) continue;
      const inode = columns[9];
      if (inode !== undefined && inode !== "0") inodes.add(inode);
    }
  }
  if (inodes.size === 0) return null;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1] !== undefined && inodes.has(match[1])) {
        let name = "?";
        try {
          name = readFileSync(`/proc/${pid}/comm`, "latin1").trim();
        } catch {
          // Gone already, or not ours to read: the pid alone still helps.
        }
        return { pid: Number(pid), name };
      }
    }
  }
  return null;
}
