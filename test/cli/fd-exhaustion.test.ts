/**
 * Running out of file descriptors (RLIMIT_NOFILE lowered with prlimit): berth keeps serving the
 * connections it has, answers what it cannot open with 503, never crashes, and serves normally
 * once descriptors are free again.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { CLI_PATH } from "../helpers/cli-process.js";
import { exchange } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

/** Small enough to run out with a few dozen sockets, big enough for node itself to start. */
const NOFILE = 48;
const FLOOD_CONNECTIONS = 80;
let root = "";
let child: ChildProcess | null = null;

before(async () => {
  root = await makeTempDir("berth-fd-exhaustion-");
  await writeTree(root, { "digits.txt": "0123456789" });
});

after(async () => {
  child?.kill("SIGKILL");
  await removeTempDir(root);
});

function startUnderLimit(): Promise<{ port: number; stderr: () => string }> {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const args = [`--nofile=${NOFILE}:${NOFILE}`, process.execPath, CLI_PATH, "serve", root];
  args.push("--port", "0", "--host", "127.0.0.1", "--quiet", "--max-connections", "1000");
  const proc = spawn("prlimit", args, { env, stdio: ["ignore", "pipe", "pipe"] });
  child = proc;
  let out = "";
  let err = "";
  proc.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth did not start: ${out} ${err}`)), 5000);
    proc.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), stderr: () => err });
      }
    });
    proc.once("exit", (code) => reject(new Error(`berth exited ${code}: ${err}`)));
  });
}

test(`with RLIMIT_NOFILE ${NOFILE}, a flood of ${FLOOD_CONNECTIONS} connections never crashes berth`, async () => {
  const { port, stderr } = await startUnderLimit();
  const flood: Socket[] = [];
  const statuses = new Map<string, number>();
  const closed: Promise<void>[] = [];
  try {
    for (let i = 0; i < FLOOD_CONNECTIONS; i++) {
      const socket = connect(port, "127.0.0.1");
      flood.push(socket);
      // Listeners first: a connection dropped at accept closes before any later line runs.
      let text = "";
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
      });
      closed.push(
        new Promise<void>((resolve) => {
          socket.on("close", () => {
            const status = text.slice(9, 12) || "closed without answer";
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            resolve();
          });
        }),
      );
      setTimeout(() => socket.destroy(), 3000).unref();
    }
    // Each flooding connection asks for a file too: opens beyond the limit must answer 503.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const socket of flood) {
      if (!socket.destroyed) {
        socket.write("GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      }
    }
    await Promise.all(closed);
    assert.equal(child?.exitCode, null, `berth exited during the flood; stderr: ${stderr()}`);
    const summary = [...statuses].map(([status, n]) => `${status}×${n}`).join(", ");
    for (const status of statuses.keys()) {
      assert.ok(
        ["200", "503", "closed without answer"].includes(status),
        `unexpected answer ${status} under fd exhaustion (${summary})`,
      );
    }
    assert.ok((statuses.get("503") ?? 0) > 0, `no request met the fd shortage (${summary})`);
    assert.doesNotMatch(stderr(), /internal error| {4}at /, "no crash or stack trace");
  } finally {
    for (const socket of flood) socket.destroy();
  }
  // Descriptors are free again: berth serves normally.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { raw } = await exchange(
    port,
    "GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
  );
  assert.match(raw.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n0123456789$/);
});
