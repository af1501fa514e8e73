/**
 * A TLS client for tests: one connection, requests sent one after another (each only once the
 * previous response is complete), so several responses on one socket prove keep-alive. Offers
 * ALPN h2 and http/1.1 like a browser. Test-only.
 */
import { connect, type TLSSocket } from "node:tls";
import { type ParsedResponse, parseResponses, showBytes } from "./raw-client.js";

export interface TlsExchangeResult {
  /** The protocol the server picked by ALPN (false: none). */
  readonly alpnProtocol: string | false | null;
  readonly responses: ParsedResponse[];
}

const DEFAULT_TIMEOUT_MS = 5000;

export function tlsExchange(
  port: number,
  ca: Buffer,
  requests: readonly string[],
  options: { host?: string; servername?: string; timeoutMs?: number } = {},
): Promise<TlsExchangeResult> {
  const methods = requests.map((request) => request.slice(0, request.indexOf(" ")));
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    let sent = 0;
    const socket: TLSSocket = connect({
      host: options.host ?? "127.0.0.1",
      port,
      ca,
      servername: options.servername ?? "localhost",
      ALPNProtocols: ["h2", "http/1.1"],
    });
    const timer = setTimeout(() => {
      socket.destroy();
      const raw = Buffer.concat(received);
      reject(
        new Error(
          `tlsExchange timed out after ${sent} request(s); received ${showBytes(raw, 0, raw.length)}`,
        ),
      );
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const sendNext = (): void => {
      const request = requests[sent];
      if (request === undefined) return;
      sent++;
      socket.write(Buffer.from(request, "latin1"));
    };
    socket.once("secureConnect", sendNext);
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      const { responses } = parseResponses(Buffer.concat(received), methods.slice(0, sent));
      if (responses.length < sent) return;
      if (sent < requests.length) {
        sendNext();
        return;
      }
      clearTimeout(timer);
      const alpnProtocol = socket.alpnProtocol;
      socket.destroy();
      resolve({ alpnProtocol, responses });
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
