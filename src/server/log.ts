import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import {
  type AccessFormatter,
  type AccessLogFormat,
  type AccessRecord,
  createAccessFormatter,
  formatCommonLine,
} from "./access-log.js";
import type { Logger } from "./connection.js";

/** Where batched log text goes: a stream, or a log file that can be reopened. */
export type LogSink = (text: string) => void;

export interface StreamLoggerOptions {
  /** The access-log format for HTTP requests; default "common". */
  readonly format?: AccessLogFormat;
}

/**
 * A logger that batches lines and writes each batch once per event-loop turn: under load one
 * write(2) carries many access lines instead of one syscall per request. A null stream turns that
 * kind of line off (for access lines: no request record is even built).
 */
export function createStreamLogger(
  access: NodeJS.WritableStream | null,
  errors: NodeJS.WritableStream | null,
  options: StreamLoggerOptions = {},
): Logger {
  return createLogger(
    access === null ? null : createStreamSink(access),
    errors === null ? null : createStreamSink(errors),
    options,
  );
}

/** As createStreamLogger, for sinks (an AccessLogFile's write, say). */
export function createLogger(
  access: LogSink | null,
  errors: LogSink | null,
  options: StreamLoggerOptions = {},
): Logger {
  const accessLine = access === null ? null : batchedWriter(access);
  const format = createAccessFormatter(options.format ?? "common", {
    requestIdPrefix: createRequestIdPrefix(),
  });
  return {
    access: accessLine ?? ignoreLine,
    error: errors === null ? ignoreLine : batchedWriter(errors),
    request: accessLine === null ? null : (record) => accessLine(format(record)),
  };
}

/**
 * A Logger whose `request` is settled: a Logger written before access-log formats existed (no
 * `request`) gets its records as Common Log Format lines through access().
 */
export function withRequestLog(log: Logger): Logger {
  if (log.request !== undefined) return log;
  const formatter: AccessFormatter = formatCommonLine;
  return {
    access: (line) => log.access(line),
    error: (line) => log.error(line),
    request: (record: AccessRecord) => log.access(formatter(record)),
  };
}

/** 8 random base-36 characters: request ids of different processes (workers, restarts) do not
 * collide, and a counter after it keeps each one cheap. */
export function createRequestIdPrefix(): string {
  return randomBytes(6).readUIntBE(0, 6).toString(36).padStart(10, "0").slice(-8);
}

/** A batch is written before it would grow past this: POSIX makes a pipe write of at most
 * PIPE_BUF (4096 bytes on Linux) atomic, so the batches of several processes sharing one pipe
 * (`--workers`, or berth beside another writer) never interleave inside a line. Regular files
 * opened for appending are written whole by Linux anyway. Lines are ASCII (access-log.ts escapes
 * the rest), so characters are bytes. */
export const MAX_BATCH_CHARS = 4096;

function batchedWriter(sink: LogSink): (line: string) => void {
  let batch = "";
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (batch.length === 0) return;
    const text = batch;
    batch = "";
    sink(text);
  };
  return (line) => {
    if (batch.length > 0 && batch.length + line.length + 1 > MAX_BATCH_CHARS) flush();
    batch += `${line}\n`;
    if (batch.length >= MAX_BATCH_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

/** Log text a stream may hold unwritten before further batches are dropped: a log destination
 * that stalls (a full disk, a stuck pipe reader) must not grow berth's memory without bound. */
export const MAX_PENDING_LOG_BYTES = 4 * 1024 * 1024;

/** Writes to a stream, dropping text while more than MAX_PENDING_LOG_BYTES wait unwritten. */
export function createStreamSink(stream: NodeJS.WritableStream): LogSink {
  return (text) => {
    if (writableLengthOf(stream) > MAX_PENDING_LOG_BYTES) return;
    stream.write(text);
  };
}

function writableLengthOf(stream: NodeJS.WritableStream): number {
  return (stream as { writableLength?: number }).writableLength ?? 0;
}

function ignoreLine(): void {}

export const SILENT_LOGGER: Logger = { access: ignoreLine, error: ignoreLine, request: null };

/** `--log-file`: an append-only log file that logrotate can move away (then SIGHUP: reopen). */
export interface AccessLogFile {
  readonly path: string;
  readonly write: LogSink;
  /** Opens `path` afresh (after a rotation moved the old file); the old file gets what was
   * pending, then is closed. On failure the old file is kept and the error is reported. */
  reopen(): void;
  /** Flushes and closes; resolves when the file is closed. */
  close(): Promise<void>;
}

/** Permissions of a log file berth creates: access logs name clients, so not world-readable. */
const LOG_FILE_MODE = 0o640;

/**
 * Opens `path` for appending, creating it if needed. Throws (with the errno code) when it cannot
 * be opened, for a start-up error. Later errors (ENOSPC, EIO) go to `reportError` once, and lines
 * are dropped until a reopen succeeds; a backlog past MAX_PENDING_LOG_BYTES is dropped and counted.
 */
export function openAccessLogFile(
  path: string,
  reportError: (message: string) => void,
): AccessLogFile {
  let stream = openAppendStream(path);
  let broken = false;
  let droppedBatches = 0;
  const watch = (watched: fs.WriteStream): void => {
    watched.on("error", (error: NodeJS.ErrnoException) => {
      if (watched !== stream || broken) return;
      broken = true;
      reportError(
        `access log ${path}: write failed (${error.code ?? error.message}); lines are dropped until SIGHUP reopens it`,
      );
    });
  };
  watch(stream);
  return {
    path,
    write: (text) => {
      if (broken) return;
      if (stream.writableLength > MAX_PENDING_LOG_BYTES) {
        if (droppedBatches++ === 0) {
          reportError(`access log ${path}: the disk is not keeping up; dropping lines`);
        }
        return;
      }
      if (droppedBatches > 0) {
        reportError(`access log ${path}: ${droppedBatches} batch(es) of lines were dropped`);
        droppedBatches = 0;
      }
      stream.write(text);
    },
    reopen: () => {
      let next: fs.WriteStream;
      try {
        next = openAppendStream(path);
      } catch (error) {
        reportError(
          `access log ${path}: cannot reopen (${errorCode(error)}); keeping the old file`,
        );
        return;
      }
      const old = stream;
      stream = next;
      broken = false;
      watch(next);
      old.end();
    },
    close: () =>
      new Promise((resolve) => {
        if (stream.closed || stream.destroyed) {
          resolve();
          return;
        }
        stream.once("close", () => resolve());
        stream.end();
      }),
  };
}

/** Opened synchronously so that start-up (and SIGHUP) learns at once whether the file opened. */
function openAppendStream(path: string): fs.WriteStream {
  const fd = fs.openSync(path, "a", LOG_FILE_MODE);
  const stream = fs.createWriteStream(path, { fd, flags: "a" });
  return stream;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}
