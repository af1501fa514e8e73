import type { ParseErrorCode } from "./parse-error.js";

/** How the request-target was written (RFC 9112 §3.2). authority-form is only valid for CONNECT. */
export type TargetForm = "origin" | "absolute" | "asterisk" | "authority";

/** How the request's content is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly bytes: number }
  | { readonly kind: "chunked" };

/** A fully parsed and validated request head. Strings are latin1 views of the peer's bytes. */
export interface RequestHead {
  /** The method token, case preserved (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target exactly as sent. */
  readonly target: string;
  readonly form: TargetForm;
  /** The path, still percent-encoded: "/a%20b". "*" for asterisk-form; "" for authority-form.
   * For absolute-form, the path part of the URI ("/" when the URI has none). */
  readonly path: string;
  /** The query including its leading "?", or "" when there is none. */
  readonly query: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and for HTTP/1.x, x > 1, processed as 1.1 per RFC 9112 §2.3). */
  readonly httpMinor: 0 | 1;
  /** The exact version text as sent, e.g. "HTTP/1.1" (for access logs). */
  readonly versionText: string;
  /** The effective authority: absolute-form's authority overrides Host (RFC 9112 §3.2.2); ""
   * when neither gives one (an HTTP/1.0 request without Host, or an empty Host). */
  readonly host: string;
  /** Field lines in order as a flat list: [name, value, name, value, ...]. Names lowercased,
   * values with surrounding whitespace removed. */
  readonly fields: readonly string[];
  /** RFC 9112 §9.3: whether the connection persists after this request. */
  readonly keepAlive: boolean;
  /** Expect: 100-continue was sent (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean;
  readonly body: BodyFraming;
  /** Bytes the head occupied on the wire, including leading empty lines and the final CRLF. */
  readonly headBytes: number;
}

export type ParseResult =
  | { readonly kind: "need-more" }
  | { readonly kind: "request"; readonly request: RequestHead }
  | {
      readonly kind: "error";
      readonly code: ParseErrorCode;
      /** True when the error was found while reading the body of a request already returned:
       * that request is being answered, so no second response is due, only a close. */
      readonly inBody: boolean;
    };

export interface RequestParserLimits {
  readonly maxRequestLineBytes: number;
  readonly maxHeadBytes: number;
  readonly maxHeaderFields: number;
  readonly maxEmptyLinesBeforeRequest: number;
  readonly maxBodyBytes: number;
}
