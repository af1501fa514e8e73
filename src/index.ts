/** berth's public API. */

export type { PathRule } from "./files/path-rules.js";
export type { CorsPolicy } from "./http/cors.js";
export type { ExtraHeader } from "./http/extra-headers.js";
export type { ParseErrorCode } from "./http/parse-error.js";
export { STATUS_FOR_PARSE_ERROR, statusForParseError } from "./http/parse-error.js";
export { DEFAULT_PARSER_LIMITS, RequestParser } from "./http/request-parser.js";
export type {
  BodyFraming,
  ParseResult,
  RequestHead,
  RequestParserLimits,
} from "./http/request-types.js";
export { encodeFrame, encodeFrameHeader, FrameDecoder } from "./net/frame-codec.js";
export { LineSplitter } from "./net/line-splitter.js";
export type { BoundAddress, ListenTarget } from "./net/listen.js";
export { ListenError } from "./net/listen.js";
export type { ListenSpec } from "./net/listen-target.js";
export { parseListenTarget } from "./net/listen-target.js";
export { createStreamTracer, type Tracer } from "./net/trace.js";
export type { AccessLogFormat, AccessRecord } from "./server/access-log.js";
export type { Logger } from "./server/connection.js";
export { createStreamLogger } from "./server/log.js";
export type {
  SocketApi,
  StaticServer,
  StaticServerOptions,
  TlsCredentials,
} from "./server/static-server.js";
export { createStaticServer } from "./server/static-server.js";
export { createChatServer } from "./toolkit/chat-server.js";
export { createEchoServer } from "./toolkit/echo-server.js";
