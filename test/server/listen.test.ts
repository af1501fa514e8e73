/**
 * Listening on Unix sockets and several addresses at once, through the server API, and the
 * start-up errors that come with them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SILENT_LOGGER } from "../../src/server/log.js";
import { createStaticServer } from "../../src/server/static-server.js";
import { exchange } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

const GET = "GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
let root = "";
let sockets = "";

before(async () => {
  root = await makeTempDir("berth-listen-root-");
  sockets = await makeTempDir("berth-listen-sockets-");
  await writeTree(root, { "digits.txt": "0123456789" });
});

after(async () => {
  await removeTempDir(root);
  await removeTempDir(sockets);
});

function bodyOf(raw: Buffer): string {
  const text = raw.toString("latin1");
  return `${text.split("\r\n", 1)[0]} ${text.slice(text.indexOf("\r\n\r\n") + 4)}`;
}

function listenUnix(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.end());
    server.listen(path, () => resolve(server));
  });
}

test("serves on a Unix socket and TCP at once; the socket file has the mode and goes on close", async () => {
  const path = join(sockets, "both.sock");
  const server = createStaticServer({
    root,
    listen: [
      { kind: "unix", path },
      { kind: "tcp", hosts: ["127.0.0.1"], port: 0 },
    ],
    socketMode: 0o660,
    log: SILENT_LOGGER,
  });
  const addresses = await server.listen();
  try {
    assert.deepEqual(
      addresses.map((a) => a.kind),
      ["unix", "tcp"],
    );
    assert.equal(statSync(path).mode & 0o777, 0o660, "socket file mode");
    assert.equal(bodyOf((await exchange(path, GET)).raw), "HTTP/1.1 200 OK 0123456789");
    const tcp = addresses[1];
    assert.ok(tcp?.kind === "tcp");
    assert.equal(bodyOf((await exchange(tcp.port, GET)).raw), "HTTP/1.1 200 OK 0123456789");
  } finally {
    await server.close();
  }
  assert.equal(existsSync(path), false, "the socket file is removed on close");
});

test("a stale socket file (nobody accepts) is replaced", async () => {
  const path = join(sockets, "stale.sock");
  // A crashed run: a process listens, then dies by SIGKILL; its socket file stays behind.
  const script = `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`;
  const crashed = spawnSync(process.execPath, ["-e", script]);
  assert.equal(crashed.signal, "SIGKILL", "the listener died as planned");
  assert.ok(existsSync(path) && statSync(path).isSocket(), "a stale socket file is there");
  const server = createStaticServer({ root, listen: [{ kind: "unix", path }], log: SILENT_LOGGER });
  await server.listen();
  try {
    assert.equal(bodyOf((await exchange(path, GET)).raw), "HTTP/1.1 200 OK 0123456789");
  } finally {
    await server.close();
  }
});

// biome-ignore format: one row per line
const refusals: ReadonlyArray<readonly [name: string, prepare: (path: string) => Promise<() => void>, want: RegExp]> = [
  ["a regular file is never removed",  async (path) => { writeFileSync(path, "keep me"); return () => {}; },                          /a file that is not a socket is there; berth will not remove it/],
  ["a live socket is in use",          async (path) => { const live = await listenUnix(path); return () => live.close(); },            /address already in use \(a server accepts there\)/],
];

for (const [name, prepare, want] of refusals) {
  test(`unix socket refused: ${name}`, async () => {
    const path = join(sockets, `${name.replaceAll(" ", "-")}.sock`);
    const cleanup = await prepare(path);
    try {
      const server = createStaticServer({
        root,
        listen: [{ kind: "unix", path }],
        log: SILENT_LOGGER,
      });
      await assert.rejects(server.listen(), (error: Error) => {
        assert.match(error.message, new RegExp(`^Cannot listen on unix:${path}: `));
        assert.match(error.message, want);
        return true;
      });
      assert.ok(existsSync(path), "what was there is still there");
    } finally {
      cleanup();
    }
  });
}

test("a TCP port in use: the error names the process listening there", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const address = blocker.address();
  assert.ok(address !== null && typeof address === "object");
  try {
    const server = createStaticServer({
      root,
      listen: [{ kind: "tcp", hosts: ["127.0.0.1"], port: address.port }],
      log: SILENT_LOGGER,
    });
    await assert.rejects(server.listen(), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${address.port}: address already in use`),
      );
      // This test process holds the port; /proc tells berth so (Linux).
      assert.match(error.message, new RegExp(`process ${process.pid} \\(`));
      assert.match(error.message, /not a TIME_WAIT leftover/);
      return true;
    });
  } finally {
    blocker.close();
  }
});
