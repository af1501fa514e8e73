/**
 * Happy Eyeballs connection racing (RFC 8305 in spirit), independent of sockets: the connect
 * function and the timers are injected, so tests drive the race with fake sockets and a fake
 * clock.
 *
 * - Order (RFC 8305 §4): when the list holds both families, IPv6 goes first and the families
 *   alternate (v6, v4, v6, v4, …); within a family the resolver's order is kept.
 * - Pacing (RFC 8305 §5): the next address is tried attemptDelayMs after the previous attempt
 *   started, or at once when an attempt fails, whichever comes first. Earlier attempts keep
 *   running.
 * - The first attempt to connect wins; every other attempt is aborted through its AbortSignal,
 *   and an attempt that connects anyway after that has its socket destroyed.
 * - timeoutMs bounds the whole race: when it passes, every attempt is aborted.
 */

/** One place to connect to: a resolved IP address and port, or a Unix socket path. */
export type ConnectAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number; readonly family: 4 | 6 }
  | { readonly kind: "unix"; readonly path: string };

/** RFC 8305 §5 recommends 250 ms between attempts ("Connection Attempt Delay"). */
export const DEFAULT_ATTEMPT_DELAY_MS = 250;

/** How long the whole connect (name resolution included) may take by default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The two timer functions the race uses; the globals by default, a fake clock in tests. */
export interface RaceTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

const GLOBAL_TIMERS: RaceTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface Destroyable {
  destroy(): void;
}

export interface HappyEyeballsOptions<S extends Destroyable> {
  /** Starts one attempt. It must give up (destroy its socket, reject) when `signal` aborts. */
  readonly connect: (address: ConnectAddress, signal: AbortSignal) => Promise<S>;
  readonly attemptDelayMs: number;
  readonly timeoutMs: number;
  readonly timers?: RaceTimers;
  /** Called as each attempt starts (for --verbose). */
  readonly onAttempt?: (address: ConnectAddress) => void;
}

export interface AttemptFailure {
  readonly address: ConnectAddress;
  readonly error: unknown;
}

export type HappyEyeballsResult<S> =
  | { readonly kind: "connected"; readonly socket: S; readonly address: ConnectAddress }
  /** Every address was tried and every attempt failed; failures are in the order they came. */
  | { readonly kind: "failed"; readonly failures: readonly AttemptFailure[] }
  /** timeoutMs passed first; `tried` lists the addresses whose attempts had started. */
  | {
      readonly kind: "timed-out";
      readonly timeoutMs: number;
      readonly tried: readonly ConnectAddress[];
      readonly failures: readonly AttemptFailure[];
    };

/** RFC 8305 §4: IPv6 first when both families are present, then the families interleaved. */
export function orderForHappyEyeballs(
  addresses: readonly ConnectAddress[],
): readonly ConnectAddress[] {
  const v6 = addresses.filter((address) => address.kind === "tcp" && address.family === 6);
  const others = addresses.filter((address) => !(address.kind === "tcp" && address.family === 6));
  if (v6.length === 0 || others.length === 0) return addresses;
  const ordered: ConnectAddress[] = [];
  for (let index = 0; index < Math.max(v6.length, others.length); index++) {
    const six = v6[index];
    const other = others[index];
    if (six !== undefined) ordered.push(six);
    if (other !== undefined) ordered.push(other);
  }
  return ordered;
}

/** One attempt in flight; aborting it is how a loser is told to stop. */
interface Attempt {
  readonly address: ConnectAddress;
  readonly controller: AbortController;
}

/** Races connections to `addresses` (in orderForHappyEyeballs order); never rejects. */
export function connectHappyEyeballs<S extends Destroyable>(
  addresses: readonly ConnectAddress[],
  options: HappyEyeballsOptions<S>,
): Promise<HappyEyeballsResult<S>> {
  const ordered = orderForHappyEyeballs(addresses);
  if (ordered.length === 0) throw new RangeError("connectHappyEyeballs: no addresses to try");
  const timers = options.timers ?? GLOBAL_TIMERS;

  return new Promise((resolve) => {
    const inFlight = new Set<Attempt>();
    const tried: ConnectAddress[] = [];
    const failures: AttemptFailure[] = [];
    let nextIndex = 0;
    let settled = false;
    let delayTimer: unknown = null;

    const finish = (result: HappyEyeballsResult<S>): void => {
      if (settled) return;
      settled = true;
      timers.clearTimeout(overallTimer);
      if (delayTimer !== null) timers.clearTimeout(delayTimer);
      for (const attempt of inFlight) attempt.controller.abort();
      inFlight.clear();
      resolve(result);
    };

    const startNext = (): void => {
      if (delayTimer !== null) timers.clearTimeout(delayTimer);
      delayTimer = null;
      const address = ordered[nextIndex];
      if (address === undefined || settled) return;
      nextIndex++;
      const attempt: Attempt = { address, controller: new AbortController() };
      inFlight.add(attempt);
      tried.push(address);
      options.onAttempt?.(address);
      if (nextIndex < ordered.length) {
        delayTimer = timers.setTimeout(startNext, options.attemptDelayMs);
      }
      let connecting: Promise<S>;
      try {
        connecting = options.connect(address, attempt.controller.signal);
      } catch (error) {
        connecting = Promise.reject(error);
      }
      connecting.then(
        (socket) => {
          inFlight.delete(attempt);
          // A loser that connected after the race was decided.
          if (settled) socket.destroy();
          else finish({ kind: "connected", socket, address });
        },
        (error: unknown) => {
          inFlight.delete(attempt);
          if (settled) return;
          failures.push({ address, error });
          // RFC 8305 §5: a failure starts the next attempt without waiting for the delay.
          if (nextIndex < ordered.length) startNext();
          else if (inFlight.size === 0) finish({ kind: "failed", failures });
        },
      );
    };

    const overallTimer = timers.setTimeout(() => {
      finish({ kind: "timed-out", timeoutMs: options.timeoutMs, tried: [...tried], failures });
    }, options.timeoutMs);
    startNext();
  });
}
