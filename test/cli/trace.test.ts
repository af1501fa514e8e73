/**
 * `berth serve --trace`: one line per socket event on stderr, in the order they happened, with the
 * reason each connection closed; nothing of it without the flag.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { exchange } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

let root = "";

before(async () => {
  root = await makeTempDir("berth-trace-");
  await writeTree(root, { "digits.txt": "0123456789" });
});

after(async () => {
  killAllCliProcesses();
  await removeTempDir(root);
});

const PIPELINED =
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\n\r\nGET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/** The trace lines of one connection, without the time and id columns. */
function eventsOf(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("trace "))
    .map((line) => line.replace(/^trace \d\d:\d\d:\d\d\.\d{3} #\d+ /, ""));
}

async function traceOf(args: readonly string[]): Promise<string[]> {
  const cli = startCli(["serve", root, "--listen", "127.0.0.1:0", "--quiet", ...args]);
  const [url] = await cli.waitForUrls(1);
  assert.ok(url !== undefined);
  // Two pipelined requests in two writes, the second asking to close.
  await exchange(Number(url.port), [PIPELINED.slice(0, 20), PIPELINED.slice(20)], {
    writeDelayMs: 50,
  });
  await cli.stop("SIGTERM");
  return eventsOf(cli.stderr);
}

const SOCKET_LAYER_LINES = {
  auto: "plain connections use libuv's stream handles directly (--socket-api auto)",
  net: "plain connections use net.Socket (--socket-api net)",
};

for (const socketApi of ["auto", "net"] as const) {
  test(`--trace --socket-api ${socketApi}: the socket layer, then accept, reads as they arrived, requests, writes and the close reason`, async () => {
    const events = await traceOf(["--trace", "--socket-api", socketApi]);
    const shown = JSON.stringify(events, null, 1);
    // Node 20, 24 and 26 all expose the handles: auto must use them here, net must not.
    assert.equal(events[0], SOCKET_LAYER_LINES[socketApi], shown);
    // Reads are the chunks as TCP delivered them: the two writes may arrive as one or two reads
    // (a busy loop reads them together), but they always add up to what was sent.
    const reads = events.filter((event) => /^read \d+ B$/.test(event));
    const readBytes = reads.reduce((sum, event) => sum + Number(event.split(" ")[1]), 0);
    assert.ok(reads.length >= 1 && reads.length <= 2, `reads: ${shown}`);
    assert.equal(readBytes, PIPELINED.length, `read bytes add up to what was sent: ${shown}`);
    // The client asked to close and sent nothing more: berth closes at once, without waiting
    // for the client's FIN (which therefore never shows).
    // Everything else happens in this order; a small file's head and body leave in one write.
    const shape = events
      .slice(1)
      .filter((event) => !event.startsWith("read ") && event !== "peer FIN (half-close)")
      .map((event) => event.replace(/\d+/g, "N").replace(/from \S+/, "from PEER"));
    const want = [
      "accepted from PEER",
      "request GET /digits.txt HTTP/N.N (N B head)",
      "write N B",
      "request GET /digits.txt HTTP/N.N (N B head)",
      "write N B",
      "closing: Connection: close (all sent; the client asked to close: closed at once)",
      "closed (Connection: close)",
    ];
    assert.deepEqual(shape, want, `trace = ${shown}`);
  });
}

test("without --trace no trace line is written", async () => {
  assert.deepEqual(await traceOf([]), []);
});

test("--trace: bytes after a Connection: close request make berth linger instead of closing at once", async () => {
  // One write: the request that asks to close and a second one behind it arrive together, so
  // berth holds unread input; closing now could reset the connection before the client reads
  // the answer (RFC 9112 §9.6), so it half-closes and discards input until the client's FIN.
  const closeFirst =
    "GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n";
  const cli = startCli(["serve", root, "--listen", "127.0.0.1:0", "--quiet", "--trace"]);
  const [url] = await cli.waitForUrls(1);
  assert.ok(url !== undefined);
  const answer = await exchange(Number(url.port), [closeFirst]);
  await cli.stop("SIGTERM");
  const events = eventsOf(cli.stderr);
  const shown = JSON.stringify(events, null, 1);
  assert.equal(answer.raw.toString("latin1").match(/HTTP\/1\.1 200/g)?.length, 1, "one answer");
  assert.equal(answer.reset, false, "closed cleanly, not reset");
  assert.ok(events.includes("closing: Connection: close (FIN sent, lingering)"), shown);
  assert.ok(!events.some((event) => event.includes("closed at once")), shown);
});
