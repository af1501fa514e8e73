/**
 * berth.json: the validator (src/cli/config.ts) against a table of good and bad configs, and
 * berth.schema.json held to the validator: same keys, same types and bounds, and the same verdict
 * on every sample (checked with a small JSON Schema checker for the keywords the schema uses).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  INT_MAX,
  type OptionKey,
  RULE_KEYS,
  SERVE_OPTIONS,
  validateConfig,
} from "../../src/cli/config.js";
import { REPO_ROOT } from "../helpers/cli-process.js";
import { checkAgainstSchema, type Schema } from "../helpers/json-schema-subset.js";

const BASE = "/srv/conf";

const schema = JSON.parse(await readFile(join(REPO_ROOT, "berth.schema.json"), "utf8")) as Record<
  string,
  unknown
> & { properties: Record<string, Record<string, unknown>> };

function validatorAccepts(config: unknown): boolean {
  return validateConfig(config, BASE).kind === "config";
}

function schemaAccepts(config: unknown): boolean {
  return checkAgainstSchema(schema as Schema, config) === null;
}

/** A valid value for every option (a test checks the table covers them all). */
const VALID: { readonly [K in OptionKey]-?: unknown } = {
  root: "public",
  listen: ["8080", "0.0.0.0:80", "[::1]:0", "unix:/run/berth.sock"],
  tlsListen: ["8443"],
  socketMode: "660",
  hosts: ["127.0.0.1", "localhost"],
  port: 8080,
  dotfiles: "allow",
  symlinks: "follow",
  listing: true,
  spa: false,
  spaFile: "200.html",
  cleanUrls: true,
  cors: false,
  corsOrigins: ["https://app.example", "http://localhost:5173"],
  headers: { "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'" },
  rules: [
    { match: "assets/**", cacheControl: "public, max-age=31536000, immutable" },
    { match: "**/*.html", headers: { "X-Robots-Tag": "noindex" } },
  ],
  maxAge: 0,
  immutable: ["assets/**"],
  precompressed: ["gzip", "br"],
  maxRanges: 1,
  cacheBytes: 0,
  cacheFileBytes: 1024,
  cacheValidityMs: 0,
  headerTimeoutMs: 1,
  keepaliveTimeoutMs: 0,
  sendTimeoutMs: 30000,
  bodyTimeoutMs: 1,
  graceMs: 0,
  maxConnections: 1,
  maxRequestLineBytes: 16,
  maxHeadBytes: 64,
  maxHeaderFields: 1,
  maxPipelinedBytes: 1,
  maxBodyBytes: 0,
  quiet: true,
  trace: false,
  socketApi: "net",
  logFormat: "json",
  logFile: "logs/access.log",
  tlsCert: "cert.pem",
  tlsKey: "/etc/berth/key.pem",
  workers: "auto",
};

/** Values of every JSON kind, tried on every key: both must give the same verdict. */
const PROBES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  1,
  -1,
  1.5,
  65536,
  INT_MAX,
  INT_MAX + 1,
  "",
  "x",
  "60",
  "auto",
  "allow",
  "660",
  [],
  ["x"],
  [1],
  [""],
  ["br", "br"],
  ["8080"],
  {},
  { "X-A": "b" },
  { "X-A": 1 },
  [{ match: "a/**", cacheControl: "no-store" }],
  [{ match: "a/**" }],
  [{}],
];

describe("berth.schema.json agrees with the validator", () => {
  test("the schema is draft 2020-12 and has exactly the validator's keys (plus $schema)", () => {
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(
      Object.keys(schema.properties)
        .filter((key) => key !== "$schema")
        .sort(),
      Object.keys(SERVE_OPTIONS).sort(),
    );
    assert.deepEqual(Object.keys(VALID).sort(), Object.keys(SERVE_OPTIONS).sort());
  });

  test("every property has a description that names its flag", () => {
    for (const [key, option] of Object.entries(SERVE_OPTIONS)) {
      const description = String(schema.properties[key]?.description ?? "");
      assert.ok(description.length > 10, `${key} has no description`);
      if (option.flag !== null) {
        assert.ok(
          description.includes(`--${option.flag}`),
          `${key}: description does not name --${option.flag}`,
        );
      }
    }
  });

  test("a config holding every option is valid for both", () => {
    // listen excludes hosts and port: it is checked on its own below.
    const { listen, ...rest } = VALID;
    const config = { $schema: "./berth.schema.json", ...rest };
    assert.equal(checkAgainstSchema(schema as Schema, config), null);
    const result = validateConfig(config, BASE);
    assert.equal(result.kind, "config", JSON.stringify(result));
    assert.ok(
      validatorAccepts({ listen: VALID.listen }) && schemaAccepts({ listen: VALID.listen }),
    );
  });

  for (const key of Object.keys(SERVE_OPTIONS) as OptionKey[]) {
    test(`${key}: same verdict on every probe and bound`, () => {
      const type = SERVE_OPTIONS[key].type;
      const bounds =
        type.kind === "integer" || type.kind === "integer-or-auto"
          ? [type.min - 1, type.min, type.max, type.max + 1]
          : [];
      for (const value of [VALID[key], ...PROBES, ...bounds]) {
        const config = { [key]: value };
        const byValidator = validatorAccepts(config);
        const bySchema = schemaAccepts(config);
        assert.equal(
          bySchema,
          byValidator,
          `{ ${key}: ${JSON.stringify(value)} }: validator ${byValidator ? "accepts" : "rejects"} (${JSON.stringify(validateConfig(config, BASE))}), schema ${bySchema ? "accepts" : `rejects (${checkAgainstSchema(schema as Schema, config)})`}`,
        );
      }
      assert.ok(validatorAccepts({ [key]: VALID[key] }), `${key}: the valid sample is rejected`);
    });
  }

  test("a rule has exactly the keys the validator knows", () => {
    const rule = (schema.$defs as Record<string, { properties: object }>).rule;
    assert.deepEqual(Object.keys(rule?.properties ?? {}).sort(), [...RULE_KEYS].sort());
  });
});

interface BadRow {
  readonly name: string;
  readonly config: unknown;
  /** The validator's message, exactly or as a pattern. */
  readonly message: string | RegExp;
  /** The schema rejects it too; false only for what a schema cannot say (the meaning of a value). */
  readonly schemaRejects: boolean;
}

// biome-ignore format: one row per line
const badRows: readonly BadRow[] = [
  { name: "a string where an integer goes",    config: { maxAge: "60" },              schemaRejects: true,  message: '"maxAge" must be an integer ≥ 0, got "60"' },
  { name: "a negative integer",                config: { maxAge: -1 },                schemaRejects: true,  message: '"maxAge" must be an integer ≥ 0, got -1' },
  { name: "a fraction",                        config: { graceMs: 1.5 },              schemaRejects: true,  message: '"graceMs" must be an integer ≥ 0, got 1.5' },
  { name: "a port out of range",               config: { port: 65536 },               schemaRejects: true,  message: '"port" must be an integer from 0 to 65535, got 65536' },
  { name: "below a limit's minimum",           config: { maxHeadBytes: 63 },          schemaRejects: true,  message: '"maxHeadBytes" must be an integer ≥ 64, got 63' },
  { name: "a string for a boolean",            config: { listing: "yes" },            schemaRejects: true,  message: '"listing" must be true or false, got "yes"' },
  { name: "not one of the choices",            config: { dotfiles: "maybe" },         schemaRejects: true,  message: '"dotfiles" must be one of "allow", "deny", got "maybe"' },
  { name: "log format",                        config: { logFormat: "xml" },          schemaRejects: true,  message: '"logFormat" must be one of "common", "combined", "json", got "xml"' },
  { name: "workers zero",                      config: { workers: 0 },                schemaRejects: true,  message: '"workers" must be an integer from 1 to 1024 or "auto", got 0' },
  { name: "an unknown key",                    config: { maxage: 60 },                schemaRejects: true,  message: 'unknown key "maxage" (did you mean "maxAge"?)' },
  { name: "a flag's spelling as a key",        config: { "max-age": 60 },             schemaRejects: true,  message: 'unknown key "max-age" (did you mean "maxAge"?)' },
  { name: "host for hosts",                    config: { host: ["x"] },               schemaRejects: true,  message: 'unknown key "host" (did you mean "hosts"?)' },
  { name: "not an object",                     config: [],                            schemaRejects: true,  message: "the file must hold a JSON object, got an array" },
  { name: "null",                              config: null,                          schemaRejects: true,  message: "the file must hold a JSON object, got null" },
  { name: "a string for a list",               config: { immutable: "assets/**" },    schemaRejects: true,  message: '"immutable" must be an array of strings, got "assets/**"' },
  { name: "a number in a list",                config: { hosts: ["a", 1] },           schemaRejects: true,  message: '"hosts[1]" must be a non-empty string, got 1' },
  { name: "a coding listed twice",             config: { precompressed: ["br", "br"] }, schemaRejects: true, message: '"precompressed[1]" is listed twice, got "br"' },
  { name: "an unknown coding",                 config: { precompressed: ["deflate"] }, schemaRejects: true, message: '"precompressed[0]" must be one of "br", "zstd", "gzip", got "deflate"' },
  { name: "socket mode as a number",           config: { socketMode: 660 },           schemaRejects: true,  message: '"socketMode" must be a non-empty string, got 660' },
  { name: "socket mode not octal",             config: { socketMode: "999" },         schemaRejects: true,  message: /"socketMode" expects octal permission bits/ },
  { name: "listen with port",                  config: { listen: ["80"], port: 80 },  schemaRejects: true,  message: /"listen" cannot be combined with "hosts" or "port"/ },
  { name: "cors true with origins",            config: { cors: true, corsOrigins: ["https://a.example"] }, schemaRejects: true, message: /"cors": true allows any origin/ },
  { name: "headers as a list",                 config: { headers: ["X-A: b"] },       schemaRejects: true,  message: /"headers" must be an object of header names/ },
  { name: "a header value not a string",       config: { headers: { "X-A": 1 } },     schemaRejects: true,  message: '"headers.X-A" must be a string, got 1' },
  { name: "a header name with a space",        config: { headers: { "X A": "b" } },   schemaRejects: true,  message: /"headers.X A": "X A" is not a valid field name/ },
  { name: "a header value with CR LF",         config: { headers: { "X-A": "b\r\nSet-Cookie: x" } }, schemaRejects: true, message: /"headers.X-A": the value of X-A holds a CR/ },
  { name: "a framing header",                  config: { headers: { "content-length": "1" } }, schemaRejects: true, message: /"headers.content-length": content-length cannot be set/ },
  { name: "a CORS header",                     config: { headers: { "Access-Control-Allow-Origin": "*" } }, schemaRejects: true, message: /use --cors or --cors-origin/ },
  { name: "a rule without match",              config: { rules: [{ cacheControl: "no-store" }] }, schemaRejects: true, message: '"rules[0].match" is missing; it must be a non-empty string (a glob)' },
  { name: "a rule with an unknown key",        config: { rules: [{ match: "a", headers: {}, cache: "x" }] }, schemaRejects: true, message: 'unknown key "rules[0].cache" (a rule has "match", "headers", "cacheControl")' },
  { name: "a rule that does nothing",          config: { rules: [{ match: "a/**" }] }, schemaRejects: true, message: '"rules[0]": a rule needs "headers" or "cacheControl"' },
  { name: "a rule's glob with a leading /",    config: { rules: [{ match: "/a/**", cacheControl: "no-store" }] }, schemaRejects: true, message: /"rules\[0\].match": globs are relative to the served root/ },
  { name: "a rule's header value with LF",     config: { rules: [{ match: "a", headers: { "X-A": "1\n2" } }] }, schemaRejects: true, message: /"rules\[0\].headers.X-A": the value of X-A holds an LF/ },
  { name: "a rule's cacheControl with LF",     config: { rules: [{ match: "a", cacheControl: "a\nb" }] }, schemaRejects: true, message: /"rules\[0\].cacheControl" holds an LF/ },
  { name: "an immutable glob with a leading /", config: { immutable: ["/assets/**"] }, schemaRejects: true,  message: /"immutable\[0\]": globs are relative to the served root/ },
  { name: "an empty path",                     config: { logFile: "" },               schemaRejects: true,  message: '"logFile" must be a non-empty string, got ""' },
  { name: "$schema not a string",              config: { $schema: 1 },                schemaRejects: true,  message: '"$schema" must be a string, got 1' },
  // What a schema cannot say: the meaning of a value. berth still refuses them at start-up.
  { name: "an origin not serialized",          config: { corsOrigins: ["https://App.example"] }, schemaRejects: false, message: '"corsOrigins[0]": not a serialized origin (write https://app.example)' },
  { name: "a port over 65535 in listen",       config: { listen: ["70000"] },         schemaRejects: false, message: /"listen\[0\]": the port must be a number from 0 to 65535/ },
  { name: "an unbalanced glob bracket",        config: { immutable: ["assets/[a-z"] }, schemaRejects: false, message: /"immutable\[0\]": / },
];

describe("bad configs: the validator names the key and the expectation", () => {
  for (const row of badRows) {
    test(row.name, () => {
      const result = validateConfig(row.config, BASE);
      assert.equal(result.kind, "error", `${row.name}: accepted ${JSON.stringify(row.config)}`);
      const message = result.kind === "error" ? result.message : "";
      if (typeof row.message === "string") assert.equal(message, row.message);
      else assert.match(message, row.message);
      assert.equal(
        !schemaAccepts(row.config),
        row.schemaRejects,
        `${row.name}: the schema ${row.schemaRejects ? "accepts" : "rejects"} ${JSON.stringify(row.config)}`,
      );
    });
  }
});

describe("good configs: what the validator returns", () => {
  test("relative paths are resolved against the config's directory; others kept", () => {
    const result = validateConfig(
      {
        root: "public",
        logFile: "/var/log/berth.log",
        tlsCert: "../tls/cert.pem",
        spaFile: "app.html",
      },
      BASE,
    );
    assert.deepEqual(result, {
      kind: "config",
      choices: {
        root: "/srv/conf/public",
        logFile: "/var/log/berth.log",
        tlsCert: "/srv/tls/cert.pem",
        spaFile: "app.html",
      },
    });
  });

  test("values come out parsed: listen specs, octal modes, header lists, rules", () => {
    const result = validateConfig(
      {
        listen: ["0.0.0.0:8080", "unix:/run/b.sock"],
        socketMode: "0660",
        headers: { "X-A": "  b  " },
        rules: [{ match: "a/**", headers: { "X-B": "c" }, cacheControl: " no-store " }],
        workers: 4,
      },
      BASE,
    );
    assert.deepEqual(result, {
      kind: "config",
      choices: {
        listen: [
          { kind: "tcp", hosts: ["0.0.0.0"], port: 8080 },
          { kind: "unix", path: "/run/b.sock" },
        ],
        socketMode: 0o660,
        headers: [{ name: "X-A", value: "b" }],
        rules: [
          { match: "a/**", headers: [{ name: "X-B", value: "c" }], cacheControl: "no-store" },
        ],
        workers: 4,
      },
    });
  });

  test("an empty object is a valid config", () => {
    assert.deepEqual(validateConfig({}, BASE), { kind: "config", choices: {} });
    assert.ok(schemaAccepts({}));
  });
});
