/**
 * `berth connect` over TCP and Unix sockets, end to end: the real CLI against small servers
 * written here on node:net (loopback only), plus connectStream() with an injected resolver for
 * what the machine's own resolver cannot show (a name with both families).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { encodeFrame, encodeFrameHeader, FrameDecoder } from "../../src/net/frame-codec.js";
import { formatConnectAddress } from "../../src/toolkit/connect-target.js";
import { connectStream } from "../../src/toolkit/tcp-client.js";
import { hasIpv6Loopback } from "../helpers/cli-process.js";
import {
  killAllConnectProcesses,
  runConnectCli,
  startConnect,
} from "../helpers/connect-process.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";

after(killAllConnectProcesses);

/** A server under test, closed (its connections destroyed) by the after() hook. */
interface TestServer {
  readonly server: Server;
  readonly port: number;
  readonly connections: Socket[];
}

const servers: TestServer[] = [];
after(() => {
  for (const { server, connections } of servers) {
    for (const socket of connections) socket.destroy();
    server.close();
  }
});

async function startTcpServer(
  onConnection: (socket: Socket) => void,
  where: { host: string } | { path: string } = { host: "127.0.0.1" },
): Promise<TestServer> {
  const connections: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    connections.push(socket);
    socket.on("error", () => {});
    onConnection(socket);
  });
  if ("path" in where) server.listen(where.path);
  else server.listen({ host: where.host, port: 0 });
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const running = { server, port, connections };
  servers.push(running);
  return running;
}

/** Echoes every byte, and closes its side once the client has closed its own. */
function echo(socket: Socket): void {
  socket.pipe(socket);
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(host = "127.0.0.1"): Promise<number> {
  const probe = createServer();
  probe.listen({ host, port: 0 });
  await once(probe, "listening");
  const address = probe.address();
  probe.close();
  await once(probe, "close");
  return typeof address === "object" && address !== null ? address.port : 0;
}

/** 1 MiB of 0x00..0xFF repeated. */
function binaryMiB(): Buffer {
  const bytes = Buffer.alloc(1024 * 1024);
  for (let index = 0; index < bytes.length; index++) bytes[index] = index & 0xff;
  return bytes;
}

describe("berth connect over TCP", () => {
  test("1 MiB of every byte value comes back from an echo server byte-exact, exit 0", async () => {
    const { port } = await startTcpServer(echo);
    const input = binaryMiB();
    const run = await runConnectCli(["127.0.0.1", String(port)], input);
    assert.deepEqual({ code: run.code, stderr: run.stderr }, { code: 0, stderr: "" });
    assert.equal(run.stdout.length, input.length, "stdout length");
    assert.ok(run.stdout.equals(input), "stdout is not byte-exact");
  });

  test("stdin EOF half-closes: the server sees end and can still answer, exit 0", async () => {
    let serverSawEnd = false;
    const { port } = await startTcpServer((socket) => {
      let received = 0;
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.on("end", () => {
        serverSawEnd = true;
        socket.end(`got ${received} bytes, bye\n`);
      });
    });
    const run = await runConnectCli(["127.0.0.1", String(port)], "hello\n");
    assert.equal(serverSawEnd, true, "the server never saw the client's FIN");
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      { code: 0, stdout: "got 6 bytes, bye\n", stderr: "" },
    );
  });

  test("the peer closes while stdin is still open: everything printed, exit 0", async () => {
    const { port } = await startTcpServer((socket) => socket.end("welcome, goodbye\n"));
    const client = startConnect(["127.0.0.1", String(port)]);
    // stdin stays open: the client must not wait for it.
    const exit = await client.waitForExit();
    assert.deepEqual(
      { code: exit.code, stdout: client.stdoutText, stderr: client.stderr },
      { code: 0, stdout: "welcome, goodbye\n", stderr: "" },
      client.describe(),
    );
  });

  test("-v: status lines on stderr only, stdout untouched", async () => {
    const { port } = await startTcpServer(echo);
    const run = await runConnectCli(["-v", "127.0.0.1", String(port)], "ping\n");
    assert.equal(run.code, 0, run.process.describe());
    assert.equal(run.stdout.toString(), "ping\n");
    assert.deepEqual(run.stderr.split("\n"), [
      `berth: trying 127.0.0.1:${port}`,
      `berth: connected to 127.0.0.1:${port}`,
      "berth: stdin ended: sent FIN (half-close), still reading",
      `berth: connection closed by 127.0.0.1:${port}`,
      "",
    ]);
  });

  test("a reset after data: the data first, then one line, exit 1", async () => {
    const { port } = await startTcpServer((socket) => {
      socket.write("before the reset\n");
      socket.once("data", () => socket.resetAndDestroy());
    });
    const client = startConnect(["127.0.0.1", String(port)]);
    await client.waitForStdout(/before the reset\n/);
    client.write("go\n");
    const exit = await client.waitForExit();
    assert.deepEqual(
      { code: exit.code, stdout: client.stdoutText, stderr: client.stderr },
      {
        code: 1,
        stdout: "before the reset\n",
        stderr: `berth: Connection to 127.0.0.1:${port} lost: connection reset by peer\n`,
      },
      client.describe(),
    );
  });

  test("localhost: connects to whichever of its addresses has the server", async () => {
    const { port } = await startTcpServer(echo);
    const run = await runConnectCli(["localhost", String(port)], "via a name\n");
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      { code: 0, stdout: "via a name\n", stderr: "" },
    );
  });
});

describe("berth connect: connect failures are one line, exit 1", () => {
  test("connection refused", async () => {
    const port = await closedPort();
    const run = await runConnectCli(["127.0.0.1", String(port)], "unsent\n");
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      {
        code: 1,
        stdout: "",
        stderr: `berth: Cannot connect to 127.0.0.1:${port}: connection refused\n`,
      },
    );
  });

  test("unknown host (.invalid never resolves, RFC 6761)", async () => {
    const run = await runConnectCli(["no-such-host.invalid", "80"]);
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      {
        code: 1,
        stdout: "",
        stderr: "berth: Cannot connect to no-such-host.invalid:80: unknown host\n",
      },
    );
  });

  test("a Unix socket path where nothing listens", async () => {
    const run = await runConnectCli(["unix:/nonexistent/berth.sock"]);
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      {
        code: 1,
        stdout: "",
        stderr: "berth: Cannot connect to unix:/nonexistent/berth.sock: no such socket file\n",
      },
    );
  });
});

describe("berth connect: bad usage exits 2 with the usage line", () => {
  // biome-ignore format: a table reads best with one row per line
  const cases: [readonly string[], RegExp][] = [
    [["--nope", "127.0.0.1", "80"], /^berth: Unknown option '--nope'/],
    [["127.0.0.1"], /^berth: expected HOST PORT or unix:\/PATH, got no PORT$/],
    [["--udp", "unix:/tmp/x.sock"], /^berth: --udp cannot be used with unix: sockets$/],
  ];
  for (const [args, message] of cases) {
    test(`berth connect ${args.join(" ")}`, async () => {
      const run = await runConnectCli(args);
      const lines = run.stderr.split("\n");
      assert.equal(run.code, 2, run.process.describe());
      assert.equal(run.stdout.length, 0);
      assert.match(lines[0] ?? "", message);
      assert.match(lines[1] ?? "", /^Usage: berth connect HOST PORT \| unix:\/PATH /);
      assert.deepEqual(lines.slice(2), [""]);
    });
  }

  test("--help documents every flag, on stdout, exit 0", async () => {
    const run = await runConnectCli(["--help"]);
    assert.equal(run.code, 0);
    const help = run.stdout.toString();
    for (const flag of [
      "--connect-timeout-ms",
      "--attempt-delay-ms",
      "--framing",
      "--frame-type",
      "--frame-format",
      "--max-frame-bytes",
      "--max-line-bytes",
      "--udp",
      "--timeout-ms",
      "--retries",
      "--verbose",
      "--trace",
      "--help",
    ]) {
      assert.ok(help.includes(flag), `--help does not mention ${flag}`);
    }
  });
});

describe("berth connect unix:/PATH", () => {
  let temp = "";
  before(async () => {
    temp = await makeTempDir("berth-connect-");
  });
  after(() => removeTempDir(temp));

  test("echoes through a Unix domain socket", async () => {
    const path = join(temp, "echo.sock");
    await startTcpServer(echo, { path });
    const run = await runConnectCli([`unix:${path}`], "over a unix socket\n");
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      { code: 0, stdout: "over a unix socket\n", stderr: "" },
    );
  });
});

describe("berth connect --framing", () => {
  test("line: a partial line is held until its LF; stdin lines are sent ending in LF", async () => {
    let received = "";
    let server: Socket | null = null;
    const { port } = await startTcpServer((socket) => {
      server = socket;
      socket.setEncoding("utf8");
      socket.on("data", (text: string) => {
        received += text;
      });
      socket.on("end", () => socket.end("last line without LF"));
      // One write: a whole line and the start of the next arrive together.
      socket.write("first\nhel");
    });
    const client = startConnect(["--framing", "line", "127.0.0.1", String(port)]);
    await client.waitForStdout(/first\n/);
    assert.equal(client.stdoutText, "first\n", "a partial line was printed");
    assert.ok(server !== null);
    (server as Socket).write("lo\r\n");
    await client.waitForStdout(/hello\n/);
    client.end("a\r\nb\nc");
    const exit = await client.waitForExit();
    assert.deepEqual(
      { code: exit.code, stdout: client.stdoutText, stderr: client.stderr, received },
      {
        code: 0,
        stdout: "first\nhello\nlast line without LF\n",
        stderr: "",
        received: "a\nb\nc\n",
      },
      client.describe(),
    );
  });

  test("line: a stdin line over --max-line-bytes is an error line, exit 1", async () => {
    const { port } = await startTcpServer(echo);
    const args = ["--framing", "line", "--max-line-bytes", "4", "127.0.0.1", String(port)];
    const run = await runConnectCli(args, "abcd\nabcde\n");
    assert.deepEqual(
      { code: run.code, stderr: run.stderr },
      { code: 1, stderr: "berth: a stdin line is longer than --max-line-bytes (4)\n" },
      run.process.describe(),
    );
  });

  /** Answers each frame with the same payload uppercased and type + 1, then a binary frame of
   * type 7 once the client has closed its side. */
  function frameServer(socket: Socket): void {
    const decoder = new FrameDecoder();
    socket.on("data", (chunk: Buffer) => {
      decoder.push(chunk);
      for (let result = decoder.next(); result.kind === "frame"; result = decoder.next()) {
        const { type, payload } = result.frame;
        socket.write(encodeFrame(type + 1, payload.toString("utf8").toUpperCase()));
      }
    });
    socket.on("end", () => socket.end(encodeFrame(7, Buffer.from([0x00, 0xff, 0x0a]))));
  }

  // biome-ignore format: a table reads best with one row per line
  const lengthCases: [string, readonly string[], Buffer][] = [
    ["text (default): the payload, one line per frame", [], Buffer.from("HI\nTHERE\n\n\0\xff\n\n", "latin1")],
    ["hex: TYPE:HEX", ["--frame-format", "hex"], Buffer.from("2:4849\n2:5448455245\n2:\n7:00ff0a\n")],
    ["json: type, bytes, payload; --frame-type sets the type sent", ["--frame-format", "json", "--frame-type", "9"], Buffer.from('{"type":10,"bytes":2,"payload":"HI"}\n{"type":10,"bytes":5,"payload":"THERE"}\n{"type":10,"bytes":0,"payload":""}\n{"type":7,"bytes":3,"payload":"\\u0000\ufffd\\n"}\n')],
  ];
  for (const [name, flags, want] of lengthCases) {
    test(`length, ${name}`, async () => {
      const { port } = await startTcpServer(frameServer);
      const args = ["--framing", "length", ...flags, "127.0.0.1", String(port)];
      const run = await runConnectCli(args, "hi\nthere\n\n");
      assert.deepEqual(
        {
          code: run.code,
          stdout: JSON.stringify(run.stdout.toString("latin1")),
          stderr: run.stderr,
        },
        { code: 0, stdout: JSON.stringify(want.toString("latin1")), stderr: "" },
        run.process.describe(),
      );
    });
  }

  test("length: a frame over --max-frame-bytes is an error line, exit 1", async () => {
    const { port } = await startTcpServer((socket) => {
      socket.write(Buffer.concat([encodeFrame(1, "small"), encodeFrameHeader(1, 11)]));
    });
    const client = startConnect([
      "--framing",
      "length",
      "--max-frame-bytes",
      "10",
      "127.0.0.1",
      String(port),
    ]);
    const exit = await client.waitForExit();
    assert.deepEqual(
      { code: exit.code, stdout: client.stdoutText, stderr: client.stderr },
      {
        code: 1,
        stdout: "small\n",
        stderr: `berth: received a frame of 11 bytes, over --max-frame-bytes (10) (from 127.0.0.1:${port})\n`,
      },
      client.describe(),
    );
  });

  test("length: a frame cut short by the peer's close is an error line, exit 1", async () => {
    const { port } = await startTcpServer((socket) => {
      socket.end(encodeFrame(1, "truncated").subarray(0, 8));
    });
    const run = await runConnectCli(["--framing", "length", "127.0.0.1", String(port)]);
    assert.deepEqual(
      { code: run.code, stdout: run.stdout.toString(), stderr: run.stderr },
      {
        code: 1,
        stdout: "",
        stderr: `berth: the connection closed in the middle of a frame (from 127.0.0.1:${port})\n`,
      },
    );
  });
});

describe("connectStream: Happy Eyeballs on real loopback sockets", async () => {
  const ipv6 = await hasIpv6Loopback();
  const bothFamilies = async () => [
    { address: "127.0.0.1", family: 4 },
    { address: "::1", family: 6 },
  ];

  async function connectWith(port: number, lookup = bothFamilies, connectTimeoutMs = 5000) {
    const tried: string[] = [];
    const result = await connectStream(
      { kind: "tcp", host: "dual.test", port },
      {
        connectTimeoutMs,
        attemptDelayMs: 250,
        lookup,
        onAttempt: (address) => tried.push(formatConnectAddress(address)),
      },
    );
    if (result.kind === "connected") result.socket.destroy();
    const outcome =
      result.kind === "connected"
        ? `connected ${formatConnectAddress(result.address)}`
        : result.message;
    return { outcome, tried };
  }

  test("server on 127.0.0.1 only: ::1 is refused, the fallback connects", {
    skip: !ipv6 && "no ::1 here",
  }, async () => {
    const { port } = await startTcpServer(echo);
    assert.deepEqual(await connectWith(port), {
      outcome: `connected 127.0.0.1:${port}`,
      tried: [`[::1]:${port}`, `127.0.0.1:${port}`],
    });
  });

  test("server on ::1 only: IPv6 is tried first and wins alone", {
    skip: !ipv6 && "no ::1 here",
  }, async () => {
    const { port } = await startTcpServer(echo, { host: "::1" });
    assert.deepEqual(await connectWith(port), {
      outcome: `connected [::1]:${port}`,
      tried: [`[::1]:${port}`],
    });
  });

  test("both refused: one line naming every address tried", {
    skip: !ipv6 && "no ::1 here",
  }, async () => {
    const port = await closedPort();
    assert.deepEqual(await connectWith(port), {
      outcome: `Cannot connect to dual.test:${port}: connection refused (tried [::1]:${port}, 127.0.0.1:${port})`,
      tried: [`[::1]:${port}`, `127.0.0.1:${port}`],
    });
  });

  test("a resolver that never answers is bounded by --connect-timeout-ms", async () => {
    const never = () => new Promise<never>(() => {});
    assert.deepEqual(await connectWith(1, never, 50), {
      outcome: "Cannot connect to dual.test:1: timed out after 50 ms resolving the name",
      tried: [],
    });
  });

  test("connect attempts that never finish are bounded by the timeout", async () => {
    const tried: string[] = [];
    const result = await connectStream(
      { kind: "tcp", host: "127.0.0.1", port: 9 },
      {
        connectTimeoutMs: 60,
        attemptDelayMs: 250,
        connect: (address, signal) =>
          new Promise((_resolve, reject) => {
            tried.push(formatConnectAddress(address));
            signal.addEventListener("abort", () => reject(new Error("aborted")));
          }),
      },
    );
    assert.deepEqual(
      { result: result.kind === "error" ? result.message : result.kind, tried },
      { result: "Cannot connect to 127.0.0.1:9: timed out after 60 ms", tried: ["127.0.0.1:9"] },
    );
  });
});
