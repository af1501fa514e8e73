/**
 * The `--listen` syntax every berth server accepts (pure):
 *   PORT             the default loopback hosts (127.0.0.1 and ::1) on PORT
 *   HOST:PORT        a name (all its addresses) or an IPv4 literal, e.g. 0.0.0.0:8080
 *   [IPV6]:PORT      an IPv6 literal, e.g. [::]:8080 or [::1]:0
 *   unix:/PATH       a Unix domain socket
 */
import { isIP } from "node:net";

export const LISTEN_SYNTAX = "PORT, HOST:PORT, [IPV6]:PORT or unix:/PATH";

/** One --listen: TCP hosts sharing one port (with port 0, the port the first bind picks), or a
 * Unix socket path. */
export type ListenSpec =
  | { readonly kind: "tcp"; readonly hosts: readonly string[]; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export type ParsedListen =
  | { readonly kind: "spec"; readonly spec: ListenSpec }
  | { readonly kind: "error"; readonly message: string };

export function parseListenTarget(text: string, defaultHosts: readonly string[]): ParsedListen {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path.length === 0) return invalid(text, "the socket path is empty");
    if (path.includes("\0")) return invalid(text, "the socket path holds a NUL byte");
    return { kind: "spec", spec: { kind: "unix", path } };
  }
  let host: string | null;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1 || text[close + 1] !== ":") return invalid(text, "expected [IPV6]:PORT");
    host = text.slice(1, close);
    if (isIP(host) !== 6) return invalid(text, `${host} is not an IPv6 address`);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon === -1) {
      host = null;
      portText = text;
    } else {
      host = text.slice(0, colon);
      // An unbracketed IPv6 literal is ambiguous with the port separator.
      if (host.includes(":")) return invalid(text, "write IPv6 addresses in brackets: [::1]:8080");
      if (host.length === 0) return invalid(text, "the host is empty (write 0.0.0.0:PORT for all)");
      portText = text.slice(colon + 1);
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return invalid(text, "the port must be a number from 0 to 65535");
  }
  const hosts = host === null ? defaultHosts : [host];
  return { kind: "spec", spec: { kind: "tcp", hosts, port: Number(portText) } };
}

function invalid(text: string, why: string): ParsedListen {
  return { kind: "error", message: `--listen ${text}: ${why} (use ${LISTEN_SYNTAX})` };
}
