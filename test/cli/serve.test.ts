/**
 * `berth serve` start-up as a user sees it: the URL lines, the access log on stdout, --quiet,
 * --help against the README's flag table, --version, and `berth` without a command.
 */
import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { readFile, stat } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  defaultLoopbackHosts,
  killAllCliProcesses,
  REPO_ROOT,
  runCli,
  startCli,
} from "../helpers/cli-process.js";
import { exchange, parseResponses } from "../helpers/raw-client.js";

after(killAllCliProcesses);

const SITE = "examples/site";
/** A stack frame as Node prints it: berth's user-facing errors must never show one. */
const STACK_FRAME = /^ {4}at /m;

/** Host part of a printed URL as berth prints it: IPv6 in brackets. */
function urlHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

describe("berth serve: URL lines", () => {
  const cases: { args: string[]; hosts: () => Promise<string[]> }[] = [
    { args: [], hosts: defaultLoopbackHosts },
    { args: ["--host", "127.0.0.1"], hosts: async () => ["127.0.0.1"] },
    {
      args: ["--host", "localhost"],
      hosts: async () => {
        const found = await lookup("localhost", { all: true, verbatim: true });
        return [...new Set(found.map((entry) => urlHost(entry.address)))];
      },
    },
  ];
  for (const { args, hosts } of cases) {
    const name = `serve ${SITE} --port 0 ${args.join(" ")}`.trim();
    test(`${name} prints one URL per bound address`, async (t) => {
      const wanted = await hosts();
      const cli = startCli(["serve", SITE, "--port", "0", ...args]);
      t.after(() => cli.kill());
      const urls = await cli.waitForUrls(wanted.length);

      const ports = new Set(urls.map((url) => url.port));
      assert.equal(ports.size, 1, `${name}: one port for every host, got ${[...ports]}`);
      assert.notEqual(urls[0]?.port, "0", `${name}: printed port 0`);
      // Every printed URL really answers.
      for (const url of urls) {
        const host = url.hostname.replace(/^\[|\]$/g, "");
        const { raw } = await exchange(Number(url.port), "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", {
          host,
          until: { responses: 1, methods: ["OPTIONS"] },
        });
        const [response] = parseResponses(raw, ["OPTIONS"]).responses;
        assert.equal(response?.status, 204, `OPTIONS * on ${url} answered ${response?.status}`);
      }
      // After the exit every byte is read: the "berth: " lines are exactly the URL lines.
      const exit = await cli.stop("SIGTERM");
      assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
      const lines = cli.stdout.split("\n").filter((line) => line.startsWith("berth: "));
      assert.deepEqual(
        lines.map((line) => line.replace(/:\d+\/$/, ":PORT/")),
        wanted.map((host) => `berth: serving ${SITE} on http://${host}:PORT/`),
        `${name}: stdout lines\n${cli.describe()}`,
      );
      assert.match(cli.stderr, /^berth: SIGTERM\b[^\n]*\n$/, `${name}: stderr`);
    });
  }
});

describe("berth serve: access log", () => {
  const CLF_LINE =
    /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/style\.css HTTP\/1\.1" 200 \d+$/;

  test("one Common Log Format line per request on stdout", async (t) => {
    const cli = startCli(["serve", SITE, "--host", "127.0.0.1", "--port", "0"]);
    t.after(() => cli.kill());
    const [url] = await cli.waitForUrls(1);
    const port = Number(url?.port);
    const sizeBytes = (await stat(join(REPO_ROOT, SITE, "style.css"))).size;

    const beforeMs = Date.now();
    await exchange(port, "GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const [line] = await cli.waitForOutput("stdout", /^127\.0\.0\.1 .*$/m);
    const exit = await cli.stop("SIGTERM");

    assert.match(line, CLF_LINE);
    assert.ok(line.endsWith(` 200 ${sizeBytes}`), `${line}: want ${sizeBytes} body bytes`);
    const loggedMs = parseClfDate(line);
    assert.ok(
      Math.abs(loggedMs - beforeMs) < 5000,
      `${line}: time is ${loggedMs - beforeMs} ms away from the request`,
    );
    const accessLines = cli.stdout.split("\n").filter((text) => !text.startsWith("berth: "));
    assert.deepEqual(accessLines, [line, ""], `exactly one access line\n${cli.describe()}`);
    assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
  });

  test("--quiet prints the URL line but no access line; errors still go to stderr", async (t) => {
    const cli = startCli(["serve", SITE, "--host", "127.0.0.1", "--port", "0", "--quiet"]);
    t.after(() => cli.kill());
    const [url] = await cli.waitForUrls(1);
    const port = Number(url?.port);

    const { raw } = await exchange(port, "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n", {
      until: { responses: 1, methods: ["GET"] },
    });
    assert.equal(parseResponses(raw, ["GET"]).responses[0]?.status, 200);
    // HTTP/1.1 without Host: 400, logged on stderr with its code.
    await exchange(port, "GET / HTTP/1.1\r\n\r\n");
    await cli.waitForOutput("stderr", /^127\.0\.0\.1 bad request \([A-Z_]+\): 400$/m);
    const exit = await cli.stop("SIGTERM");

    // After exit every byte the process wrote has been read.
    assert.equal(cli.stdout, `berth: serving ${SITE} on ${url}\n`, cli.describe());
    assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
  });
});

describe("berth --help, --version, no command", () => {
  test("serve --help exits 0 and names every flag of README's table, and no other", async () => {
    const readmeFlags = await readReadmeFlagTable();
    const { code, signal, stdout, stderr } = await runCli(["serve", "--help"]);
    assert.deepEqual({ code, signal, stderr }, { code: 0, signal: null, stderr: "" });

    for (const { spelling, numericDefault } of readmeFlags) {
      assert.ok(
        stdout.includes(spelling),
        `serve --help does not mention "${spelling}":\n${stdout}`,
      );
      if (numericDefault !== undefined) {
        const entry = helpEntry(stdout, spelling);
        assert.ok(
          entry.includes(`default ${numericDefault}`),
          `serve --help gives "${spelling}" no "default ${numericDefault}" (README's): ${entry}`,
        );
      }
    }
    const documented = new Set(readmeFlags.flatMap(({ spelling }) => flagNames(spelling)));
    for (const flag of new Set(flagNames(stdout))) {
      assert.ok(documented.has(flag), `serve --help mentions ${flag}; README's table does not`);
    }
  });

  test("berth --help exits 0 and shows the usage", async () => {
    const { code, signal, stdout, stderr } = await runCli(["--help"]);
    assert.deepEqual({ code, signal, stderr }, { code: 0, signal: null, stderr: "" });
    assert.match(stdout, /^Usage: berth <command>/);
    assert.match(stdout, /^ {2}serve \[DIR\]/m);
  });

  test("berth --version prints package.json's version", async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const { code, signal, stdout, stderr } = await runCli(["--version"]);
    assert.deepEqual(
      { code, signal, stdout, stderr },
      { code: 0, signal: null, stdout: `berth ${pkg.version}\n`, stderr: "" },
    );
  });

  test("berth without a command exits 2 with the usage", async () => {
    const { code, signal, stdout, stderr } = await runCli([]);
    assert.deepEqual({ code, signal }, { code: 2, signal: null });
    assert.match(`${stdout}${stderr}`, /^Usage: berth <command>/m);
    assert.doesNotMatch(stderr, STACK_FRAME);
  });
});

interface ReadmeFlag {
  /** As the table writes it, unescaped: "--dotfiles allow|deny", "-h". */
  readonly spelling: string;
  /** The default column when it is a number: "10000". */
  readonly numericDefault?: string;
}

/** The first column (and numeric defaults) of the flag table under README's "berth serve". */
async function readReadmeFlagTable(): Promise<ReadmeFlag[]> {
  const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((part) => part.startsWith("`berth serve`"));
  assert.ok(section !== undefined, 'README has no "## `berth serve`" section');
  const table = section.slice(section.indexOf("| flag |"));
  const flags: ReadmeFlag[] = [];
  for (const row of table.split("\n")) {
    if (!row.startsWith("|")) break;
    // Cells are split on unescaped pipes; "\|" inside a cell is a literal pipe.
    const [, first = "", second = ""] = row.split(/(?<!\\)\|/);
    const spellings = [...first.matchAll(/`([^`]+)`/g)].map((m) =>
      (m[1] ?? "").replace(/\\\|/g, "|"),
    );
    const numericDefault = /^\s*`(\d+)`\s*$/.exec(second)?.[1];
    for (const spelling of spellings) {
      if (!spelling.startsWith("-")) continue; // DIR, the positional argument
      flags.push(numericDefault === undefined ? { spelling } : { spelling, numericDefault });
    }
  }
  // A parse that finds nothing would make the test pass vacuously.
  assert.ok(flags.length >= 12, `README's flag table parsed to only ${flags.length} flags`);
  return flags;
}

/** "--port", "-h": the option names in a text, not words like "keep-alive". */
function flagNames(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])--?[a-z][a-z-]*/g)].map((m) => m[0]);
}

/** The help text from `spelling` up to the next line that starts an option. */
function helpEntry(help: string, spelling: string): string {
  const start = help.indexOf(`  ${spelling}`);
  if (start === -1) return "";
  const rest = help.slice(start + 2 + spelling.length);
  const next = rest.search(/\n {2}-/);
  return spelling + (next === -1 ? rest : rest.slice(0, next));
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The [dd/Mon/yyyy:hh:mm:ss +0000] field of a log line, as epoch ms. */
function parseClfDate(line: string): number {
  const match = /\[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) \+0000\]/.exec(line);
  assert.ok(match !== null, `no date in ${line}`);
  const [, day, month = "", year, hours, minutes, seconds] = match;
  const monthIndex = MONTHS.indexOf(month);
  assert.ok(monthIndex !== -1, `bad month in ${line}`);
  return Date.UTC(
    Number(year),
    monthIndex,
    Number(day),
    Number(hours),
    Number(minutes),
    Number(seconds),
  );
}
