/**
 * The UDP side of `berth connect --udp`: stop-and-wait requests. Each stdin line (LF or CRLF
 * terminated; the terminator is not sent) is sent as one datagram to the first resolved address,
 * and the next line waits for a reply. A line with no reply within timeoutMs is sent again, up to
 * `retries` more times; after 1 + retries tries without a reply the session ends with no-reply.
 *
 * Every datagram received is printed as one line (an LF is added unless it already ends in one).
 * UDP carries no sequence numbers, so replies are matched to lines by order only: the first
 * datagram after a line is sent answers it.
 *
 * The socket is connected (connect(2)), so the kernel drops datagrams from anyone else, and an
 * ICMP port unreachable comes back as ECONNREFUSED.
 */
import { createSocket, type Socket as DgramSocket } from "node:dgram";
import type { Readable, Writable } from "node:stream";
import { LineSplitter } from "../net/line-splitter.js";
import { formatHostPort } from "../net/listen.js";
import type { Tracer } from "../net/trace.js";
import {
  type ConnectTarget,
  describeSocketError,
  type LookupAll,
  resolveConnectAddresses,
  systemLookup,
} from "./connect-target.js";
import type { ConnectAddress } from "./happy-eyeballs.js";

/** How long one try waits for its reply by default (--timeout-ms). */
export const DEFAULT_UDP_TIMEOUT_MS = 1000;

/** How many times a line without a reply is sent again by default (--retries). */
export const DEFAULT_UDP_RETRIES = 2;

export type UdpOpenResult =
  | {
      readonly kind: "open";
      readonly socket: DgramSocket;
      readonly address: Extract<ConnectAddress, { kind: "tcp" }>;
    }
  /** The reason part of `Cannot send to T: REASON`. */
  | { readonly kind: "error"; readonly reason: string };

/** Resolves the target and opens a UDP socket connected to its first address. */
export async function openUdpClient(
  target: Extract<ConnectTarget, { kind: "tcp" }>,
  lookup: LookupAll = systemLookup,
): Promise<UdpOpenResult> {
  const resolved = await resolveConnectAddresses(target, lookup);
  if (resolved.kind === "error") return { kind: "error", reason: resolved.reason };
  const [address] = resolved.addresses;
  if (address?.kind !== "tcp") return { kind: "error", reason: "unknown host" };
  const socket = createSocket(address.family === 6 ? "udp6" : "udp4");
  return new Promise((resolve) => {
    const onError = (error: Error): void => {
      socket.close();
      resolve({ kind: "error", reason: describeSocketError(error) });
    };
    socket.once("error", onError);
    socket.connect(address.port, address.host, () => {
      socket.off("error", onError);
      resolve({ kind: "open", socket, address });
    });
  });
}

export interface UdpSessionOptions {
  readonly timeoutMs: number;
  readonly retries: number;
  /** Longest stdin line; a datagram cannot carry more than 65,507 bytes over IPv4 anyway. */
  readonly maxLineBytes: number;
  /** Called before a line is sent again: `tryNumber` of `maxTries`. */
  readonly onRetry?: (tryNumber: number, maxTries: number) => void;
  /** --trace: a line per datagram sent and received, each retry, and the end, as #1. Absent: no
   * trace work at all. */
  readonly trace?: Tracer;
}

/** The session's number in trace lines, as for TCP. */
const TRACE_ID = 1;

export type UdpSessionEnd =
  /** stdin ended and every line was answered. */
  | { readonly kind: "input-done" }
  | { readonly kind: "no-reply"; readonly tries: number }
  | { readonly kind: "socket-error"; readonly during: "send" | "receive"; readonly reason: string }
  | { readonly kind: "protocol-error"; readonly message: string }
  | { readonly kind: "input-error"; readonly reason: string }
  | { readonly kind: "output-closed" };

/** Where the requester is: taking the next stdin line, waiting for a reply, or finished. */
type UdpState = "reading" | "awaiting-reply" | "done";

const LF = 0x0a;
const LF_BUFFER = Buffer.from("\n");
const EMPTY = Buffer.alloc(0);

/** Runs the request loop until stdin ends (and its last line is answered) or a line goes
 * unanswered. Resolves once `output` has taken every line printed; the socket stays open (the
 * caller closes it) and `input` is paused with its listeners removed. */
export function runUdpSession(
  socket: DgramSocket,
  input: Readable,
  output: Writable,
  options: UdpSessionOptions,
): Promise<UdpSessionEnd> {
  return new Promise((resolve) => {
    const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes });
    const maxTries = 1 + options.retries;
    let state: UdpState = "reading";
    let inputEnded = false;
    // stdout is full: no new line is sent until it drains, so replies cannot pile up.
    let outputBlocked = false;
    let request: Buffer = EMPTY;
    let tries = 0;
    let replyTimer: ReturnType<typeof setTimeout> | null = null;
    const { trace } = options;
    const peer = trace === undefined ? "" : describeRemote(socket);

    const transition = (next: UdpState): void => {
      state = next;
      if (replyTimer !== null && next !== "awaiting-reply") {
        clearTimeout(replyTimer);
        replyTimer = null;
      }
    };

    const finish = (end: UdpSessionEnd): void => {
      if (state === "done") return;
      transition("done");
      trace?.(TRACE_ID, `done (${describeUdpEnd(end)})`);
      input.off("data", onInputData);
      input.off("end", onInputEnd);
      input.off("error", onInputError);
      input.pause();
      socket.off("message", onMessage);
      output.off("drain", onOutputDrain);
      if (end.kind === "output-closed") resolve(end);
      else output.write(EMPTY, () => resolve(end));
    };

    /** In "reading": sends the next complete line, or waits for more input. */
    const takeNextLine = (): void => {
      if (state !== "reading" || outputBlocked) return;
      const result = inputEnded ? splitter.end() : splitter.next();
      switch (result.kind) {
        case "line":
          request = result.line;
          tries = 0;
          transition("awaiting-reply");
          sendRequest();
          return;
        case "need-more":
          if (inputEnded) finish({ kind: "input-done" });
          else input.resume();
          return;
        case "error":
          finish({
            kind: "protocol-error",
            message: `a stdin line is longer than --max-line-bytes (${options.maxLineBytes})`,
          });
          return;
      }
    };

    const sendRequest = (): void => {
      tries++;
      trace?.(
        TRACE_ID,
        `datagram to ${peer} ${request.length} B${tries > 1 ? ` (try ${tries} of ${maxTries})` : ""}`,
      );
      socket.send(request, (error) => {
        if (error)
          finish({ kind: "socket-error", during: "send", reason: describeSocketError(error) });
      });
      replyTimer = setTimeout(onReplyTimeout, options.timeoutMs);
    };

    const onReplyTimeout = (): void => {
      replyTimer = null;
      if (state !== "awaiting-reply") return;
      if (tries >= maxTries) {
        finish({ kind: "no-reply", tries });
        return;
      }
      trace?.(TRACE_ID, `no reply within ${options.timeoutMs} ms: retry`);
      options.onRetry?.(tries + 1, maxTries);
      sendRequest();
    };

    const onMessage = (message: Buffer, sender: { address: string; port: number }): void => {
      trace?.(
        TRACE_ID,
        `datagram from ${formatHostPort(sender.address, sender.port)} ${message.length} B`,
      );
      const line = message.at(-1) === LF ? message : Buffer.concat([message, LF_BUFFER]);
      if (!output.write(line)) outputBlocked = true;
      if (state === "awaiting-reply") {
        transition("reading");
        takeNextLine();
      }
    };
    const onOutputDrain = (): void => {
      outputBlocked = false;
      takeNextLine();
    };

    const onInputData = (chunk: Buffer): void => {
      splitter.push(chunk);
      // One chunk at a time: lines wait in the splitter, not in the stream's buffer.
      input.pause();
      takeNextLine();
    };
    const onInputEnd = (): void => {
      trace?.(TRACE_ID, "stdin EOF");
      inputEnded = true;
      takeNextLine();
    };
    const onInputError = (error: Error): void => {
      finish({ kind: "input-error", reason: describeSocketError(error) });
    };
    const onSocketError = (error: NodeJS.ErrnoException): void => {
      trace?.(TRACE_ID, `socket error ${error.code ?? error.message}`);
      // On a connected UDP socket, ECONNREFUSED is the kernel passing on an ICMP port
      // unreachable for a datagram we sent.
      const reason =
        error.code === "ECONNREFUSED"
          ? "connection refused (ICMP port unreachable: nothing listens there)"
          : describeSocketError(error);
      finish({ kind: "socket-error", during: "receive", reason });
    };
    const onOutputError = (): void => {
      finish({ kind: "output-closed" });
    };

    output.on("error", onOutputError);
    output.on("drain", onOutputDrain);
    socket.on("message", onMessage);
    socket.on("error", onSocketError);
    input.on("data", onInputData);
    input.on("end", onInputEnd);
    input.on("error", onInputError);
  });
}

/** The connected peer, "127.0.0.1:7007" or "[::1]:7007". */
function describeRemote(socket: DgramSocket): string {
  try {
    const { address, port } = socket.remoteAddress();
    return formatHostPort(address, port);
  } catch {
    return "?"; // not connected (a caller's own socket)
  }
}

/** Why the session ended, as --trace's "done (…)" names it. */
function describeUdpEnd(end: UdpSessionEnd): string {
  switch (end.kind) {
    case "input-done":
      return "stdin EOF, every line answered";
    case "no-reply":
      return `no reply after ${end.tries} ${end.tries === 1 ? "try" : "tries"}`;
    case "socket-error":
      return `${end.during} error: ${end.reason}`;
    case "protocol-error":
      return end.message;
    case "input-error":
      return `stdin error: ${end.reason}`;
    case "output-closed":
      return "stdout closed";
  }
}
