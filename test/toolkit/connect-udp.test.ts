/**
 * `berth connect --udp` end to end, against small node:dgram servers on loopback: replies one
 * per line, a lost datagram resent, a silent server given up on after timeout × tries, and the
 * ICMP answer of a port nobody listens on.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket as DgramSocket, type RemoteInfo } from "node:dgram";
import { once } from "node:events";
import { after, describe, test } from "node:test";
import { hasIpv6Loopback } from "../helpers/cli-process.js";
import { killAllConnectProcesses, runConnectCli } from "../helpers/connect-process.js";

after(killAllConnectProcesses);

interface UdpServer {
  readonly socket: DgramSocket;
  readonly port: number;
  /** Every datagram received, as text, in order. */
  readonly received: string[];
}

const servers: DgramSocket[] = [];
after(() => {
  for (const socket of servers) socket.close();
});

/** A UDP server; `reply` decides the answer to the n-th datagram (0-based), null = stay silent. */
async function startUdpServer(
  reply: (message: Buffer, index: number) => Buffer | null,
  host = "127.0.0.1",
): Promise<UdpServer> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  servers.push(socket);
  const received: string[] = [];
  socket.on("message", (message: Buffer, from: RemoteInfo) => {
    const answer = reply(message, received.length);
    received.push(message.toString());
    if (answer !== null) socket.send(answer, from.port, from.address);
  });
  socket.bind(0, host);
  await once(socket, "listening");
  return { socket, port: socket.address().port, received };
}

const echo = (message: Buffer): Buffer => message;

describe("berth connect --udp", async () => {
  const ipv6 = await hasIpv6Loopback();

  test("three lines, three datagrams without their LF, three replies printed one per line", async () => {
    const server = await startUdpServer(echo);
    const run = await runConnectCli(
      ["--udp", "127.0.0.1", String(server.port)],
      "one\ntwo\r\n\nthree",
    );
    assert.deepEqual(
      {
        code: run.code,
        stdout: run.stdout.toString(),
        stderr: run.stderr,
        received: server.received,
      },
      { code: 0, stdout: "one\ntwo\n\nthree\n", stderr: "", received: ["one", "two", "", "three"] },
    );
  });

  test("a reply that ends in LF is printed without a second one", async () => {
    const server = await startUdpServer((message) => Buffer.from(`${message}!\n`));
    const run = await runConnectCli(["--udp", "127.0.0.1", String(server.port)], "hey\n");
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString() },
      { code: 0, stdout: "hey!\n" },
    );
  });

  test("the first datagram is dropped: the line is sent again and answered", async () => {
    const server = await startUdpServer((message, index) => (index === 0 ? null : message));
    const args = [
      "--udp",
      "--timeout-ms",
      "100",
      "--retries",
      "1",
      "-v",
      "127.0.0.1",
      String(server.port),
    ];
    const run = await runConnectCli(args, "lost once\nsecond\n");
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), received: server.received },
      { code: 0, stdout: "lost once\nsecond\n", received: ["lost once", "lost once", "second"] },
      run.process.describe(),
    );
    assert.match(run.stderr, /^berth: no reply within 100 ms, sending again \(try 2 of 2\)$/m);
  });

  test("a server that never replies: no reply after timeout × tries, exit 1", async () => {
    const server = await startUdpServer(() => null);
    const args = [
      "--udp",
      "--timeout-ms",
      "100",
      "--retries",
      "1",
      "127.0.0.1",
      String(server.port),
    ];
    const run = await runConnectCli(args, "anyone?\nnever sent\n");
    assert.deepEqual(
      {
        code: run.code,
        stdout: run.stdout.toString(),
        stderr: run.stderr,
        received: server.received,
      },
      {
        code: 1,
        stdout: "",
        stderr: `berth: no reply from 127.0.0.1:${server.port} after 2 tries\n`,
        received: ["anyone?", "anyone?"],
      },
    );
    assert.ok(run.elapsedMs >= 200, `gave up after ${Math.round(run.elapsedMs)} ms, want ≥ 200`);
  });

  test("nothing listens on the port: the ICMP port unreachable ends it at once, exit 1", async () => {
    const closed = await startUdpServer(() => null);
    const port = closed.port;
    closed.socket.close();
    servers.splice(servers.indexOf(closed.socket), 1);
    const run = await runConnectCli(
      ["--udp", "--timeout-ms", "2000", "127.0.0.1", String(port)],
      "hello?\n",
    );
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      {
        code: 1,
        stdout: "",
        stderr: `berth: no reply from 127.0.0.1:${port}: connection refused (ICMP port unreachable: nothing listens there)\n`,
      },
    );
    assert.ok(
      run.elapsedMs < 2000,
      `took ${Math.round(run.elapsedMs)} ms: it waited for the timeout`,
    );
  });

  test("IPv6: [::1] over udp6", { skip: !ipv6 && "no ::1 here" }, async () => {
    const server = await startUdpServer(echo, "::1");
    const run = await runConnectCli(["--udp", "::1", String(server.port)], "six\n");
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      { code: 0, stdout: "six\n", stderr: "" },
    );
  });
});
