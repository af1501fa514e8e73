/**
 * `berth serve --workers N`: N processes serving the same listeners, through node:cluster with
 * the kernel spreading connections (SCHED_NONE: each worker accepts on the shared socket itself;
 * the primary's round-robin would pass every connection through one more process).
 *
 * The primary supervises: it starts the first worker alone (a start-up error, such as a port in
 * use, is then reported once, by that worker), then the others; it prints the URLs once; it turns
 * SIGINT/SIGTERM into one graceful shutdown of every worker, a second signal into an immediate
 * exit, and SIGHUP into a log reopen in every worker; and it replaces a worker that dies, unless
 * workers keep dying at start-up. Workers ignore SIGINT/SIGTERM themselves (a terminal's Ctrl-C
 * reaches the whole process group) and obey the primary's messages instead; a worker whose
 * primary is gone shuts down gracefully.
 */
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { BoundAddress } from "../net/listen.js";

/** The environment variable that tells a worker it is one, and whether it is the first: only the
 * first prepares Unix socket paths (the others share its listeners). */
export const WORKER_ENV = "BERTH_WORKER";

/** A worker that dies sooner than this after it started counts as failing at start-up. */
const EARLY_EXIT_MS = 2000;
/** Consecutive early deaths after which the primary stops replacing workers and exits. */
const MAX_EARLY_EXITS = 5;
/** Pause before replacing a dead worker, so a crash loop does not spin. */
const RESTART_DELAY_MS = 500;

/** What a worker and the primary say to each other over the IPC channel. */
/** An address a worker serves, and whether it speaks TLS. */
export interface ServedAddress {
  readonly address: BoundAddress;
  readonly scheme: "http" | "https";
}

type ToPrimary = { readonly kind: "ready"; readonly addresses: readonly ServedAddress[] };
type ToWorker = { readonly kind: "shutdown" | "exit-now" | "reopen-logs" };

/** `--workers auto`: one per CPU the process may use. */
export function resolveWorkerCount(workers: number | "auto"): number {
  return workers === "auto" ? availableParallelism() : workers;
}

/** This process is a worker started by `superviseWorkers`. */
export function isWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] !== undefined;
}

/** In a worker: whether listeners are shared from an earlier worker (so must not be prepared). */
export function sharesListeners(): boolean {
  return process.env[WORKER_ENV] === "shared";
}

export interface SupervisorOutput {
  /** Called once, with the first worker's addresses, when every worker is ready. */
  serving(addresses: readonly ServedAddress[]): void;
  /** One line for stderr. */
  note(line: string): void;
}

/** Runs `count` workers until a signal ends them; resolves with the exit code. */
export function superviseWorkers(count: number, output: SupervisorOutput): Promise<number> {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  return new Promise((resolve) => {
    const workers = new Set<Worker>();
    let stopping = false;
    let exitCode = 0;
    let earlyExits = 0;
    let announced = false;

    const send = (worker: Worker, message: ToWorker): void => {
      if (worker.isConnected()) worker.send(message);
    };
    const finishIfDone = (): void => {
      if (stopping && workers.size === 0) {
        process.off("SIGINT", onStop);
        process.off("SIGTERM", onStop);
        process.off("SIGHUP", onHangup);
        resolve(exitCode);
      }
    };
    const ready = new Set<Worker>();
    const stopAll = (): void => {
      stopping = true;
      for (const worker of workers) {
        // A worker still starting has nothing in flight and no handler for the message yet.
        if (ready.has(worker)) send(worker, { kind: "shutdown" });
        else worker.process.kill("SIGKILL");
      }
      finishIfDone();
    };

    const start = (first: boolean, then: (ok: boolean) => void): void => {
      const startedAt = Date.now();
      const worker = cluster.fork({ [WORKER_ENV]: first ? "first" : "shared" });
      workers.add(worker);
      worker.on("message", (message: ToPrimary) => {
        if (message.kind !== "ready" || ready.has(worker)) return;
        ready.add(worker);
        earlyExits = 0;
        if (first) addresses = message.addresses;
        if (stopping) send(worker, { kind: "shutdown" });
        then(true);
      });
      worker.on("exit", (code, signal) => {
        workers.delete(worker);
        const wasReady = ready.delete(worker);
        if (stopping) {
          if (wasReady && code !== 0 && exitCode === 0) exitCode = code ?? 1;
          finishIfDone();
          return;
        }
        if (!wasReady) {
          // It never served: a start-up error, which the worker reported itself.
          exitCode = code === 0 || code === null ? 1 : code;
          then(false);
          return;
        }
        output.note(
          `berth: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`,
        );
        earlyExits = Date.now() - startedAt < EARLY_EXIT_MS ? earlyExits + 1 : 0;
        if (earlyExits >= MAX_EARLY_EXITS) {
          output.note(`berth: workers keep exiting at start-up; giving up`);
          exitCode = 1;
          stopAll();
          return;
        }
        setTimeout(() => {
          if (!stopping) start(false, ignoreStart);
        }, RESTART_DELAY_MS).unref();
      });
    };

    const onStop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        output.note(`berth: ${signal} again, exiting now`);
        for (const worker of workers) send(worker, { kind: "exit-now" });
        exitCode = signal === "SIGINT" ? 130 : 143;
        return;
      }
      output.note(
        `berth: ${signal}, closing connections gracefully in ${workers.size} workers (send it again to exit now)`,
      );
      stopAll();
    };
    const onHangup = (): void => {
      for (const worker of workers) send(worker, { kind: "reopen-logs" });
    };
    process.on("SIGINT", onStop);
    process.on("SIGTERM", onStop);
    process.on("SIGHUP", onHangup);

    // Announced once every worker serves, so a client that reads the URL finds them all.
    let addresses: readonly ServedAddress[] = [];
    let pending = count;
    const started = (ok: boolean): void => {
      if (!ok) {
        if (!stopping) stopAll();
        return;
      }
      pending--;
      if (pending === 0 && !announced && !stopping) {
        announced = true;
        output.serving(addresses);
      }
    };
    // The first worker alone: it prepares Unix socket paths and reports any start-up error once.
    start(true, (ok) => {
      started(ok);
      if (!ok) return;
      for (let i = 1; i < count; i++) start(false, started);
    });
  });
}

export interface WorkerControls {
  /** Graceful close: stop accepting, finish responses in flight. */
  close(): Promise<void>;
  /** SIGHUP in the primary: reopen log files. */
  reopenLogs(): void;
}

/** In a worker, once listening: tells the primary, then serves until it says to stop (or goes
 * away). Resolves with the exit code. */
export function serveAsWorker(
  server: WorkerControls,
  addresses: readonly ServedAddress[],
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      server.close().then(() => {
        // The IPC channel would keep this process alive: let it go so the worker can exit.
        if (process.connected) process.disconnect();
        resolve(0);
      });
    };
    // The primary coordinates shutdown; a signal sent to the whole group must not count twice.
    const ignore = (): void => {};
    process.on("SIGINT", ignore);
    process.on("SIGTERM", ignore);
    process.on("SIGHUP", ignore);
    process.on("message", (message: ToWorker) => {
      switch (message.kind) {
        case "shutdown":
          stop();
          return;
        case "exit-now":
          process.exit(1);
          return;
        case "reopen-logs":
          server.reopenLogs();
          return;
      }
    });
    // The primary died (killed, say): nobody will say stop, so stop now.
    process.on("disconnect", stop);
    process.send?.({ kind: "ready", addresses } satisfies ToPrimary);
  });
}

function ignoreStart(): void {}
