// Opens COUNT keep-alive connections to 127.0.0.1:PORT, sends one GET PATH on each, reads its
// response (RESPONSE_BYTES long) and then holds every connection open, idle, for workload (h).
//
//   node hold-connections.mjs PORT PATH RESPONSE_BYTES COUNT
//
// Prints one JSON line when every connection is answered or failed: { held, failed, firstError }.
// Then, for each "status" line on stdin, prints { open } (connections the server has not closed).
// Exits, closing them all, when stdin ends.
import { connect } from "node:net";
import { createInterface } from "node:readline";

/** Connections being opened at once: well below a listen backlog of 511. */
const OPENING_AT_ONCE = 200;
/** One connection must be answered within this, else it counts as failed. */
const ANSWER_TIMEOUT_MS = 20_000;

const [port, path, responseBytesText, countText] = process.argv.slice(2);
const responseBytes = Number(responseBytesText);
const count = Number(countText);
const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`;
const sockets = [];
let open = 0;
let failed = 0;
let firstError = null;

function holdOne() {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: Number(port) });
    let received = 0;
    let answered = false;
    const timer = setTimeout(() => fail(new Error("no answer in time")), ANSWER_TIMEOUT_MS);
    function fail(error) {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      failed += 1;
      firstError ??= error.message;
      socket.destroy();
      resolve();
    }
    let connected = false;
    socket.on("connect", () => {
      connected = true;
      open += 1;
      socket.write(request);
    });
    socket.on("data", (chunk) => {
      received += chunk.length;
      if (!answered && received >= responseBytes) {
        answered = true;
        clearTimeout(timer);
        sockets.push(socket);
        resolve();
      }
    });
    socket.on("error", fail);
    socket.on("close", () => {
      if (connected) open -= 1;
      fail(new Error("closed before the response"));
    });
  });
}

async function main() {
  let next = 0;
  async function opener() {
    while (next < count) {
      next += 1;
      await holdOne();
    }
  }
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, count) }, opener));
  process.stdout.write(`${JSON.stringify({ held: sockets.length, failed, firstError })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line.trim() === "status") process.stdout.write(`${JSON.stringify({ open })}\n`);
  });
  lines.on("close", () => {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
}

main();
