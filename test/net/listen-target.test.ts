import assert from "node:assert/strict";
import { test } from "node:test";
import { type ParsedListen, parseListenTarget } from "../../src/net/listen-target.js";

const LOOPBACK = ["127.0.0.1", "::1"];
const tcp = (hosts: string[], port: number): ParsedListen => ({
  kind: "spec",
  spec: { kind: "tcp", hosts, port },
});
const unix = (path: string): ParsedListen => ({ kind: "spec", spec: { kind: "unix", path } });
const error = (fragment: string) => fragment;

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [text: string, want: ParsedListen | string]> = [
  ["8080",                  tcp(LOOPBACK, 8080)],
  ["0",                     tcp(LOOPBACK, 0)],
  ["127.0.0.1:8080",        tcp(["127.0.0.1"], 8080)],
  ["0.0.0.0:80",            tcp(["0.0.0.0"], 80)],
  ["localhost:0",           tcp(["localhost"], 0)],
  ["[::1]:8080",            tcp(["::1"], 8080)],
  ["[::]:65535",            tcp(["::"], 65535)],
  ["unix:/tmp/berth.sock",  unix("/tmp/berth.sock")],
  ["unix:relative.sock",    unix("relative.sock")],
  ["unix:",                 error("the socket path is empty")],
  ["unix:/a\0b",            error("NUL")],
  ["::1:8080",              error("brackets")],
  ["[::1]8080",             error("expected [IPV6]:PORT")],
  ["[127.0.0.1]:80",        error("is not an IPv6 address")],
  [":8080",                 error("the host is empty")],
  ["host:",                 error("the port must be")],
  ["host:65536",            error("the port must be")],
  ["host:-1",               error("the port must be")],
  ["host:http",             error("the port must be")],
  ["",                      error("the port must be")],
];

for (const [text, want] of rows) {
  test(`parseListenTarget(${JSON.stringify(text)})`, () => {
    const got = parseListenTarget(text, LOOPBACK);
    if (typeof want === "string") {
      assert.equal(
        got.kind,
        "error",
        `parseListenTarget(${JSON.stringify(text)}) = ${JSON.stringify(got)}, want an error`,
      );
      if (got.kind === "error") {
        assert.ok(got.message.includes(want), `error "${got.message}" does not say "${want}"`);
        assert.ok(
          got.message.startsWith(`--listen ${text}: `),
          `error "${got.message}" names the flag`,
        );
      }
    } else {
      assert.deepEqual(
        got,
        want,
        `parseListenTarget(${JSON.stringify(text)}) = ${JSON.stringify(got)}`,
      );
    }
  });
}
