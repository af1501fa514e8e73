import type { Logger } from "./connection.js";

/**
 * A logger that batches lines and writes each batch once per event-loop turn: under load one
 * write(2) carries many access lines instead of one syscall per request.
 */
export function createStreamLogger(
  access: NodeJS.WritableStream | null,
  errors: NodeJS.WritableStream | null,
): Logger {
  return {
    access: access === null ? ignoreLine : batchedWriter(access),
    error: errors === null ? ignoreLine : batchedWriter(errors),
  };
}

/** Batched lines are flushed at this size even within one turn, bounding the memory held. */
const MAX_BATCH_CHARS = 64 * 1024;

function batchedWriter(stream: NodeJS.WritableStream): (line: string) => void {
  let batch = "";
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (batch.length === 0) return;
    const text = batch;
    batch = "";
    stream.write(text);
  };
  return (line) => {
    batch += `${line}\n`;
    if (batch.length >= MAX_BATCH_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

function ignoreLine(): void {}

export const SILENT_LOGGER: Logger = { access: ignoreLine, error: ignoreLine };
