import { reasonPhrase } from "../http/status.js";
import type { PrebuiltResponse } from "./prebuilt-response.js";

/**
 * What a handler decides to send, before any byte is written. The connection turns a plan into
 * socket writes (write-response.ts) and owns the file descriptor from then on.
 *
 * `head` is the status line and every header except Connection, each line ending in CRLF, without
 * the blank line: the connection appends its Connection decision and the final CRLF.
 */
/** A run of bytes of the open file: [start, start + length). */
export interface FileSpan {
  readonly start: number;
  readonly length: number;
}

/** The content of a file response, in order: literal bytes (multipart delimiters and part
 * headers) and spans of the file. A whole file is one span; a single range is one span. */
export type BodySegment = Buffer | FileSpan;

export type ResponsePlan =
  | {
      readonly kind: "bytes";
      readonly status: number;
      readonly head: string;
      /** null when no content is sent (HEAD, 204, 304); Content-Length is already in head. */
      readonly body: Buffer | null;
    }
  | {
      readonly kind: "file";
      readonly status: number;
      readonly head: string;
      /** The open file; the connection closes it when the response ends, however it ends. */
      readonly fd: number;
      /** What to send; the lengths add up to the Content-Length in head. */
      readonly segments: readonly BodySegment[];
    }
  /** A cached file's answer, prepared once per second (prebuilt-response.ts). */
  | PrebuiltResponse;

/** "HTTP/1.1 404 Not Found\r\n" for every status, built once. */
export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
}

const errorBodies = new Map<number, Buffer>();

/** A small, generic HTML body for an error status; details go to the log, never to the peer. */
export function errorBody(status: number): Buffer {
  let body = errorBodies.get(status);
  if (body === undefined) {
    const title = `${status} ${reasonPhrase(status)}`;
    body = Buffer.from(
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
        `<body><h1>${title}</h1></body></html>\n`,
      "latin1",
    );
    errorBodies.set(status, body);
  }
  return body;
}
