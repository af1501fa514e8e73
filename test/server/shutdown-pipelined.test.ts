/**
 * Graceful shutdown with requests pipelined behind a response in flight: every request the
 * server already received is answered, the ones answered after the shutdown began say
 * Connection: close, and the connection closes when nothing is left to answer.
 */
import assert from "node:assert/strict";
import { truncateSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import { startServer } from "../helpers/test-server.js";

const BIG_BYTES = 16 * 1024 * 1024;
let root = "";

before(async () => {
  root = await makeTempDir("berth-shutdown-pipelined-");
  writeFileSync(join(root, "hello.txt"), "hello\n");
  writeFileSync(join(root, "big.bin"), "");
  truncateSync(join(root, "big.bin"), BIG_BYTES); // sparse: no disk used
});

after(async () => {
  await removeTempDir(root);
});

test("close() answers every request pipelined behind the one in flight; only the last says Connection: close", async () => {
  const { server, port } = await startServer({ root, graceMs: 5000 });
  const socket = connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  let closed = false;
  const closedPromise = new Promise<void>((resolve) => {
    socket.on("close", () => {
      closed = true;
      resolve();
    });
  });
  // The first byte of the big response proves its head went out before the shutdown.
  const firstData = new Promise<void>((resolve) => socket.once("data", () => resolve()));
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  // Three requests wait behind the big one: all are answered, only the last says close.
  socket.write(
    `GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n${"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n".repeat(3)}`,
    "latin1",
  );
  await firstData;
  const closing = server.close();
  await closedPromise;
  await closing;

  const { responses, rest } = parseResponses(Buffer.concat(chunks), ["GET", "GET", "GET", "GET"]);
  assert.equal(responses.length, 4, `responses after close() = ${responses.length}, want 4`);
  const [big, ...hellos] = responses;
  assert.equal(big?.status, 200);
  assert.equal(big?.body.length, BIG_BYTES, "the response in flight finished whole");
  assert.equal(big?.header("connection"), undefined, "its head went out before the shutdown");
  const got = hellos.map(
    (r) => `${r.status} ${r.body.toString("latin1").trim()} ${r.header("connection")}`,
  );
  const want = ["200 hello undefined", "200 hello undefined", "200 hello close"];
  assert.deepEqual(
    got,
    want,
    "every request received is answered; only the last answer says close",
  );
  assert.equal(rest.length, 0);
  assert.ok(closed, "the server closed the connection once nothing was left to answer");
});
