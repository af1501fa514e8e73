#!/usr/bin/env node
import { createRequire } from "node:module";
import { ListenError } from "../net/listen.js";
import { ConfigError, isParseArgsError, StartupError, UsageError } from "./args.js";
import { runBench } from "./bench.js";
import { runChat } from "./chat.js";
import { runConnect } from "./connect.js";
import { runEcho } from "./echo.js";
import { runServe, SERVE_USAGE } from "./serve.js";

const USAGE_LINE = "Usage: berth <command> [options]";

const USAGE = `${USAGE_LINE}

Commands
  serve [DIR]   serve a directory over HTTP/1.1 (berth serve --help)
  echo          TCP/UDP echo server, raw or framed (berth echo --help)
  chat          multi-client line chat room for nc/telnet (berth chat --help)
  connect       nc-like client: TCP, UDP, Unix sockets, framing (berth connect --help)
  bench         HTTP load generator and Nagle/TCP_NODELAY lab (berth bench --help)

Options
  -h, --help    this help
  --version     print the version`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return runServe(rest);
    case "echo":
      return runEcho(rest);
    case "chat":
      return runChat(rest);
    case "connect":
      return runConnect(rest);
    case "bench":
      return runBench(rest);
    case "--version": {
      const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
      process.stdout.write(`berth ${pkg.version}\n`);
      return 0;
    }
    case "-h":
    case "--help":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case undefined:
      // No command is a usage error: the help goes to stderr, as for any other.
      process.stderr.write(`${USAGE}\n`);
      return 2;
    default:
      throw new UsageError(`unknown command "${command}"`, USAGE_LINE);
  }
}

/** Peer-facing or user-facing mistakes print one line; anything else is our bug: show it all. */
function reportError(error: unknown): number {
  if (error instanceof UsageError || isParseArgsError(error)) {
    const usage =
      error instanceof UsageError && error.usage !== undefined ? error.usage : SERVE_USAGE;
    process.stderr.write(`berth: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`berth: ${error.message}\n`);
    return 2;
  }
  if (error instanceof ListenError || error instanceof StartupError || isStartupError(error)) {
    process.stderr.write(`berth: ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(
    `berth: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 70;
}

function isStartupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("Cannot serve ");
}

/** The exit code is set and the process ends once nothing is left to do; a --workers worker
 * also lets go of its channel to the primary, which would otherwise keep it alive. */
function finish(code: number): void {
  process.exitCode = code;
  if (process.connected) process.disconnect();
}

main(process.argv.slice(2)).then(finish, (error: unknown) => finish(reportError(error)));
