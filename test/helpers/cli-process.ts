/**
 * Runs the berth CLI (`node dist/cli/main.js ...`) as a child process for end-to-end tests:
 * collects stdout and stderr, waits for the "berth: serving DIR on URL" lines, stops the process
 * with a signal and reports how it ended. Every wait is bounded and fails with the process's
 * output so far. Every process started here is SIGKILLed by killAllCliProcesses() (call it from
 * an after() hook) and, as a last resort, when the test process exits. Test-only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitForCheck } from "./wait-for.js";

/** The repository root; this file runs compiled from dist-test/test/helpers/. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const CLI_PATH = join(REPO_ROOT, "dist", "cli", "main.js");

/** How long a wait lasts unless told otherwise: start-up of node plus berth takes ~100 ms. */
export const DEFAULT_WAIT_MS = 5000;

/** How the process ended: exactly one of `code` and `signal` is non-null. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface CliOptions {
  /** Working directory; default REPO_ROOT, so `examples/site` names the demo site. */
  readonly cwd?: string;
  /** Run as this user and group (the test process must be root). */
  readonly uid?: number;
  readonly gid?: number;
}

/** One "berth: serving DIR on URL" line (http:// or, for a TLS listener, https://). */
const URL_LINE = /^berth: serving (.+) on (https?:\/\/\S+\/)$/gm;

const running = new Set<CliProcess>();

export class CliProcess {
  readonly child: ChildProcess;
  private out = "";
  private err = "";
  private ended: CliExit | null = null;
  private spawnError: Error | null = null;
  /** Re-checked on every output chunk and on exit. */
  readonly watchers = new Set<() => void>();

  constructor(
    readonly args: readonly string[],
    options: CliOptions = {},
  ) {
    const env = { ...process.env };
    // Set by `node --test` for its children; berth is not a test file.
    delete env.NODE_TEST_CONTEXT;
    this.child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    running.add(this);
    this.child.stdout?.setEncoding("utf8");
    this.child.stderr?.setEncoding("utf8");
    this.child.stdout?.on("data", (text: string) => {
      this.out += text;
      this.notify();
    });
    this.child.stderr?.on("data", (text: string) => {
      this.err += text;
      this.notify();
    });
    this.child.on("error", (error) => {
      this.spawnError = error;
      this.ended ??= { code: null, signal: null };
      running.delete(this);
      this.notify();
    });
    // "close", not "exit": every byte of stdout and stderr has been read by then.
    this.child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      this.ended = { code, signal };
      running.delete(this);
      this.notify();
    });
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** How it ended, or null while it runs (or while its output is still being read). */
  get exit(): CliExit | null {
    return this.ended;
  }

  /** The first match of `pattern` (no g flag) in everything the stream printed, now or later. */
  waitForOutput(
    stream: "stdout" | "stderr",
    pattern: RegExp,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<RegExpMatchArray> {
    return this.waitFor(`${pattern} on ${stream}`, timeoutMs, () => {
      const match = (stream === "stdout" ? this.out : this.err).match(pattern);
      return match ?? undefined;
    });
  }

  /**
   * Waits for `count` "berth: serving ... on URL" lines and returns their URLs in printed order.
   * The CLI prints them together once every address is bound, so the server is listening on all
   * of them when this resolves.
   */
  waitForUrls(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<URL[]> {
    return this.waitFor(`${count} "berth: serving" line(s) on stdout`, timeoutMs, () => {
      const urls = [...this.out.matchAll(URL_LINE)].map((match) => new URL(match[2] ?? ""));
      return urls.length >= count ? urls : undefined;
    });
  }

  /** Waits for the process to end on its own. */
  waitForExit(timeoutMs = DEFAULT_WAIT_MS): Promise<CliExit> {
    return this.waitFor("the process to exit", timeoutMs, () => this.ended ?? undefined, true);
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = DEFAULT_WAIT_MS): Promise<CliExit> {
    this.signal(signal);
    return this.waitForExit(timeoutMs);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.ended === null) this.child.kill(signal);
  }

  /** SIGKILL if still running; safe to call any number of times. */
  kill(): void {
    if (this.ended === null && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
    }
  }

  /** Arguments, exit and output so far: for failure messages. */
  describe(): string {
    const status =
      this.spawnError !== null
        ? `failed to start: ${this.spawnError.message}`
        : this.ended === null
          ? "still running"
          : `exited with code ${this.ended.code}, signal ${this.ended.signal}`;
    return (
      `berth ${this.args.join(" ")} (pid ${this.child.pid ?? "-"}, ${status})\n` +
      `--- stdout ---\n${this.out}--- stderr ---\n${this.err}--- end ---`
    );
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  private waitFor<T>(
    what: string,
    timeoutMs: number,
    check: () => T | undefined,
    untilExit = false,
  ): Promise<T> {
    return waitForCheck(this, what, timeoutMs, check, untilExit);
  }

  hasEnded(): boolean {
    return this.ended !== null;
  }
}

/** Starts `node dist/cli/main.js ...args`. Pair it with `t.after(() => cli.kill())`. */
export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  return new CliProcess(args, options);
}

export interface CliRun extends CliExit {
  readonly stdout: string;
  readonly stderr: string;
  readonly cli: CliProcess;
}

/** Runs a command that is expected to end on its own (--help, bad flags, start-up errors). */
export async function runCli(
  args: readonly string[],
  options: CliOptions = {},
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<CliRun> {
  const cli = startCli(args, options);
  try {
    const exit = await cli.waitForExit(timeoutMs);
    return { ...exit, stdout: cli.stdout, stderr: cli.stderr, cli };
  } finally {
    cli.kill();
  }
}

/** SIGKILLs every CLI process still running. For after() hooks, so failures leave nothing. */
export function killAllCliProcesses(): void {
  for (const cli of running) cli.kill();
}

// Last resort when a test file dies without running its hooks: kill() is synchronous.
process.on("exit", killAllCliProcesses);

/** Whether this machine can listen on ::1 (berth then binds it by default). */
export function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "::1", port: 0 }, () => probe.close(() => resolve(true)));
  });
}

/** The URL hosts berth prints for its default loopback pair on this machine. */
export async function defaultLoopbackHosts(): Promise<string[]> {
  return (await hasIpv6Loopback()) ? ["127.0.0.1", "[::1]"] : ["127.0.0.1"];
}
