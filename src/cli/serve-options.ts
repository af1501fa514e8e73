/**
 * From `berth serve`'s command line and berth.json to one resolved set of options. Pure (no file
 * is read here): serve.ts does the I/O around it.
 *
 *   flags ──choicesFromFlags──▶ ServeChoices ─┐
 *                                              ├─mergeChoices─▶ ServeChoices ─resolveServe─▶ ResolvedServe
 *   berth.json ──validateConfig──▶ ServeChoices ┘  (the command line wins)
 *
 * Flags are parsed with the bounds of the one option table (config.ts SERVE_OPTIONS), so a flag
 * and its berth.json key always accept the same values.
 */
import type { ParseArgsConfig } from "node:util";
import {
  type Coding,
  DEFAULT_PRECOMPRESSED_CODINGS,
  parseCodingList,
} from "../files/accept-encoding.js";
import type { SymlinkPolicy } from "../files/open-servable.js";
import type { PathRule } from "../files/path-rules.js";
import type { DotfilePolicy } from "../files/resolve-path.js";
import type { CorsPolicy } from "../http/cors.js";
import { type ExtraHeader, parseHeaderLine } from "../http/extra-headers.js";
import type { RequestParserLimits } from "../http/request-types.js";
import type { ListenSpec } from "../net/listen-target.js";
import type { AccessLogFormat } from "../server/access-log.js";
import type { FileCacheLimits } from "../server/file-cache.js";
import { DEFAULT_SPA_FILE, type SocketApi } from "../server/static-server.js";
import { parseChoiceFlag, parseIntegerFlag, UsageError } from "./args.js";
import {
  type OptionKey,
  type OptionType,
  refineListItem,
  refineSocketMode,
  SERVE_OPTIONS,
  type ServeChoices,
} from "./config.js";

/** Flags that are not options of the server: where the options come from, and help. */
const META_FLAGS = {
  config: { type: "string" },
  "no-config": { type: "boolean" },
  "no-precompressed": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type FlagSpec = { type: "string" | "boolean"; multiple?: boolean; short?: string };

/** node:util parseArgs options for every flag, built from the option table. */
export function serveParseArgsOptions(): NonNullable<ParseArgsConfig["options"]> {
  const options: Record<string, FlagSpec> = {};
  for (const option of Object.values(SERVE_OPTIONS)) {
    if (option.flag === null) continue;
    options[option.flag] = flagSpecOf(option.type);
  }
  return { ...options, ...META_FLAGS };
}

function flagSpecOf(type: OptionType): FlagSpec {
  switch (type.kind) {
    case "boolean":
      return { type: "boolean" };
    case "string-list":
    case "header-map":
      return { type: "string", multiple: true };
    default:
      return { type: "string" };
  }
}

/** What parseArgs returned: a string, a list of strings or true per flag given. */
export type FlagValues = Readonly<
  Record<string, string | boolean | readonly (string | boolean)[] | undefined>
>;

/** Where berth.json comes from: --config FILE, --no-config, or ./berth.json when present. */
export type ConfigSource =
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "none" }
  | { readonly kind: "default" };

export function configSourceOf(values: FlagValues): ConfigSource {
  const path = values.config;
  const off = values["no-config"] === true;
  if (typeof path === "string") {
    if (off) throw new UsageError("--config and --no-config conflict");
    if (path === "") throw new UsageError("--config expects a file name");
    return { kind: "file", path };
  }
  return off ? { kind: "none" } : { kind: "default" };
}

/** The command line's choices; throws UsageError naming the flag for a bad value. */
export function choicesFromFlags(values: FlagValues, positionals: readonly string[]): ServeChoices {
  if (positionals.length > 1) {
    throw new UsageError(`expected one directory, got ${positionals.length}`);
  }
  const choices: Record<string, unknown> = {};
  if (positionals[0] !== undefined) choices.root = positionals[0];
  for (const [key, option] of Object.entries(SERVE_OPTIONS) as [
    OptionKey,
    (typeof SERVE_OPTIONS)[OptionKey],
  ][]) {
    const flag = option.flag;
    if (flag === null) continue;
    const raw = values[flag];
    if (raw === undefined) continue;
    choices[key] = parseFlagValue(key, flag, option.type, raw);
  }
  if (values["no-precompressed"] === true) {
    if (choices.precompressed !== undefined) {
      throw new UsageError("--precompressed and --no-precompressed conflict");
    }
    choices.precompressed = [];
  }
  if (choices.listen !== undefined && (choices.hosts !== undefined || choices.port !== undefined)) {
    throw new UsageError("--listen cannot be combined with --host or --port");
  }
  if (choices.cors === true && choices.corsOrigins !== undefined) {
    throw new UsageError("--cors allows any origin; drop it or --cors-origin");
  }
  return choices as ServeChoices;
}

function parseFlagValue(
  key: OptionKey,
  flag: string,
  type: OptionType,
  raw: string | boolean | readonly (string | boolean)[],
): unknown {
  switch (type.kind) {
    case "boolean":
      return true;
    case "integer":
      return parseIntegerFlag(flag, String(raw), type.min, type.max);
    case "integer-or-auto":
      return raw === "auto" ? "auto" : parseIntegerFlag(flag, String(raw), type.min, type.max);
    case "enum":
      return parseChoiceFlag(flag, String(raw), type.values);
    case "enum-list":
      return parsePrecompressed(String(raw));
    case "string": {
      const text = String(raw);
      if (text === "") throw new UsageError(`--${flag} expects a value`);
      if (key !== "socketMode") return text;
      const mode = refineSocketMode(text);
      if (mode.kind === "error") throw new UsageError(`--${flag} ${mode.reason}`);
      return mode.value;
    }
    case "string-list":
      return listOf(raw).map((item) => {
        const refined = refineListItem(key, item);
        if (refined.kind === "error") throw new UsageError(`--${flag} ${item}: ${refined.reason}`);
        return refined.value;
      });
    case "header-map":
      return listOf(raw).map((line) => {
        const parsed = parseHeaderLine(line);
        if (parsed.kind === "error") {
          throw new UsageError(`--${flag} ${JSON.stringify(line)}: ${parsed.reason}`);
        }
        return parsed.header;
      });
    case "rules":
      throw new Error(`${key} has no flag`);
  }
}

function listOf(raw: string | boolean | readonly (string | boolean)[]): string[] {
  return (Array.isArray(raw) ? raw : [raw]).map(String);
}

function parsePrecompressed(text: string): Coding[] {
  try {
    return parseCodingList(text);
  } catch (error) {
    // parseCodingList's messages already start with "--precompressed: ".
    throw new UsageError((error as Error).message);
  }
}

/** Options that go together: when the command line sets any of them, the file's are dropped,
 * so `--port 9000` never meets a `listen` from the file, nor `--cors-origin` a `"cors": true`. */
const GROUPS: readonly (readonly OptionKey[])[] = [
  ["listen", "hosts", "port"],
  ["cors", "corsOrigins"],
];

/** The file's choices with the command line's over them. */
export function mergeChoices(file: ServeChoices, cli: ServeChoices): ServeChoices {
  const merged: Record<string, unknown> = { ...file };
  for (const group of GROUPS) {
    if (group.some((key) => cli[key] !== undefined)) {
      for (const key of group) delete merged[key];
    }
  }
  for (const [key, value] of Object.entries(cli)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as ServeChoices;
}

/** Everything `berth serve` runs with, defaults applied (except where the server decides:
 * maxConnections from the descriptor limit, and the constants it owns). */
export interface ResolvedServe {
  readonly root: string;
  readonly listen?: readonly ListenSpec[];
  readonly tlsListen?: readonly ListenSpec[];
  readonly hosts?: readonly string[];
  readonly port?: number;
  readonly socketMode?: number;
  readonly dotfiles: DotfilePolicy;
  readonly symlinks: SymlinkPolicy;
  readonly listing: boolean;
  readonly spa: boolean;
  readonly spaFile: string;
  readonly cleanUrls: boolean;
  readonly cors: CorsPolicy | null;
  readonly headers: readonly ExtraHeader[];
  readonly rules: readonly PathRule[];
  readonly maxAgeSeconds?: number;
  readonly immutableGlobs: readonly string[];
  readonly precompressed: readonly Coding[];
  readonly maxRanges?: number;
  readonly cache: Partial<FileCacheLimits>;
  readonly headerTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly sendTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
  readonly graceMs?: number;
  readonly maxPipelinedBytes?: number;
  readonly maxConnections?: number;
  readonly limits: Partial<RequestParserLimits>;
  readonly quiet: boolean;
  readonly trace: boolean;
  readonly logFormat: AccessLogFormat;
  readonly logFile: string | null;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  readonly workers: number | "auto";
  readonly socketApi: SocketApi;
}

/** Checks what only the merged choices can tell (pairs that go together), applies defaults. */
export function resolveServe(choices: ServeChoices): ResolvedServe {
  const { tlsCert, tlsKey } = choices;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new UsageError(
      `${tlsCert === undefined ? "--tls-key" : "--tls-cert"} needs ${tlsCert === undefined ? "--tls-cert" : "--tls-key"} too (tlsCert and tlsKey in berth.json)`,
    );
  }
  if (choices.tlsListen !== undefined && tlsCert === undefined) {
    throw new UsageError("--tls-listen needs --tls-cert and --tls-key");
  }
  const corsOrigins = choices.corsOrigins ?? [];
  const cors: CorsPolicy | null =
    choices.cors === true || corsOrigins.length > 0
      ? { anyOrigin: choices.cors === true, origins: new Set(corsOrigins) }
      : null;
  return {
    root: choices.root ?? ".",
    ...defined("listen", choices.listen),
    ...defined("tlsListen", choices.tlsListen),
    ...defined("hosts", choices.hosts),
    ...defined("port", choices.port),
    ...defined("socketMode", choices.socketMode),
    dotfiles: choices.dotfiles ?? "deny",
    symlinks: choices.symlinks ?? "contain",
    listing: choices.listing ?? false,
    // --spa-file names the fallback, so it turns the fallback on.
    spa: choices.spa === true || choices.spaFile !== undefined,
    spaFile: choices.spaFile ?? DEFAULT_SPA_FILE,
    cleanUrls: choices.cleanUrls ?? false,
    cors,
    headers: choices.headers ?? [],
    rules: choices.rules ?? [],
    ...defined("maxAgeSeconds", choices.maxAge),
    immutableGlobs: choices.immutable ?? [],
    precompressed: choices.precompressed ?? DEFAULT_PRECOMPRESSED_CODINGS,
    ...defined("maxRanges", choices.maxRanges),
    cache: {
      ...defined("maxBytes", choices.cacheBytes),
      ...defined("maxFileBytes", choices.cacheFileBytes),
      ...defined("validityMs", choices.cacheValidityMs),
    },
    ...defined("headerTimeoutMs", choices.headerTimeoutMs),
    ...defined("keepAliveTimeoutMs", choices.keepaliveTimeoutMs),
    ...defined("sendTimeoutMs", choices.sendTimeoutMs),
    ...defined("bodyTimeoutMs", choices.bodyTimeoutMs),
    ...defined("graceMs", choices.graceMs),
    ...defined("maxPipelinedBytes", choices.maxPipelinedBytes),
    ...defined("maxConnections", choices.maxConnections),
    limits: {
      ...defined("maxRequestLineBytes", choices.maxRequestLineBytes),
      ...defined("maxHeadBytes", choices.maxHeadBytes),
      ...defined("maxHeaderFields", choices.maxHeaderFields),
      ...defined("maxBodyBytes", choices.maxBodyBytes),
    },
    quiet: choices.quiet ?? false,
    trace: choices.trace ?? false,
    logFormat: choices.logFormat ?? "common",
    logFile: choices.logFile ?? null,
    tls:
      tlsCert === undefined || tlsKey === undefined ? null : { certFile: tlsCert, keyFile: tlsKey },
    workers: choices.workers ?? 1,
    socketApi: choices.socketApi ?? "auto",
  };
}

/** `{ [key]: value }` when value is defined, else `{}`: optional properties stay absent
 * (exactOptionalPropertyTypes). */
function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
