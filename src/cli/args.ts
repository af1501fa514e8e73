/** Small helpers for turning flag strings into checked values with one-line errors. */

export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The usage line shown with the error: the subcommand's, or the top-level one. */
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** A mistake in an input the user named: a config file, a certificate, a key. One line, exit 2,
 * and no usage line (the usage says nothing about what is inside the file). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Something the system refused at start-up (a log file that cannot be opened): one line, exit 1,
 * like a directory that cannot be served or an address that cannot be bound. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** A non-negative integer flag value, e.g. `--port 8080`, within [min, max]. */
export function parseIntegerFlag(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`--${flag} expects a whole number, got "${value}"`);
  }
  const parsed = Number(value);
  if (parsed < min || parsed > max) {
    throw new UsageError(`--${flag} must be between ${min} and ${max}, got ${value}`);
  }
  return parsed;
}

/** One of a fixed set of words, e.g. `--dotfiles deny`. */
export function parseChoiceFlag<T extends string>(
  flag: string,
  value: string,
  choices: readonly T[],
): T {
  const found = choices.find((choice) => choice === value);
  if (found === undefined) {
    throw new UsageError(`--${flag} must be one of ${choices.join(", ")}, got "${value}"`);
  }
  return found;
}

/** An octal permission mode for --socket-mode, such as 660 or 0660. */
export function parseSocketModeFlag(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new UsageError(`--socket-mode expects octal permission bits like 660, got "${text}"`);
  }
  return Number.parseInt(text, 8);
}

/** node:util parseArgs reports an unknown flag or a missing value with these codes. */
export function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
