/**
 * HTTPS in-process: the same connection code behind node:tls (ALPN http/1.1, keep-alive), the
 * handshake timeout that bounds a client stalling before any request exists, plain and TLS
 * listeners side by side, and berth's own files (TLS key, config, log) never served.
 */
import assert from "node:assert/strict";
import { readFile, symlink } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { createStaticServer, type StaticServer } from "../../src/server/static-server.js";
import { exchange, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";
import { createCapturingLogger, startServer } from "../helpers/test-server.js";
import { makeTestCertificate, type TestCertificate } from "../helpers/tls-cert.js";
import { tlsExchange } from "../helpers/tls-client.js";

const GET = (path: string, extra = ""): string =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;

describe("HTTPS", () => {
  let dir = "";
  let root = "";
  let files: TestCertificate;
  let cert = Buffer.alloc(0);
  let key = Buffer.alloc(0);
  before(async () => {
    dir = await makeTempDir("berth-tls-");
    root = join(dir, "site");
    await writeTree(root, {
      "digits.txt": "0123456789",
      "berth.json": "{}",
      "notes.txt": "notes\n",
    });
    // The certificate and key inside the served directory: the key must never be served.
    files = await makeTestCertificate(root);
    cert = await readFile(files.certFile);
    key = await readFile(files.keyFile);
    await symlink("key.pem", join(root, "key-alias.txt"));
  });
  after(() => removeTempDir(dir));

  test("ALPN picks http/1.1; two requests on one connection (keep-alive)", async (t) => {
    const running = await startServer({ root, tls: { cert, key } });
    t.after(() => running.server.close());
    assert.deepEqual(running.server.tlsAddresses, running.server.addresses);
    const { alpnProtocol, responses } = await tlsExchange(running.port, cert, [
      GET("/digits.txt"),
      GET("/notes.txt", "Range: bytes=1-3\r\n"),
    ]);
    assert.equal(alpnProtocol, "http/1.1");
    assert.deepEqual(
      responses.map((r) => [r.status, r.body.toString("latin1"), r.header("connection")]),
      [
        [200, "0123456789", undefined],
        [206, "ote", undefined],
      ],
    );
    assert.equal(running.log.accessLines.length, 2, running.log.accessLines.join("\n"));
  });

  test("berth's own files are 404 even inside the root, also through a symlink", async (t) => {
    const running = await startServer({
      root,
      tls: { cert, key },
      hiddenFiles: [files.keyFile, join(root, "berth.json"), join(root, "access.log")],
    });
    t.after(() => running.server.close());
    const paths = [
      "/key.pem",
      "/key-alias.txt",
      "/berth.json",
      "/access.log",
      "/cert.pem",
      "/digits.txt",
    ];
    const { responses } = await tlsExchange(
      running.port,
      cert,
      paths.map((path) => GET(path)),
    );
    assert.deepEqual(
      responses.map((r, i) => `${paths[i]} ${r.status}`),
      [
        "/key.pem 404",
        "/key-alias.txt 404",
        "/berth.json 404",
        "/access.log 404",
        "/cert.pem 200",
        "/digits.txt 200",
      ],
    );
  });

  test("a client that stalls before finishing the handshake is dropped after the handshake timeout", async (t) => {
    const handshakeMs = 400;
    const running = await startServer({
      root,
      tls: { cert, key },
      tlsHandshakeTimeoutMs: handshakeMs,
      // The header timeout only starts once a connection exists (after the handshake): it must
      // not be what closes this one.
      headerTimeoutMs: 60_000,
    });
    t.after(() => running.server.close());
    const startMs = performance.now();
    const closedAfterMs = await new Promise<number>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: running.port });
      socket.on("error", () => {}); // a reset is a close too
      socket.on("close", () => resolve(performance.now() - startMs));
      setTimeout(() => {
        socket.destroy();
        reject(new Error("still open after 10 s"));
      }, 10_000).unref();
    });
    assert.ok(
      closedAfterMs >= handshakeMs - 50,
      `closed after ${Math.round(closedAfterMs)} ms, before the timeout`,
    );
    assert.equal(running.server.connectionCount, 0);
  });

  test("a client trickling its ClientHello is dropped at the handshake timeout, not later", async (t) => {
    const handshakeMs = 400;
    const running = await startServer({
      root,
      tls: { cert, key },
      tlsHandshakeTimeoutMs: handshakeMs,
      headerTimeoutMs: 60_000,
    });
    t.after(() => running.server.close());
    const hello = await captureClientHello();
    const startMs = performance.now();
    const { closedAfterMs, sentBytes } = await new Promise<{
      closedAfterMs: number;
      sentBytes: number;
    }>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: running.port });
      let sent = 0;
      // One byte every 50 ms: the whole hello would take ~17 s; each byte is activity.
      const trickle = setInterval(() => {
        if (sent < hello.length - 1) socket.write(hello.subarray(sent, ++sent));
      }, 50);
      socket.on("error", () => {});
      socket.on("close", () => {
        clearInterval(trickle);
        resolve({ closedAfterMs: performance.now() - startMs, sentBytes: sent });
      });
      setTimeout(() => {
        clearInterval(trickle);
        socket.destroy();
        reject(new Error(`still open after 10 s, ${sent} bytes sent`));
      }, 10_000).unref();
    });
    assert.ok(closedAfterMs >= handshakeMs - 50, `closed after ${Math.round(closedAfterMs)} ms`);
    assert.ok(
      sentBytes < hello.length - 1,
      `the whole hello went out (${sentBytes} B) before the close`,
    );
  });

  test("ALPN: a client offering only h2 is refused; one offering nothing gets HTTP/1.1", async (t) => {
    const running = await startServer({ root, tls: { cert, key } });
    t.after(() => running.server.close());
    const outcome = (ALPNProtocols: string[] | undefined): Promise<string> =>
      new Promise((resolve) => {
        const socket = tlsConnect({
          host: "127.0.0.1",
          port: running.port,
          ca: cert,
          servername: "localhost",
          ...(ALPNProtocols === undefined ? {} : { ALPNProtocols }),
        });
        socket.on("secureConnect", () => {
          resolve(`connected, alpn ${String(socket.alpnProtocol)}`);
          socket.destroy();
        });
        socket.on("error", (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
      });
    assert.equal(await outcome(["h2"]), "error ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
    assert.equal(await outcome(undefined), "connected, alpn false");
    const { responses } = await tlsExchange(running.port, cert, [GET("/digits.txt")]);
    assert.equal(responses[0]?.status, 200);
  });

  test("plain HTTP sent to the TLS port is closed; the server keeps serving", async (t) => {
    const running = await startServer({ root, tls: { cert, key } });
    t.after(() => running.server.close());
    const result = await exchange(running.port, GET("/digits.txt"), { timeoutMs: 5000 });
    assert.ok(result.closedByServer, "the server did not close");
    assert.ok(!result.raw.toString("latin1").includes("HTTP/1.1"), "answered in plain HTTP");
    const { responses } = await tlsExchange(running.port, cert, [GET("/digits.txt")]);
    assert.equal(responses[0]?.status, 200);
  });

  test("plain and TLS listeners together: tlsListen is TLS, the rest plain", async (t) => {
    const server: StaticServer = createStaticServer({
      root,
      hosts: ["127.0.0.1"],
      port: 0,
      tls: { cert, key },
      tlsListen: [{ kind: "tcp", hosts: ["127.0.0.1"], port: 0 }],
      log: createCapturingLogger(),
    });
    t.after(() => server.close());
    const addresses = await server.listen();
    assert.equal(addresses.length, 2);
    const [plain, secure] = addresses;
    assert.deepEqual(server.tlsAddresses, [secure]);
    assert.ok(plain?.kind === "tcp" && secure?.kind === "tcp");
    const { raw } = await exchange(plain.port, GET("/digits.txt", "Connection: close\r\n"));
    assert.equal(parseResponses(raw, ["GET"]).responses[0]?.body.toString(), "0123456789");
    const { responses } = await tlsExchange(secure.port, cert, [GET("/digits.txt")]);
    assert.equal(responses[0]?.body.toString(), "0123456789");
  });

  test("tlsListen without plain addresses: only the TLS listener", async (t) => {
    const server = createStaticServer({
      root,
      tls: { cert, key },
      tlsListen: [{ kind: "tcp", hosts: ["127.0.0.1"], port: 0 }],
      log: createCapturingLogger(),
    });
    t.after(() => server.close());
    const addresses = await server.listen();
    assert.equal(addresses.length, 1);
    assert.deepEqual(server.tlsAddresses, addresses);
  });

  test("a mismatched key is refused before anything listens", async () => {
    const other = await readFile(files.otherKeyFile);
    const server = createStaticServer({
      root,
      hosts: ["127.0.0.1"],
      port: 0,
      tls: { cert, key: other },
    });
    await assert.rejects(
      server.listen(),
      /^Error: Cannot serve HTTPS: the certificate and key: the key does not belong/,
    );
    assert.deepEqual(server.addresses, []);
  });
});

describe("access logging off", () => {
  test("a Logger with request: null gets no record and no line", async (t) => {
    const dir = await makeTempDir("berth-quiet-");
    t.after(() => removeTempDir(dir));
    await writeTree(dir, { "a.txt": "a" });
    const accessLines: string[] = [];
    const server = createStaticServer({
      root: dir,
      hosts: ["127.0.0.1"],
      port: 0,
      log: { access: (line) => accessLines.push(line), error: () => {}, request: null },
    });
    t.after(() => server.close());
    const [address] = await server.listen();
    assert.ok(address?.kind === "tcp");
    const { raw } = await exchange(
      address.port,
      `${GET("/a.txt")}${GET("/missing", "Connection: close\r\n")}`,
    );
    assert.deepEqual(
      parseResponses(raw, ["GET", "GET"]).responses.map((r) => r.status),
      [200, 404],
    );
    assert.deepEqual(accessLines, []);
  });
});

/** The first bytes a TLS client sends (its ClientHello), caught by a plain TCP listener. */
function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const catcher = createServer((socket) => {
      socket.once("data", (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
        catcher.close();
      });
    });
    catcher.on("error", reject);
    catcher.listen(0, "127.0.0.1", () => {
      const address = catcher.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      const client = tlsConnect({
        host: "127.0.0.1",
        port: address.port,
        rejectUnauthorized: false,
      });
      client.on("error", () => {});
    });
  });
}
