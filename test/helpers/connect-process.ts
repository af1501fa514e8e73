/**
 * Runs `node dist/cli/main.js connect ...` as a child process with a stdin the test writes to,
 * collecting stdout as bytes (the client must be byte-exact) and stderr as text. Every wait is
 * bounded and fails with the process's output so far. Every process started here is SIGKILLed by
 * killAllConnectProcesses() (call it from an after() hook) and when the test process exits.
 * Test-only. (cli-process.ts gives its children no stdin, which `berth connect` needs.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { CLI_PATH, DEFAULT_WAIT_MS, REPO_ROOT } from "./cli-process.js";
import { waitForCheck } from "./wait-for.js";

export interface ConnectExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const running = new Set<ConnectProcess>();

export class ConnectProcess {
  readonly child: ChildProcess;
  private readonly outChunks: Buffer[] = [];
  private outBytes = 0;
  private err = "";
  private ended: ConnectExit | null = null;
  readonly watchers = new Set<() => void>();

  constructor(readonly args: readonly string[]) {
    const env = { ...process.env };
    // Set by `node --test` for its children; berth is not a test file.
    delete env.NODE_TEST_CONTEXT;
    this.child = spawn(process.execPath, [CLI_PATH, "connect", ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    running.add(this);
    // The client may exit before reading all of stdin (the peer closed first): that is EPIPE
    // here, and not the test's concern.
    this.child.stdin?.on("error", () => {});
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.outChunks.push(chunk);
      this.outBytes += chunk.length;
      this.notify();
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (text: string) => {
      this.err += text;
      this.notify();
    });
    this.child.on("error", () => {
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

  get stdout(): Buffer {
    if (this.outChunks.length > 1) {
      const whole = Buffer.concat(this.outChunks, this.outBytes);
      this.outChunks.length = 0;
      this.outChunks.push(whole);
    }
    return this.outChunks[0] ?? Buffer.alloc(0);
  }

  get stdoutText(): string {
    return this.stdout.toString("utf8");
  }

  get stderr(): string {
    return this.err;
  }

  get exit(): ConnectExit | null {
    return this.ended;
  }

  write(data: Buffer | string): void {
    this.child.stdin?.write(data);
  }

  /** Ends stdin (EOF), optionally after writing `data`. */
  end(data?: Buffer | string): void {
    if (data === undefined) this.child.stdin?.end();
    else this.child.stdin?.end(data);
  }

  /** Waits until stdout holds at least `byteCount` bytes. */
  waitForStdoutBytes(byteCount: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Buffer> {
    return this.waitFor(`${byteCount} bytes on stdout`, timeoutMs, () =>
      this.outBytes >= byteCount ? this.stdout : undefined,
    );
  }

  waitForStdout(pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<RegExpMatchArray> {
    return this.waitFor(`${pattern} on stdout`, timeoutMs, () => {
      return this.stdoutText.match(pattern) ?? undefined;
    });
  }

  waitForStderr(pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<RegExpMatchArray> {
    return this.waitFor(`${pattern} on stderr`, timeoutMs, () => {
      return this.err.match(pattern) ?? undefined;
    });
  }

  waitForExit(timeoutMs = DEFAULT_WAIT_MS): Promise<ConnectExit> {
    return this.waitFor("the process to exit", timeoutMs, () => this.ended ?? undefined, true);
  }

  /** SIGKILL if still running; safe to call any number of times. */
  kill(): void {
    if (this.ended === null && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
    }
  }

  describe(): string {
    const status =
      this.ended === null
        ? "still running"
        : `exited with code ${this.ended.code}, signal ${this.ended.signal}`;
    const out = this.stdout;
    const shown =
      out.length > 2000 ? `${out.length} bytes` : JSON.stringify(out.toString("latin1"));
    return (
      `berth connect ${this.args.join(" ")} (pid ${this.child.pid ?? "-"}, ${status})\n` +
      `--- stdout ---\n${shown}\n--- stderr ---\n${this.err}--- end ---`
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

/** Starts `berth connect ...args` with stdin open. */
export function startConnect(args: readonly string[]): ConnectProcess {
  return new ConnectProcess(args);
}

export interface ConnectRun extends ConnectExit {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly elapsedMs: number;
  readonly process: ConnectProcess;
}

/** Runs `berth connect ...args` with `stdin` as its whole input (then EOF) until it exits. */
export async function runConnectCli(
  args: readonly string[],
  stdin: Buffer | string = "",
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<ConnectRun> {
  const startMs = performance.now();
  const client = startConnect(args);
  try {
    client.end(stdin);
    const exit = await client.waitForExit(timeoutMs);
    return {
      ...exit,
      stdout: client.stdout,
      stderr: client.stderr,
      elapsedMs: performance.now() - startMs,
      process: client,
    };
  } finally {
    client.kill();
  }
}

export function killAllConnectProcesses(): void {
  for (const client of running) client.kill();
}

process.on("exit", killAllConnectProcesses);
