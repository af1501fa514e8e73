import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { exchange, type ParseResponsesResult, parseResponses, showBytes } from "./raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "./temp-dir.js";

/** One response per item: `status reason body`, then what was left over. */
function summarize(result: ParseResponsesResult): string {
  const responses = result.responses.map(
    (r) => `${r.status} ${r.reason} ${JSON.stringify(r.body.toString("latin1"))}`,
  );
  return `[${responses.join(", ")}] rest=${JSON.stringify(result.rest.toString("latin1"))}`;
}

const ok5 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const chunkedHello = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

// biome-ignore format: table rows stay one per line (STYLE.md rule 8)
const parseRows: [raw: string, methods: string[], want: string][] = [
  ["", [], `[] rest=""`],
  [ok5, ["GET"], `[200 OK "hello"] rest=""`],
  [`${ok5}${ok5}`, ["GET", "GET"], `[200 OK "hello", 200 OK "hello"] rest=""`],
  [`${ok5}HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n`, ["GET", "GET"], `[200 OK "hello", 404 Not Found ""] rest=""`],
  [`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n${ok5}`, ["HEAD", "GET"], `[200 OK "", 200 OK "hello"] rest=""`],
  [`HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n${ok5}`, ["GET", "GET"], `[304 Not Modified "", 200 OK "hello"] rest=""`],
  [`HTTP/1.1 204 No Content\r\n\r\n${ok5}`, ["DELETE", "GET"], `[204 No Content "", 200 OK "hello"] rest=""`],
  [`HTTP/1.1 100 Continue\r\n\r\n${ok5}`, ["PUT"], `[100 Continue "", 200 OK "hello"] rest=""`],
  [`HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nnot http`, ["GET"], `[101 Switching Protocols ""] rest="not http"`],
  [chunkedHello, ["GET"], `[200 OK "hello"] rest=""`],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nA\r\n, world!!!\r\n0\r\n\r\n", ["GET"], `[200 OK "hello, world!!!"] rest=""`],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n", ["GET"], `[200 OK "hello"] rest=""`],
  [`${chunkedHello}${ok5}`, ["GET", "GET"], `[200 OK "hello", 200 OK "hello"] rest=""`],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", ["GET"], `[200 OK "zzz"] rest=""`],
  ["HTTP/1.0 200 OK\r\n\r\nuntil close\r\n\r\nHTTP/1.1", ["GET"], `[200 OK "until close\\r\\n\\r\\nHTTP/1.1"] rest=""`],
  ["HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", ["GET"], `[200  ""] rest=""`],
  ["HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhel", ["GET"], `[] rest="HTTP/1.1 200 OK\\r\\nContent-Length: 9\\r\\n\\r\\nhel"`],
  [`${ok5}HTTP/1.1 200 OK\r\nCont`, ["GET", "GET"], `[200 OK "hello"] rest="HTTP/1.1 200 OK\\r\\nCont"`],
  [`${ok5}HT`, ["GET", "GET"], `[200 OK "hello"] rest="HT"`],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", ["GET"], `[] rest="HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n5\\r\\nhel"`],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 5\r\n", ["GET"], `[] rest="HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\nX-Sum: 5\\r\\n"`],
];

describe("parseResponses", () => {
  for (const [raw, methods, want] of parseRows) {
    const call = `parseResponses(${showBytes(Buffer.from(raw, "latin1"))}, ${JSON.stringify(methods)})`;
    test(call, () => {
      const input = Buffer.from(raw, "latin1");
      const result = parseResponses(input, methods);
      const got = summarize(result);
      assert.equal(got, want, `${call} = ${got}, want ${want}`);
      const rejoined = Buffer.concat([...result.responses.map((r) => r.raw), result.rest]);
      assert.deepEqual(rejoined, input, `${call}: raw slices + rest do not rebuild the input`);
    });
  }

  test("headers are lowercased in order, values trimmed, header() is case-insensitive", () => {
    const raw = "HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nX-A: 1\r\nx-a: 2\r\n\r\n";
    const [response] = parseResponses(Buffer.from(raw, "latin1"), ["HEAD"]).responses;
    assert.ok(response);
    assert.equal(response.version, "1.1");
    assert.deepEqual(response.headers, [
      ["content-type", "text/plain"],
      ["x-a", "1"],
      ["x-a", "2"],
    ]);
    assert.equal(response.header("CONTENT-TYPE"), "text/plain");
    assert.equal(response.header("X-a"), "1");
    assert.equal(response.header("missing"), undefined);
  });

  test("chunked trailers are returned apart from headers", () => {
    const raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 5\r\n\r\n";
    const [response] = parseResponses(Buffer.from(raw, "latin1"), ["GET"]).responses;
    assert.deepEqual(response?.trailers, [["x-sum", "5"]]);
    assert.equal(response?.header("x-sum"), undefined);
  });

  test("every prefix of a pipelined stream parses to a prefix of its responses", () => {
    const stream = Buffer.from(`${ok5}${chunkedHello}HTTP/1.1 304 Not Modified\r\n\r\n`, "latin1");
    const methods = ["GET", "GET", "GET"];
    const full = parseResponses(stream, methods).responses.map((r) => r.raw.toString("latin1"));
    assert.equal(full.length, 3);
    for (let end = 0; end <= stream.length; end++) {
      const prefix = stream.subarray(0, end);
      const result = parseResponses(prefix, methods);
      const got = result.responses.map((r) => r.raw.toString("latin1"));
      assert.deepEqual(got, full.slice(0, got.length), `prefix of ${end} bytes`);
      assert.deepEqual(Buffer.concat([...result.responses.map((r) => r.raw), result.rest]), prefix);
    }
  });
});

// biome-ignore format: table rows stay one per line (STYLE.md rule 8)
const throwRows: [raw: string, methods: string[], wantMessage: RegExp][] = [
  ["hello world\r\n\r\n", ["GET"], /expected "HTTP\/", got "hello world\\r\\n\\r\\n"/],
  ["hello", ["GET"], /expected "HTTP\/", got "hello"/],
  [`${ok5}<html>`, ["GET", "GET"], /at byte 43: expected "HTTP\/", got "<html>"/],
  ["HTTP/1.1 20 OK\r\n\r\n", ["GET"], /malformed status line at byte 0: "HTTP\/1.1 20 OK\\r\\n"/],
  ["HTTP/1.1 200\r\n\r\n", ["GET"], /malformed status line at byte 0: "HTTP\/1.1 200\\r\\n"/],
  ["HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", ["GET"], /bare CR or LF .*"HTTP\/1.1 200 OK\\nContent-Length: 0\\r\\n"/],
  ["HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", ["GET"], /malformed field line at byte 17: "Content-Length : 0"/],
  ["HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", ["GET"], /malformed field line at byte 25: " folded"/],
  ["HTTP/1.1 200 OK\r\nX-A: \x01\r\n\r\n", ["GET"], /malformed field line at byte 17: "X-A: \\x01"/],
  ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", ["GET"], /Content-Length with Transfer-Encoding/],
  ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", ["GET"], /more than one Content-Length/],
  ["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ["GET"], /malformed Content-Length "-1"/],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ["GET"], /malformed chunk-size line at byte 47: "zz\\r\\n"/],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz", ["GET"], /malformed chunk-size line at byte 47: "zz"/],
  ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", ["GET"], /not followed by CRLF after 2 bytes: "c\\r\\n0/],
  [`${ok5}${ok5}`, ["GET"], /response #2 at byte 43 has no request: only 1 method\(s\) given/],
];

describe("parseResponses throws on malformed input, showing the bytes", () => {
  for (const [raw, methods, wantMessage] of throwRows) {
    const call = `parseResponses(${showBytes(Buffer.from(raw, "latin1"))}, ${JSON.stringify(methods)})`;
    test(call, () => {
      assert.throws(() => parseResponses(Buffer.from(raw, "latin1"), methods), wantMessage);
    });
  }
});

/** Server-side sockets still open, so stopServer() can end them (they may be half-open). */
const openSockets = new WeakMap<Server, Set<Socket>>();

/** A server on 127.0.0.1 (or on `path`) that runs `onConnection` for each client. */
async function startServer(
  onConnection: (socket: Socket) => void,
  path?: string,
): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  openSockets.set(server, sockets);
  await new Promise<void>((resolve) => {
    if (path === undefined) server.listen(0, "127.0.0.1", resolve);
    else server.listen(path, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { server, port };
}

function stopServer(server: Server): Promise<void> {
  for (const socket of openSockets.get(server) ?? []) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Answers each request head (counted by its CRLFCRLF) with `ok5`; never closes on its own. */
function answerEachRequest(socket: Socket, seen: Buffer[] = []): void {
  let answered = 0;
  socket.on("data", (data: Buffer) => {
    seen.push(data);
    const heads = Buffer.concat(seen).toString("latin1").split("\r\n\r\n").length - 1;
    for (; answered < heads; answered++) socket.write(ok5);
  });
  socket.on("error", () => {});
}

const get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

describe("exchange", () => {
  test("reads until the server closes, sending latin1 bytes exactly", async () => {
    const seen: Buffer[] = [];
    const { server, port } = await startServer((socket) => {
      socket.on("data", (data: Buffer) => {
        seen.push(data);
        if (Buffer.concat(seen).includes("\r\n\r\n")) socket.end(ok5);
      });
    });
    try {
      const result = await exchange(port, "GET /\xe9\xff HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal(result.closedByServer, true);
      assert.equal(result.reset, false);
      assert.equal(result.raw.toString("latin1"), ok5);
      assert.deepEqual(
        Buffer.concat(seen).subarray(0, 8),
        Buffer.from([0x47, 0x45, 0x54, 0x20, 0x2f, 0xe9, 0xff, 0x20]),
      );
    } finally {
      await stopServer(server);
    }
  });

  test("until {responses: 2} returns after two pipelined responses on a kept-alive connection", async () => {
    const seen: Buffer[] = [];
    const { server, port } = await startServer((socket) => answerEachRequest(socket, seen));
    try {
      const result = await exchange(port, [get, get], {
        writeDelayMs: 20,
        until: { responses: 2, methods: ["GET", "GET"] },
      });
      assert.equal(result.closedByServer, false);
      const parsed = parseResponses(result.raw, ["GET", "GET"]);
      assert.equal(summarize(parsed), `[200 OK "hello", 200 OK "hello"] rest=""`);
      assert.equal(Buffer.concat(seen).toString("latin1"), `${get}${get}`);
    } finally {
      await stopServer(server);
    }
  });

  test("until {responses: 2} written as one pipelined chunk", async () => {
    const { server, port } = await startServer((socket) => answerEachRequest(socket));
    try {
      const result = await exchange(port, Buffer.from(`${get}${get}`, "latin1"), {
        until: { responses: 2, methods: ["GET", "GET"] },
      });
      assert.equal(result.closedByServer, false);
      assert.equal(result.raw.toString("latin1"), `${ok5}${ok5}`);
    } finally {
      await stopServer(server);
    }
  });

  test("until {responses: 2} resolves with closedByServer when the server closes after one", async () => {
    const { server, port } = await startServer((socket) => {
      socket.once("data", () => socket.end(ok5));
      socket.on("error", () => {});
    });
    try {
      const result = await exchange(port, `${get}${get}`, {
        until: { responses: 2, methods: ["GET", "GET"] },
      });
      assert.equal(result.closedByServer, true);
      assert.equal(summarize(parseResponses(result.raw, ["GET"])), `[200 OK "hello"] rest=""`);
    } finally {
      await stopServer(server);
    }
  });

  test("until {responses} rejects on a malformed response", async () => {
    const { server, port } = await startServer((socket) => {
      socket.once("data", () => socket.write("SSH-2.0-nope\r\n"));
      socket.on("error", () => {});
    });
    try {
      await assert.rejects(
        exchange(port, get, { until: { responses: 1, methods: ["GET"] } }),
        /expected "HTTP\/", got "SSH-2.0-nope\\r\\n"/,
      );
    } finally {
      await stopServer(server);
    }
  });

  test("halfClose ends our side, which this server waits for before answering", async () => {
    const { server, port } = await startServer((socket) => {
      socket.resume();
      socket.on("end", () => socket.end(ok5));
    });
    try {
      const result = await exchange(port, get, { halfClose: true });
      assert.equal(result.closedByServer, true);
      assert.equal(result.raw.toString("latin1"), ok5);
    } finally {
      await stopServer(server);
    }
  });

  test("timeout rejects naming what was received so far", async () => {
    const { server, port } = await startServer((socket) => {
      socket.once("data", () => socket.write("HTTP/1.1 200 OK\r\n"));
      socket.on("error", () => {});
    });
    try {
      await assert.rejects(
        exchange(port, get, { timeoutMs: 500 }),
        /timed out after 500 ms waiting for the server to close; received 17 bytes: "HTTP\/1.1 200 OK\\r\\n"/,
      );
    } finally {
      await stopServer(server);
    }
  });

  test("a refused connection rejects naming the target", async () => {
    const { server, port } = await startServer(() => {});
    await stopServer(server);
    await assert.rejects(
      exchange(port, get),
      new RegExp(`Cannot exchange with 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
  });

  test("a server reset resolves with reset: true", async () => {
    const { server, port } = await startServer((socket) => {
      socket.once("data", () => socket.resetAndDestroy());
    });
    try {
      const result = await exchange(port, get);
      assert.equal(result.closedByServer, true);
      assert.equal(result.reset, true);
    } finally {
      await stopServer(server);
    }
  });

  test("connects to a unix socket path when port is a string", async () => {
    const dir = await makeTempDir("berth-raw-client-");
    const path = join(dir, "server.sock");
    const { server } = await startServer((socket) => answerEachRequest(socket), path);
    try {
      const result = await exchange(path, get, { until: { responses: 1, methods: ["GET"] } });
      assert.equal(result.raw.toString("latin1"), ok5);
    } finally {
      await stopServer(server);
      await removeTempDir(dir);
    }
  });
});

describe("temp-dir", () => {
  test("writeTree creates nested files and empty directories; removeTempDir removes them", async () => {
    const dir = await makeTempDir("berth-temp-dir-");
    try {
      await writeTree(dir, {
        "a.txt": "a",
        "sub/deeper/b.bin": Buffer.from([0, 255]),
        "hello wörld.txt": "ö",
        "empty/": "",
      });
      assert.equal(await readFile(join(dir, "a.txt"), "utf8"), "a");
      assert.deepEqual(await readFile(join(dir, "sub/deeper/b.bin")), Buffer.from([0, 255]));
      assert.deepEqual(await readFile(join(dir, "hello wörld.txt")), Buffer.from([0xc3, 0xb6]));
      assert.deepEqual(await readdir(join(dir, "empty")), []);
    } finally {
      await removeTempDir(dir);
    }
    await assert.rejects(stat(dir), { code: "ENOENT" });
    await removeTempDir(dir);
  });

  test("writeTree refuses keys outside the directory", async () => {
    const dir = await makeTempDir("berth-temp-dir-");
    try {
      await assert.rejects(writeTree(dir, { "../escape.txt": "x" }), /not a path inside/);
      await assert.rejects(writeTree(dir, { "/etc/x": "x" }), /not a path inside/);
      await writeTree(dir, { "..dots.txt": "fine" });
      assert.equal(await readFile(join(dir, "..dots.txt"), "utf8"), "fine");
    } finally {
      await removeTempDir(dir);
    }
  });
});
