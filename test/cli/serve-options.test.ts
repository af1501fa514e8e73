/**
 * From flags and berth.json to the resolved options, without a process: flag parsing (the same
 * bounds as the config), the command line overriding the file, and the pairs resolved last.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseArgs } from "node:util";
import { UsageError } from "../../src/cli/args.js";
import { SERVE_OPTIONS, type ServeChoices } from "../../src/cli/config.js";
import {
  choicesFromFlags,
  configSourceOf,
  type FlagValues,
  mergeChoices,
  resolveServe,
  serveParseArgsOptions,
} from "../../src/cli/serve-options.js";

function parse(argv: readonly string[]): { values: FlagValues; positionals: string[] } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: serveParseArgsOptions(),
  });
  return { values: values as FlagValues, positionals };
}

function choices(argv: readonly string[]): ServeChoices {
  const { values, positionals } = parse(argv);
  return choicesFromFlags(values, positionals);
}

// biome-ignore format: one row per line
const goodRows: ReadonlyArray<readonly [string[], ServeChoices]> = [
  [[],                                              {}],
  [["site"],                                        { root: "site" }],
  [["--port", "0"],                                 { port: 0 }],
  [["--max-age", "3600", "--quiet"],                { maxAge: 3600, quiet: true }],
  [["--listen", "8080", "--listen", "unix:/s"],     { listen: [{ kind: "tcp", hosts: ["127.0.0.1", "::1"], port: 8080 }, { kind: "unix", path: "/s" }] }],
  [["--tls-listen", "[::1]:8443"],                  { tlsListen: [{ kind: "tcp", hosts: ["::1"], port: 8443 }] }],
  [["--socket-mode", "660"],                        { socketMode: 0o660 }],
  [["--header", "X-A: 1", "--header", "x-a:2"],     { headers: [{ name: "X-A", value: "1" }, { name: "x-a", value: "2" }] }],
  [["--cors"],                                      { cors: true }],
  [["--cors-origin", "https://a.example"],          { corsOrigins: ["https://a.example"] }],
  [["--precompressed", "gzip,br"],                  { precompressed: ["gzip", "br"] }],
  [["--no-precompressed"],                          { precompressed: [] }],
  [["--log-format", "combined", "--log-file", "a.log"], { logFormat: "combined", logFile: "a.log" }],
  [["--workers", "auto"],                           { workers: "auto" }],
  [["--workers", "4"],                              { workers: 4 }],
  [["--listing", "--spa", "--spa-file", "200.html", "--clean-urls"], { listing: true, spa: true, spaFile: "200.html", cleanUrls: true }],
  [["--tls-cert", "c.pem", "--tls-key", "k.pem"],   { tlsCert: "c.pem", tlsKey: "k.pem" }],
  [["--cache-bytes", "0"],                          { cacheBytes: 0 }],
];

describe("choicesFromFlags", () => {
  for (const [argv, want] of goodRows) {
    test(`berth serve ${argv.join(" ")}`.trim(), () => {
      assert.deepEqual(choices(argv), want);
    });
  }

  // biome-ignore format: one row per line
  const badRows: ReadonlyArray<readonly [string[], RegExp]> = [
    [["a", "b"],                                    /expected one directory, got 2/],
    [["--port", "65536"],                           /^--port must be between 0 and 65535, got 65536$/],
    [["--max-head-bytes", "63"],                    /^--max-head-bytes must be between 64 and/],
    [["--workers", "0"],                            /^--workers must be between 1 and 1024, got 0$/],
    [["--workers", "many"],                         /^--workers expects a whole number, got "many"$/],
    [["--log-format", "xml"],                       /^--log-format must be one of common, combined, json, got "xml"$/],
    [["--listen", "80", "--port", "80"],            /^--listen cannot be combined with --host or --port$/],
    [["--listen", "nope"],                          /^--listen nope: the port must be a number/],
    [["--tls-listen", "70000"],                     /^--tls-listen 70000: the port must be a number/],
    [["--socket-mode", "999"],                      /^--socket-mode expects octal permission bits/],
    [["--header", "X-A: a\r\nX-B: b"],              /^--header "X-A: a\\r\\nX-B: b": the value of X-A holds a CR/],
    [["--header", "Content-Length: 0"],             /^--header "Content-Length: 0": Content-Length cannot be set/],
    [["--header", "nocolon"],                       /^--header "nocolon": expected "Name: value"$/],
    [["--cors-origin", "https://A.example/"],       /^--cors-origin https:\/\/A\.example\/: not a serialized origin \(write https:\/\/a\.example\)$/],
    [["--cors", "--cors-origin", "https://a.b"],    /^--cors allows any origin; drop it or --cors-origin$/],
    [["--precompressed", "gzip", "--no-precompressed"], /^--precompressed and --no-precompressed conflict$/],
    [["--precompressed", "deflate"],                /^--precompressed: unknown coding "deflate"/],
    [["--immutable", "/assets/**"],                 /^--immutable \/assets\/\*\*: globs are relative to the served root/],
    [["--spa-file", ""],                            /^--spa-file expects a value$/],
  ];
  for (const [argv, message] of badRows) {
    test(`berth serve ${JSON.stringify(argv)} is a usage error`, () => {
      assert.throws(
        () => choices(argv),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        `want ${message}`,
      );
    });
  }

  test("a key is its flag in camelCase, but for the three README names for repeatable flags", () => {
    const renamed: Record<string, string> = {
      hosts: "host",
      corsOrigins: "cors-origin",
      headers: "header",
    };
    for (const [key, option] of Object.entries(SERVE_OPTIONS)) {
      if (option.flag === null) continue;
      const camel = option.flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
      if (key in renamed) assert.equal(option.flag, renamed[key], key);
      else assert.equal(key, camel, `--${option.flag} has key ${key}`);
    }
  });

  test("every option but root and rules has a flag, and parseArgs knows it", () => {
    const known = serveParseArgsOptions();
    for (const [key, option] of Object.entries(SERVE_OPTIONS)) {
      if (key === "root" || key === "rules") assert.equal(option.flag, null);
      else assert.ok(option.flag !== null && option.flag in known, `${key}: no flag`);
    }
  });
});

describe("configSourceOf", () => {
  test("--config FILE, --no-config, or the default ./berth.json", () => {
    assert.deepEqual(configSourceOf(parse(["--config", "x.json"]).values), {
      kind: "file",
      path: "x.json",
    });
    assert.deepEqual(configSourceOf(parse(["--no-config"]).values), { kind: "none" });
    assert.deepEqual(configSourceOf(parse([]).values), { kind: "default" });
    assert.throws(() => configSourceOf(parse(["--config", "x", "--no-config"]).values), /conflict/);
  });
});

describe("mergeChoices: the command line wins", () => {
  const file: ServeChoices = {
    root: "/srv/site",
    maxAge: 600,
    listen: [{ kind: "tcp", hosts: ["0.0.0.0"], port: 80 }],
    corsOrigins: ["https://a.example"],
    headers: [{ name: "X-A", value: "file" }],
    quiet: true,
  };

  // biome-ignore format: one row per line
  const rows: ReadonlyArray<readonly [string, ServeChoices, ServeChoices]> = [
    ["nothing on the command line",   {},                                       file],
    ["a scalar",                      { maxAge: 5 },                            { ...file, maxAge: 5 }],
    ["DIR over root",                 { root: "other" },                        { ...file, root: "other" }],
    ["a list replaces the file's",    { headers: [{ name: "X-B", value: "cli" }] }, { ...file, headers: [{ name: "X-B", value: "cli" }] }],
    ["--port drops the file's listen", { port: 9000 },                          { root: "/srv/site", maxAge: 600, corsOrigins: ["https://a.example"], headers: file.headers ?? [], quiet: true, port: 9000 }],
    ["--cors drops the file's origins", { cors: true },                         { root: "/srv/site", maxAge: 600, listen: file.listen ?? [], headers: file.headers ?? [], quiet: true, cors: true }],
  ];
  for (const [name, cli, want] of rows) {
    test(name, () => assert.deepEqual(mergeChoices(file, cli), want));
  }
});

describe("resolveServe", () => {
  test("defaults", () => {
    const resolved = resolveServe({});
    assert.equal(resolved.root, ".");
    assert.equal(resolved.dotfiles, "deny");
    assert.equal(resolved.symlinks, "contain");
    assert.equal(resolved.logFormat, "common");
    assert.equal(resolved.logFile, null);
    assert.equal(resolved.tls, null);
    assert.equal(resolved.cors, null);
    assert.equal(resolved.spa, false);
    assert.equal(resolved.spaFile, "index.html");
    assert.equal(resolved.workers, 1);
    assert.deepEqual(resolved.precompressed, ["br", "zstd", "gzip"]);
    // Unset: the server decides (the port only when something else is listening, say).
    for (const key of ["port", "hosts", "listen", "tlsListen", "maxConnections"] as const) {
      assert.ok(!(key in resolved), `${key} is set: ${JSON.stringify(resolved[key])}`);
    }
  });

  test("--spa-file turns --spa on", () => {
    assert.deepEqual(
      [resolveServe({ spaFile: "200.html" }).spa, resolveServe({ spaFile: "200.html" }).spaFile],
      [true, "200.html"],
    );
  });

  test("CORS: any origin, or the listed ones", () => {
    assert.deepEqual(resolveServe({ cors: true }).cors, { anyOrigin: true, origins: new Set() });
    assert.deepEqual(resolveServe({ corsOrigins: ["https://a.example"] }).cors, {
      anyOrigin: false,
      origins: new Set(["https://a.example"]),
    });
    assert.equal(resolveServe({ cors: false }).cors, null);
  });

  test("names and limits land where the server takes them", () => {
    const resolved = resolveServe({
      maxAge: 5,
      keepaliveTimeoutMs: 7,
      maxHeadBytes: 100,
      cacheBytes: 0,
      immutable: ["a/**"],
    });
    assert.equal(resolved.maxAgeSeconds, 5);
    assert.equal(resolved.keepAliveTimeoutMs, 7);
    assert.deepEqual(resolved.limits, { maxHeadBytes: 100 });
    assert.deepEqual(resolved.cache, { maxBytes: 0 });
    assert.deepEqual(resolved.immutableGlobs, ["a/**"]);
  });

  // biome-ignore format: one row per line
  const badRows: ReadonlyArray<readonly [ServeChoices, RegExp]> = [
    [{ tlsCert: "c.pem" },                                 /^--tls-cert needs --tls-key too/],
    [{ tlsKey: "k.pem" },                                  /^--tls-key needs --tls-cert too/],
    [{ tlsListen: [{ kind: "tcp", hosts: ["::1"], port: 1 }] }, /^--tls-listen needs --tls-cert and --tls-key$/],
  ];
  for (const [choice, message] of badRows) {
    test(`refuses ${JSON.stringify(choice)}`, () => {
      assert.throws(
        () => resolveServe(choice),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
      );
    });
  }

  test("TLS files are passed on", () => {
    assert.deepEqual(resolveServe({ tlsCert: "c", tlsKey: "k" }).tls, {
      certFile: "c",
      keyFile: "k",
    });
  });
});
