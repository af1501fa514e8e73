/**
 * berth.json: every `berth serve` option in one JSON file, plus per-glob rules. Pure: this module
 * takes the parsed JSON and returns the same checked values the command line produces, or the
 * first mistake as a message naming its key path and what was expected:
 *
 *   "maxAge" must be an integer ≥ 0, got "60"
 *   "rules[0].headers.X-Frame-Options": the value of X-Frame-Options holds an LF (…)
 *
 * SERVE_OPTIONS is the one table of options: the command line (serve-options.ts) and the
 * validator here read their types and bounds from it, and a test holds berth.schema.json to it.
 */
import { isAbsolute, resolve } from "node:path";
import type { Coding } from "../files/accept-encoding.js";
import type { SymlinkPolicy } from "../files/open-servable.js";
import { compilePathGlob, type PathRule } from "../files/path-rules.js";
import type { DotfilePolicy } from "../files/resolve-path.js";
import { parseCorsOrigin } from "../http/cors.js";
import { checkHeader, type ExtraHeader, findBadValueChar } from "../http/extra-headers.js";
import { LOOPBACK_HOSTS } from "../net/listen.js";
import { type ListenSpec, parseListenTarget } from "../net/listen-target.js";
import type { AccessLogFormat } from "../server/access-log.js";
import { SOCKET_APIS, type SocketApi } from "../server/static-server.js";

/** What one source (the command line or berth.json) chose; an absent key was not chosen there. */
export interface ServeChoices {
  readonly root?: string;
  readonly listen?: readonly ListenSpec[];
  readonly tlsListen?: readonly ListenSpec[];
  readonly socketMode?: number;
  readonly hosts?: readonly string[];
  readonly port?: number;
  readonly dotfiles?: DotfilePolicy;
  readonly symlinks?: SymlinkPolicy;
  readonly listing?: boolean;
  readonly spa?: boolean;
  readonly spaFile?: string;
  readonly cleanUrls?: boolean;
  readonly cors?: boolean;
  readonly corsOrigins?: readonly string[];
  readonly headers?: readonly ExtraHeader[];
  readonly rules?: readonly PathRule[];
  readonly maxAge?: number;
  readonly immutable?: readonly string[];
  readonly precompressed?: readonly Coding[];
  readonly maxRanges?: number;
  readonly cacheBytes?: number;
  readonly cacheFileBytes?: number;
  readonly cacheValidityMs?: number;
  readonly headerTimeoutMs?: number;
  readonly keepaliveTimeoutMs?: number;
  readonly sendTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
  readonly graceMs?: number;
  readonly maxConnections?: number;
  readonly maxRequestLineBytes?: number;
  readonly maxHeadBytes?: number;
  readonly maxHeaderFields?: number;
  readonly maxPipelinedBytes?: number;
  readonly maxBodyBytes?: number;
  readonly quiet?: boolean;
  readonly trace?: boolean;
  readonly logFormat?: AccessLogFormat;
  readonly logFile?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly workers?: number | "auto";
  readonly socketApi?: SocketApi;
}

export type OptionKey = keyof ServeChoices;

/** The JSON shape of an option's value. */
export type OptionType =
  | { readonly kind: "boolean" }
  | { readonly kind: "integer"; readonly min: number; readonly max: number }
  | { readonly kind: "string" }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  | { readonly kind: "string-list" }
  | { readonly kind: "enum-list"; readonly values: readonly string[] }
  | { readonly kind: "integer-or-auto"; readonly min: number; readonly max: number }
  | { readonly kind: "header-map" }
  | { readonly kind: "rules" };

export interface ServeOption {
  readonly type: OptionType;
  /** The command-line flag without "--", or null (root is DIR; rules exist only in the file). */
  readonly flag: string | null;
}

/** Largest value an integer flag takes: timers and sizes beyond it are surely typos. */
export const INT_MAX = 2 ** 31 - 1;

const BOOLEAN: OptionType = { kind: "boolean" };
const STRING: OptionType = { kind: "string" };
const STRING_LIST: OptionType = { kind: "string-list" };
const integer = (min: number, max = INT_MAX): OptionType => ({ kind: "integer", min, max });

/** Every option, in the order --help lists them. */
export const SERVE_OPTIONS: { readonly [K in OptionKey]-?: ServeOption } = {
  root: { type: STRING, flag: null },
  listen: { type: STRING_LIST, flag: "listen" },
  tlsListen: { type: STRING_LIST, flag: "tls-listen" },
  socketMode: { type: STRING, flag: "socket-mode" },
  hosts: { type: STRING_LIST, flag: "host" },
  port: { type: integer(0, 65535), flag: "port" },
  dotfiles: { type: { kind: "enum", values: ["allow", "deny"] }, flag: "dotfiles" },
  symlinks: { type: { kind: "enum", values: ["contain", "follow", "deny"] }, flag: "symlinks" },
  listing: { type: BOOLEAN, flag: "listing" },
  spa: { type: BOOLEAN, flag: "spa" },
  spaFile: { type: STRING, flag: "spa-file" },
  cleanUrls: { type: BOOLEAN, flag: "clean-urls" },
  cors: { type: BOOLEAN, flag: "cors" },
  corsOrigins: { type: STRING_LIST, flag: "cors-origin" },
  headers: { type: { kind: "header-map" }, flag: "header" },
  rules: { type: { kind: "rules" }, flag: null },
  maxAge: { type: integer(0), flag: "max-age" },
  immutable: { type: STRING_LIST, flag: "immutable" },
  precompressed: {
    type: { kind: "enum-list", values: ["br", "zstd", "gzip"] },
    flag: "precompressed",
  },
  maxRanges: { type: integer(1), flag: "max-ranges" },
  cacheBytes: { type: integer(0), flag: "cache-bytes" },
  cacheFileBytes: { type: integer(0), flag: "cache-file-bytes" },
  cacheValidityMs: { type: integer(0), flag: "cache-validity-ms" },
  headerTimeoutMs: { type: integer(1), flag: "header-timeout-ms" },
  keepaliveTimeoutMs: { type: integer(0), flag: "keepalive-timeout-ms" },
  sendTimeoutMs: { type: integer(1), flag: "send-timeout-ms" },
  bodyTimeoutMs: { type: integer(1), flag: "body-timeout-ms" },
  graceMs: { type: integer(0), flag: "grace-ms" },
  maxConnections: { type: integer(1), flag: "max-connections" },
  maxRequestLineBytes: { type: integer(16), flag: "max-request-line-bytes" },
  maxHeadBytes: { type: integer(64), flag: "max-head-bytes" },
  maxHeaderFields: { type: integer(1), flag: "max-header-fields" },
  maxPipelinedBytes: { type: integer(1), flag: "max-pipelined-bytes" },
  maxBodyBytes: { type: integer(0), flag: "max-body-bytes" },
  quiet: { type: BOOLEAN, flag: "quiet" },
  trace: { type: BOOLEAN, flag: "trace" },
  logFormat: { type: { kind: "enum", values: ["common", "combined", "json"] }, flag: "log-format" },
  logFile: { type: STRING, flag: "log-file" },
  tlsCert: { type: STRING, flag: "tls-cert" },
  tlsKey: { type: STRING, flag: "tls-key" },
  workers: { type: { kind: "integer-or-auto", min: 1, max: 1024 }, flag: "workers" },
  socketApi: { type: { kind: "enum", values: SOCKET_APIS }, flag: "socket-api" },
};

/** Keys of a rule object. */
export const RULE_KEYS = ["match", "headers", "cacheControl"] as const;

/** Allowed beside the options, for editors: `"$schema": "./berth.schema.json"`. */
export const SCHEMA_KEY = "$schema";

/** Options whose value is a file system path: relative ones are resolved against the directory
 * of the config file, so a config means the same wherever berth is started. */
const PATH_KEYS: ReadonlySet<OptionKey> = new Set(["root", "logFile", "tlsCert", "tlsKey"]);

export type ConfigResult =
  | { readonly kind: "config"; readonly choices: ServeChoices }
  | { readonly kind: "error"; readonly message: string };

/** A mistake at a key path; the message reads after `config FILE: `. */
class ConfigMistake {
  constructor(readonly message: string) {}
}

/**
 * Checks parsed berth.json text. `baseDir` (absolute) is the config file's directory, against
 * which relative paths are resolved.
 */
export function validateConfig(value: unknown, baseDir: string): ConfigResult {
  try {
    return { kind: "config", choices: checkTopLevel(value, baseDir) };
  } catch (error) {
    if (error instanceof ConfigMistake) return { kind: "error", message: error.message };
    throw error;
  }
}

function checkTopLevel(value: unknown, baseDir: string): ServeChoices {
  if (!isPlainObject(value)) {
    throw new ConfigMistake(`the file must hold a JSON object, got ${describeValue(value)}`);
  }
  const choices: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (key === SCHEMA_KEY) {
      if (typeof raw !== "string") mistake(key, "must be a string", raw);
      continue;
    }
    if (!Object.hasOwn(SERVE_OPTIONS, key)) {
      throw new ConfigMistake(`unknown key ${quoteKey(key)}${suggestKey(key)}`);
    }
    const optionKey = key as OptionKey;
    const checked = checkOption(optionKey, SERVE_OPTIONS[optionKey].type, raw);
    choices[key] =
      PATH_KEYS.has(optionKey) && typeof checked === "string"
        ? resolvePath(baseDir, checked)
        : checked;
  }
  if (choices.listen !== undefined && (choices.hosts !== undefined || choices.port !== undefined)) {
    throw new ConfigMistake(
      '"listen" cannot be combined with "hosts" or "port" (listen holds HOST:PORT itself)',
    );
  }
  if (choices.cors === true && choices.corsOrigins !== undefined) {
    throw new ConfigMistake('"cors": true allows any origin; drop it or "corsOrigins"');
  }
  return choices as ServeChoices;
}

function checkOption(key: OptionKey, type: OptionType, raw: unknown): unknown {
  switch (type.kind) {
    case "boolean":
      if (typeof raw !== "boolean") mistake(key, `must be ${describeType(type)}`, raw);
      return raw;
    case "integer":
    case "integer-or-auto":
      if (type.kind === "integer-or-auto" && raw === "auto") return raw;
      if (typeof raw !== "number" || !Number.isInteger(raw) || raw < type.min || raw > type.max) {
        mistake(key, `must be ${describeType(type)}`, raw);
      }
      return raw;
    case "string": {
      if (typeof raw !== "string" || raw === "") mistake(key, `must be ${describeType(type)}`, raw);
      return refineString(key, raw as string);
    }
    case "enum":
      if (typeof raw !== "string" || !type.values.includes(raw)) {
        mistake(key, `must be ${describeType(type)}`, raw);
      }
      return raw;
    case "string-list":
    case "enum-list":
      return checkList(key, type, raw);
    case "header-map":
      return checkHeaderMap(key, raw);
    case "rules":
      return checkRules(key, raw);
  }
}

function checkList(key: OptionKey, type: OptionType, raw: unknown): unknown[] {
  if (!Array.isArray(raw)) mistake(key, `must be ${describeType(type)}`, raw);
  const items = raw as unknown[];
  const out: unknown[] = [];
  items.forEach((item, index) => {
    const path = `${key}[${index}]`;
    if (type.kind === "enum-list") {
      if (typeof item !== "string" || !type.values.includes(item)) {
        mistake(path, `must be ${describeItems(type)}`, item);
      }
      if (out.includes(item)) mistake(path, "is listed twice", item);
      out.push(item);
      return;
    }
    if (typeof item !== "string" || item === "") mistake(path, "must be a non-empty string", item);
    const refined = refineListItem(key, item as string);
    if (refined.kind === "error") throw new ConfigMistake(`${quoteKey(path)}: ${refined.reason}`);
    out.push(refined.value);
  });
  return out;
}

function checkHeaderMap(path: string, raw: unknown): ExtraHeader[] {
  if (!isPlainObject(raw)) mistake(path, `must be ${describeType({ kind: "header-map" })}`, raw);
  const headers: ExtraHeader[] = [];
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const fieldPath = `${path}.${name}`;
    if (typeof value !== "string") mistake(fieldPath, "must be a string", value);
    const checked = checkHeader(name, value as string);
    if (checked.kind === "error")
      throw new ConfigMistake(`${quoteKey(fieldPath)}: ${checked.reason}`);
    headers.push(checked.header);
  }
  return headers;
}

function checkRules(key: string, raw: unknown): PathRule[] {
  if (!Array.isArray(raw)) mistake(key, `must be ${describeType({ kind: "rules" })}`, raw);
  return (raw as unknown[]).map((item, index) => {
    const path = `${key}[${index}]`;
    if (!isPlainObject(item)) mistake(path, 'must be an object with "match"', item);
    const rule = item as Record<string, unknown>;
    for (const ruleKey of Object.keys(rule)) {
      if (!(RULE_KEYS as readonly string[]).includes(ruleKey)) {
        throw new ConfigMistake(
          `unknown key ${quoteKey(`${path}.${ruleKey}`)} (a rule has ${RULE_KEYS.map((k) => `"${k}"`).join(", ")})`,
        );
      }
    }
    const match = rule.match;
    if (typeof match !== "string" || match === "") {
      mistake(`${path}.match`, "must be a non-empty string (a glob)", match);
    }
    const glob = compilePathGlob(match as string);
    if (glob.kind === "error")
      throw new ConfigMistake(`${quoteKey(`${path}.match`)}: ${glob.reason}`);
    const headers =
      rule.headers === undefined ? [] : checkHeaderMap(`${path}.headers`, rule.headers);
    let cacheControl: string | null = null;
    if (rule.cacheControl !== undefined) {
      const value = rule.cacheControl;
      if (typeof value !== "string" || value === "") {
        mistake(`${path}.cacheControl`, "must be a non-empty string", value);
      }
      const bad = findBadValueChar(value as string);
      if (bad !== null) throw new ConfigMistake(`${quoteKey(`${path}.cacheControl`)} holds ${bad}`);
      cacheControl = (value as string).trim();
    }
    if (rule.headers === undefined && rule.cacheControl === undefined) {
      throw new ConfigMistake(`${quoteKey(path)}: a rule needs "headers" or "cacheControl"`);
    }
    return { match: match as string, headers, cacheControl };
  });
}

export type Refined<T> =
  | { readonly kind: "value"; readonly value: T }
  | { readonly kind: "error"; readonly reason: string };

/** The checks beyond JSON types that list items get from both sources (the command line too). */
export function refineListItem(key: OptionKey, item: string): Refined<unknown> {
  switch (key) {
    case "listen":
    case "tlsListen":
      return refineListen(item);
    case "corsOrigins": {
      const origin = parseCorsOrigin(item);
      return origin.kind === "origin"
        ? { kind: "value", value: origin.origin }
        : { kind: "error", reason: origin.reason };
    }
    case "immutable": {
      const glob = compilePathGlob(item);
      return glob.kind === "glob"
        ? { kind: "value", value: item }
        : { kind: "error", reason: glob.reason };
    }
    default:
      return { kind: "value", value: item };
  }
}

/** One --listen / --tls-listen target; its reason without parseListenTarget's flag prefix. */
export function refineListen(text: string): Refined<ListenSpec> {
  const parsed = parseListenTarget(text, LOOPBACK_HOSTS);
  if (parsed.kind === "spec") return { kind: "value", value: parsed.spec };
  const prefix = `--listen ${text}: `;
  const reason = parsed.message.startsWith(prefix)
    ? parsed.message.slice(prefix.length)
    : parsed.message;
  return { kind: "error", reason };
}

/** `--socket-mode`: octal permission bits such as 660 or 0660. */
export function refineSocketMode(text: string): Refined<number> {
  if (!/^0?[0-7]{3}$/.test(text)) {
    return { kind: "error", reason: `expects octal permission bits like "660", got "${text}"` };
  }
  return { kind: "value", value: Number.parseInt(text, 8) };
}

function refineString(key: OptionKey, text: string): unknown {
  if (key !== "socketMode") return text;
  const mode = refineSocketMode(text);
  if (mode.kind === "error") throw new ConfigMistake(`${quoteKey(key)} ${mode.reason}`);
  return mode.value;
}

/** "an integer ≥ 0", "true or false", ...: the words after "must be". */
export function describeType(type: OptionType): string {
  switch (type.kind) {
    case "boolean":
      return "true or false";
    case "integer":
      return describeIntegerRange(type.min, type.max);
    case "integer-or-auto":
      return `${describeIntegerRange(type.min, type.max)} or "auto"`;
    case "string":
      return "a non-empty string";
    case "enum":
      return `one of ${type.values.map((v) => `"${v}"`).join(", ")}`;
    case "string-list":
      return "an array of strings";
    case "enum-list":
      return `an array of ${type.values.map((v) => `"${v}"`).join(", ")}`;
    case "header-map":
      return 'an object of header names to values, like { "X-Frame-Options": "DENY" }';
    case "rules":
      return 'an array of rules, like [{ "match": "assets/**", "cacheControl": "no-store" }]';
  }
}

function describeItems(type: Extract<OptionType, { kind: "enum-list" }>): string {
  return `one of ${type.values.map((v) => `"${v}"`).join(", ")}`;
}

function describeIntegerRange(min: number, max: number): string {
  return max >= INT_MAX ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
}

/** A value as the error shows it: JSON for scalars (so "60" reads as a string), kinds otherwise. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function mistake(path: string, expectation: string, got: unknown): never {
  if (got === undefined) throw new ConfigMistake(`${quoteKey(path)} is missing; it ${expectation}`);
  throw new ConfigMistake(`${quoteKey(path)} ${expectation}, got ${describeValue(got)}`);
}

/** A key path for a message; control characters in hostile keys are shown escaped. */
function quoteKey(path: string): string {
  return JSON.stringify(path);
}

/** " (did you mean "maxAge"?)" for "max-age", "maxage" or "MaxAge". */
function suggestKey(key: string): string {
  const folded = key.toLowerCase().replace(/[-_]/g, "");
  for (const [known, option] of Object.entries(SERVE_OPTIONS)) {
    const flagFolded = option.flag?.replace(/-/g, "") ?? "";
    if (known.toLowerCase() === folded || flagFolded === folded) {
      return ` (did you mean "${known}"?)`;
    }
  }
  return "";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolvePath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
