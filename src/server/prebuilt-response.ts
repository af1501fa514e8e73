import type { ResponsePlan } from "./response-plan.js";

/**
 * How the connection ends a response's head (RFC 9112 §9.6): nothing (HTTP/1.1 keep-alive, the
 * common case), "Connection: close", or "Connection: keep-alive" (HTTP/1.0 keep-alive).
 */
export type ConnectionLineKind = 0 | 1 | 2;
export const CONNECTION_NONE = 0;
export const CONNECTION_CLOSE = 1;
export const CONNECTION_KEEP_ALIVE = 2;

const CONNECTION_LINES = ["\r\n", "Connection: close\r\n\r\n", "Connection: keep-alive\r\n\r\n"];

/** The end of a head: the Connection line, if any, and the blank line. */
export function endOfHead(connection: ConnectionLineKind): string {
  return CONNECTION_LINES[connection] as string;
}

/** Bodies up to this size are copied into the prebuilt response, so head and body leave in one
 * buffer; a larger body is written after the head as its own buffer (the pair still leaves in one
 * writev while the socket is corked), so the cache holds one copy of it, not one per variant. */
export const INLINE_BODY_MAX_BYTES = 16 * 1024;

/**
 * A whole response, head and body, prepared once and written as one buffer, for the requests a
 * cached file answers most: a plain 200, its HEAD, and a 304. The bytes depend only on the
 * representation, the second (Date) and the Connection line, so they are rebuilt when the second
 * changes and reused, unchanged, by every request within it. A buffer once returned is never
 * modified: a socket may still be sending it.
 *
 * The head comes from `plan`, the same planner that answers every other request, so a prebuilt
 * answer cannot differ from the one that planner would give.
 */
export class PrebuiltResponse {
  readonly kind = "prebuilt";
  private dateLine = "";
  private head = "";
  private inlineBody: Buffer | null = null;
  /** The body written after the head buffer (too large to inline), or null. */
  body: Buffer | null = null;
  private readonly responses: (Buffer | null)[] = [null, null, null];

  constructor(
    readonly status: number,
    /** Content bytes sent, for the access log. */
    readonly bodyBytes: number,
    private readonly plan: (nowMs: number, dateLine: string) => ResponsePlan,
  ) {}

  /** The response's bytes (without `body`, when that is separate) for this second and line. */
  bytesFor(nowMs: number, dateLine: string, connection: ConnectionLineKind): Buffer {
    if (dateLine !== this.dateLine) this.rebuild(nowMs, dateLine);
    let bytes = this.responses[connection];
    if (bytes === undefined || bytes === null) {
      const head = this.head + endOfHead(connection);
      const inline = this.inlineBody;
      bytes = Buffer.allocUnsafe(head.length + (inline === null ? 0 : inline.length));
      bytes.write(head, 0, "latin1");
      if (inline !== null) inline.copy(bytes, head.length);
      this.responses[connection] = bytes;
    }
    return bytes;
  }

  private rebuild(nowMs: number, dateLine: string): void {
    const plan = this.plan(nowMs, dateLine);
    if (plan.kind !== "bytes" || plan.status !== this.status) {
      throw new Error(`prebuilt ${this.status} response planned as ${plan.kind} ${plan.status}`);
    }
    const body = plan.body;
    if ((body === null ? 0 : body.length) !== this.bodyBytes) {
      throw new Error(`prebuilt ${this.status} response body length changed`);
    }
    this.dateLine = dateLine;
    this.head = plan.head;
    const inline = body !== null && body.length <= INLINE_BODY_MAX_BYTES;
    this.inlineBody = inline ? body : null;
    this.body = inline ? null : body;
    this.responses.fill(null);
  }
}
