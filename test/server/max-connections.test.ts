/**
 * --max-connections: past the cap new connections get 503 and are closed, existing ones are
 * unaffected, a client arriving after a slot frees is served, and the rejections are logged at
 * most once a second.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { exchange, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  pollUntil,
  type RunningServer,
  startServer,
  writeStampedTree,
} from "../helpers/test-server.js";

const MAX_CONNECTIONS = 3;
const GET_DIGITS = "GET /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n";
let root = "";
let running: RunningServer;

before(async () => {
  root = await makeTempDir("berth-max-connections-");
  await writeStampedTree(root, { "digits.txt": "0123456789" });
  running = await startServer({ root, maxConnections: MAX_CONNECTIONS });
});

after(async () => {
  await running?.server.close();
  await removeTempDir(root);
});

function openIdle(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Sends one GET on a new connection and returns the status line of the answer. */
async function statusOfFreshRequest(port: number): Promise<string> {
  const { raw } = await exchange(port, `${GET_DIGITS.slice(0, -2)}Connection: close\r\n\r\n`);
  return raw.toString("latin1").split("\r\n", 1)[0] ?? "";
}

test("past --max-connections: 503 + Retry-After and close; others unaffected; a freed slot serves again", async () => {
  const { server, port, log } = running;
  const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => openIdle(port)));
  try {
    await pollUntil(() => server.connectionCount === MAX_CONNECTIONS, 2000);
    for (let extra = 1; extra <= 3; extra++) {
      const { raw, closedByServer } = await exchange(port, GET_DIGITS);
      const [busy] = parseResponses(raw, ["GET"]).responses;
      assert.equal(busy?.status, 503, `extra connection ${extra} got ${busy?.status}, want 503`);
      assert.equal(busy?.header("retry-after"), "1");
      assert.equal(busy?.header("connection"), "close");
      assert.ok(closedByServer, "the rejected connection is closed by the server");
    }
    assert.equal(server.connectionCount, MAX_CONNECTIONS, "rejections are not counted as served");
    // An existing connection is still served normally.
    const first = held[0] as Socket;
    const answer = new Promise<string>((resolve) => {
      let text = "";
      first.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        if (text.endsWith("0123456789")) resolve(text.split("\r\n", 1)[0] ?? "");
      });
    });
    first.write(GET_DIGITS);
    assert.equal(await answer, "HTTP/1.1 200 OK", "a held connection is unaffected");
    const rejectLines = log.errorLines.filter((line) => line.includes("max connections"));
    assert.equal(
      rejectLines.length,
      1,
      `rejections logged ${rejectLines.length} times in < 1 s, want 1`,
    );
    assert.match(rejectLines[0] ?? "", /max connections \(3\) reached/);

    // Free a slot: the next client is served.
    (held.pop() as Socket).destroy();
    await pollUntil(() => server.connectionCount === MAX_CONNECTIONS - 1, 2000);
    assert.equal(await statusOfFreshRequest(port), "HTTP/1.1 200 OK");
  } finally {
    for (const socket of held) socket.destroy();
  }
});
