/**
 * The programmatic API as README documents it: every option of the example, through the public
 * entry point, serving a real request over TCP and a Unix socket.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import {
  createStaticServer,
  createStreamLogger,
  createStreamTracer,
  parseListenTarget,
} from "../src/index.js";
import { exchange } from "./helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "./helpers/temp-dir.js";

test("createStaticServer with every documented option serves, logs, traces and closes", async () => {
  const root = await makeTempDir("berth-api-");
  await writeTree(root, { "assets/app.js": "console.log(1);\n", "index.html": "<p>hi</p>\n" });
  const access = new PassThrough();
  const traced = new PassThrough();
  let accessText = "";
  let traceText = "";
  access.on("data", (chunk: Buffer) => {
    accessText += chunk.toString();
  });
  traced.on("data", (chunk: Buffer) => {
    traceText += chunk.toString();
  });
  const tcp = parseListenTarget("127.0.0.1:0", []);
  assert.equal(tcp.kind, "spec");
  const socketPath = join(root, "berth.sock");
  const server = createStaticServer({
    root,
    listen: [
      tcp.kind === "spec" ? tcp.spec : { kind: "unix", path: "/unused" },
      { kind: "unix", path: socketPath },
    ],
    socketMode: 0o660,
    dotfiles: "deny",
    symlinks: "contain",
    precompressed: ["br", "zstd", "gzip"],
    maxAgeSeconds: 60,
    immutableGlobs: ["assets/**"],
    maxRanges: 32,
    maxConnections: 4096,
    maxPipelinedBytes: 65_536,
    graceMs: 10_000,
    headerTimeoutMs: 10_000,
    bodyTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    sendTimeoutMs: 30_000,
    limits: {
      maxHeadBytes: 16_384,
      maxRequestLineBytes: 8_192,
      maxHeaderFields: 100,
      maxBodyBytes: 1_048_576,
    },
    log: createStreamLogger(access, null),
    trace: createStreamTracer(traced),
  });
  try {
    const addresses = await server.listen();
    assert.deepEqual(
      addresses.map((address) => address.kind),
      ["tcp", "unix"],
    );
    // Node 20, 24 and 26 all expose libuv's stream handles: the default must use them.
    assert.equal(server.socketApiInUse, "libuv");
    const [bound] = addresses;
    assert.ok(bound?.kind === "tcp");
    const request = "GET /assets/app.js HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    for (const target of [bound.port, socketPath]) {
      const text = (await exchange(target, request)).raw.toString("latin1");
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /\r\nCache-Control: public, max-age=31536000, immutable\r\n/);
      assert.ok(text.endsWith("console.log(1);\n"));
    }
  } finally {
    await server.close();
    await removeTempDir(root);
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(
    accessText.match(/"GET \/assets\/app\.js HTTP\/1\.1" 200 16/g)?.length,
    2,
    accessText,
  );
  assert.match(traceText, /#\d+ request GET \/assets\/app\.js HTTP\/1\.1/);
});

test('socketApi: "net" serves TCP and Unix connections through net.Socket, and says so', async () => {
  const root = await makeTempDir("berth-api-net-");
  await writeTree(root, { "a.txt": "over net.Socket\n" });
  const socketPath = join(root, "berth.sock");
  const server = createStaticServer({
    root,
    listen: [
      { kind: "tcp", hosts: ["127.0.0.1"], port: 0 },
      { kind: "unix", path: socketPath },
    ],
    socketApi: "net",
    log: createStreamLogger(null, null),
  });
  try {
    const [bound] = await server.listen();
    assert.ok(bound?.kind === "tcp");
    assert.equal(server.socketApiInUse, "net");
    for (const target of [bound.port, socketPath]) {
      const text = (
        await exchange(target, "GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
      ).raw.toString("latin1");
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(text.endsWith("over net.Socket\n"), text);
    }
  } finally {
    await server.close();
    await removeTempDir(root);
  }
});
