/**
 * The Happy Eyeballs race, driven by a fake clock and fake attempts: each row scripts what every
 * address does and when, and the race's whole timeline (attempts started, aborted, late winners
 * destroyed) and result must come out exactly. No sockets, no real time.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type ConnectTarget,
  formatConnectAddress,
  formatRaceFailure,
} from "../../src/toolkit/connect-target.js";
import {
  type ConnectAddress,
  connectHappyEyeballs,
  type HappyEyeballsResult,
  orderForHappyEyeballs,
  type RaceTimers,
} from "../../src/toolkit/happy-eyeballs.js";

// ---------------------------------------------------------------------------------------------
// A fake clock and fake attempts

class FakeClock implements RaceTimers {
  nowMs = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { atMs: number; callback: () => void }>();

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { atMs: this.nowMs + delayMs, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Fires timers in time order (ties in creation order) until none is left or `untilMs`,
   * letting every promise reaction run after each one. */
  async run(untilMs: number): Promise<void> {
    await settleMicrotasks();
    for (;;) {
      let next: [number, { atMs: number; callback: () => void }] | undefined;
      for (const entry of this.pending) {
        if (next === undefined || entry[1].atMs < next[1].atMs) next = entry;
      }
      if (next === undefined || next[1].atMs > untilMs) return;
      this.pending.delete(next[0]);
      this.nowMs = next[1].atMs;
      next[1].callback();
      await settleMicrotasks();
    }
  }
}

function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What one address does: connect or refuse after `afterMs`, or never answer. */
type Script =
  | { readonly outcome: "connect"; readonly afterMs: number; readonly ignoresAbort?: boolean }
  | { readonly outcome: "refuse"; readonly afterMs: number }
  | { readonly outcome: "hang" }
  | { readonly outcome: "throw" };

class FakeSocket {
  constructor(
    private readonly log: string[],
    private readonly clock: FakeClock,
    readonly name: string,
  ) {}
  destroy(): void {
    this.log.push(`${this.clock.nowMs} destroy ${this.name}`);
  }
}

function refused(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error("connect ECONNREFUSED");
  error.code = "ECONNREFUSED";
  return error;
}

function fakeConnect(
  scripts: ReadonlyMap<string, Script>,
  clock: FakeClock,
  log: string[],
): (address: ConnectAddress, signal: AbortSignal) => Promise<FakeSocket> {
  return (address, signal) => {
    const name = formatConnectAddress(address);
    const script = scripts.get(name);
    if (script === undefined) throw new Error(`no script for ${name}`);
    log.push(`${clock.nowMs} start ${name}`);
    if (script.outcome === "throw") throw new Error("connect threw");
    return new Promise((resolve, reject) => {
      let timer: unknown = null;
      const ignoresAbort = script.outcome === "connect" && script.ignoresAbort === true;
      signal.addEventListener("abort", () => {
        log.push(`${clock.nowMs} abort ${name}`);
        if (ignoresAbort) return;
        if (timer !== null) clock.clearTimeout(timer);
        reject(new Error("aborted"));
      });
      if (script.outcome === "connect") {
        timer = clock.setTimeout(() => resolve(new FakeSocket(log, clock, name)), script.afterMs);
      } else if (script.outcome === "refuse") {
        timer = clock.setTimeout(() => reject(refused()), script.afterMs);
      }
    });
  };
}

const V4A: ConnectAddress = { kind: "tcp", host: "192.0.2.1", port: 80, family: 4 };
const V4B: ConnectAddress = { kind: "tcp", host: "192.0.2.2", port: 80, family: 4 };
const V6A: ConnectAddress = { kind: "tcp", host: "2001:db8::1", port: 80, family: 6 };
const V6B: ConnectAddress = { kind: "tcp", host: "2001:db8::2", port: 80, family: 6 };

interface Row {
  readonly name: string;
  /** In the resolver's order, each with its script. */
  readonly addresses: readonly (readonly [ConnectAddress, Script])[];
  readonly attemptDelayMs?: number;
  readonly timeoutMs?: number;
  /** The timeline: "<ms> start|abort|destroy <address>", then "<ms> <result>". */
  readonly want: readonly string[];
}

function describeOutcome(result: HappyEyeballsResult<FakeSocket>): string {
  switch (result.kind) {
    case "connected":
      return `connected ${formatConnectAddress(result.address)} (socket ${result.socket.name})`;
    case "failed":
      return `failed ${result.failures.map((failure) => formatConnectAddress(failure.address)).join(", ")}`;
    case "timed-out":
      return `timed-out ${result.timeoutMs} tried ${result.tried.map(formatConnectAddress).join(", ")}`;
  }
}

async function runRace(
  row: Row,
): Promise<{ log: string[]; result: HappyEyeballsResult<FakeSocket> }> {
  const clock = new FakeClock();
  const log: string[] = [];
  const scripts = new Map(
    row.addresses.map(([address, script]) => [formatConnectAddress(address), script]),
  );
  let result: HappyEyeballsResult<FakeSocket> | null = null;
  const race = connectHappyEyeballs(
    row.addresses.map(([address]) => address),
    {
      connect: fakeConnect(scripts, clock, log),
      attemptDelayMs: row.attemptDelayMs ?? 250,
      timeoutMs: row.timeoutMs ?? 10_000,
      timers: clock,
    },
  );
  race.then((settled) => {
    result = settled;
    log.push(`${clock.nowMs} ${describeOutcome(settled)}`);
  });
  // Past the overall timeout, so late winners (ignoresAbort) show up in the log too.
  await clock.run((row.timeoutMs ?? 10_000) + 1000);
  assert.ok(result !== null, `${row.name}: the race never settled; log:\n${log.join("\n")}`);
  return { log, result };
}

// ---------------------------------------------------------------------------------------------
// Rows

// biome-ignore format: a table reads best with one row per line
const rows: Row[] = [
  { name: "one address connects", addresses: [[V4A, { outcome: "connect", afterMs: 5 }]],
    want: ["0 start 192.0.2.1:80", "5 connected 192.0.2.1:80 (socket 192.0.2.1:80)"] },
  { name: "IPv6 first although the resolver listed IPv4 first; it connects before the delay, IPv4 never tried",
    addresses: [[V4A, { outcome: "connect", afterMs: 5 }], [V6A, { outcome: "connect", afterMs: 100 }]],
    want: ["0 start [2001:db8::1]:80", "100 connected [2001:db8::1]:80 (socket [2001:db8::1]:80)"] },
  { name: "IPv6 hangs: IPv4 starts after the 250 ms delay, wins, IPv6 is aborted",
    addresses: [[V6A, { outcome: "hang" }], [V4A, { outcome: "connect", afterMs: 10 }]],
    want: ["0 start [2001:db8::1]:80", "250 start 192.0.2.1:80", "260 abort [2001:db8::1]:80", "260 connected 192.0.2.1:80 (socket 192.0.2.1:80)"] },
  { name: "a custom delay paces the attempts",
    addresses: [[V6A, { outcome: "hang" }], [V4A, { outcome: "connect", afterMs: 10 }]], attemptDelayMs: 40,
    want: ["0 start [2001:db8::1]:80", "40 start 192.0.2.1:80", "50 abort [2001:db8::1]:80", "50 connected 192.0.2.1:80 (socket 192.0.2.1:80)"] },
  { name: "a refusal starts the next attempt at once, without waiting for the delay",
    addresses: [[V6A, { outcome: "refuse", afterMs: 20 }], [V4A, { outcome: "connect", afterMs: 10 }]],
    want: ["0 start [2001:db8::1]:80", "20 start 192.0.2.1:80", "30 connected 192.0.2.1:80 (socket 192.0.2.1:80)"] },
  { name: "an attempt that throws counts as a failure",
    addresses: [[V6A, { outcome: "throw" }], [V4A, { outcome: "connect", afterMs: 10 }]],
    want: ["0 start [2001:db8::1]:80", "0 start 192.0.2.1:80", "10 connected 192.0.2.1:80 (socket 192.0.2.1:80)"] },
  { name: "the earlier attempt keeps running and can still win",
    addresses: [[V6A, { outcome: "connect", afterMs: 300 }], [V4A, { outcome: "hang" }]],
    want: ["0 start [2001:db8::1]:80", "250 start 192.0.2.1:80", "300 abort 192.0.2.1:80", "300 connected [2001:db8::1]:80 (socket [2001:db8::1]:80)"] },
  { name: "first success wins; a loser that connects anyway is destroyed",
    addresses: [[V6A, { outcome: "connect", afterMs: 280, ignoresAbort: true }], [V4A, { outcome: "connect", afterMs: 20 }]],
    want: ["0 start [2001:db8::1]:80", "250 start 192.0.2.1:80", "270 abort [2001:db8::1]:80", "270 connected 192.0.2.1:80 (socket 192.0.2.1:80)", "280 destroy [2001:db8::1]:80"] },
  { name: "families interleave: v6, v4, v6, v4, one delay apart",
    addresses: [[V6A, { outcome: "hang" }], [V6B, { outcome: "hang" }], [V4A, { outcome: "hang" }], [V4B, { outcome: "connect", afterMs: 1 }]],
    want: ["0 start [2001:db8::1]:80", "250 start 192.0.2.1:80", "500 start [2001:db8::2]:80", "750 start 192.0.2.2:80", "751 abort [2001:db8::1]:80", "751 abort 192.0.2.1:80", "751 abort [2001:db8::2]:80", "751 connected 192.0.2.2:80 (socket 192.0.2.2:80)"] },
  { name: "every address refused: failed, naming each",
    addresses: [[V6A, { outcome: "refuse", afterMs: 5 }], [V4A, { outcome: "refuse", afterMs: 5 }]],
    want: ["0 start [2001:db8::1]:80", "5 start 192.0.2.1:80", "10 failed [2001:db8::1]:80, 192.0.2.1:80"] },
  { name: "the last attempt fails while an earlier one still runs: wait for it",
    addresses: [[V6A, { outcome: "connect", afterMs: 400 }], [V4A, { outcome: "refuse", afterMs: 5 }]],
    want: ["0 start [2001:db8::1]:80", "250 start 192.0.2.1:80", "400 connected [2001:db8::1]:80 (socket [2001:db8::1]:80)"] },
  { name: "overall timeout: every attempt aborted, the ones started are named",
    addresses: [[V6A, { outcome: "hang" }], [V4A, { outcome: "hang" }], [V6B, { outcome: "hang" }]], timeoutMs: 400,
    want: ["0 start [2001:db8::1]:80", "250 start 192.0.2.1:80", "400 abort [2001:db8::1]:80", "400 abort 192.0.2.1:80", "400 timed-out 400 tried [2001:db8::1]:80, 192.0.2.1:80"] },
  { name: "overall timeout on a single hanging address",
    addresses: [[V4A, { outcome: "hang" }]], timeoutMs: 1000,
    want: ["0 start 192.0.2.1:80", "1000 abort 192.0.2.1:80", "1000 timed-out 1000 tried 192.0.2.1:80"] },
];

describe("connectHappyEyeballs (fake clock)", () => {
  for (const row of rows) {
    test(row.name, async () => {
      const { log } = await runRace(row);
      assert.deepEqual(log, row.want, `connectHappyEyeballs(${row.name}): timeline`);
    });
  }

  test("no addresses is a caller bug", () => {
    assert.throws(
      () =>
        connectHappyEyeballs([], {
          connect: () => Promise.reject(new Error("unused")),
          attemptDelayMs: 250,
          timeoutMs: 1000,
        }),
      RangeError,
    );
  });
});

describe("orderForHappyEyeballs", () => {
  const name = (addresses: readonly ConnectAddress[]): string =>
    addresses.map(formatConnectAddress).join(" ");
  // biome-ignore format: a table reads best with one row per line
  const cases: [string, ConnectAddress[], string][] = [
    ["v4 only keeps its order", [V4B, V4A], "192.0.2.2:80 192.0.2.1:80"],
    ["v6 only keeps its order", [V6B, V6A], "[2001:db8::2]:80 [2001:db8::1]:80"],
    ["v4 first becomes v6 first", [V4A, V6A], "[2001:db8::1]:80 192.0.2.1:80"],
    ["families interleave", [V4A, V4B, V6A, V6B], "[2001:db8::1]:80 192.0.2.1:80 [2001:db8::2]:80 192.0.2.2:80"],
    ["leftovers of the longer family go last", [V6A, V4A, V4B], "[2001:db8::1]:80 192.0.2.1:80 192.0.2.2:80"],
  ];
  for (const [label, input, want] of cases) {
    test(label, () => {
      assert.equal(
        name(orderForHappyEyeballs(input)),
        want,
        `orderForHappyEyeballs(${name(input)})`,
      );
    });
  }
});

describe("formatRaceFailure", () => {
  const named: ConnectTarget = { kind: "tcp", host: "example", port: 80 };
  const literal: ConnectTarget = { kind: "tcp", host: "192.0.2.1", port: 80 };
  const v6: ConnectAddress = { kind: "tcp", host: "::1", port: 80, family: 6 };
  const v4: ConnectAddress = { kind: "tcp", host: "127.0.0.1", port: 80, family: 4 };
  const unreachable: NodeJS.ErrnoException = Object.assign(new Error("x"), { code: "ENETUNREACH" });
  // biome-ignore format: a table reads best with one row per line
  const cases: [string, ConnectTarget, Parameters<typeof formatRaceFailure>[1], string][] = [
    ["all refused: grouped, every address named", named, { kind: "failed", failures: [{ address: v6, error: refused() }, { address: v4, error: refused() }] }, "connection refused (tried [::1]:80, 127.0.0.1:80)"],
    ["different reasons: one group each", named, { kind: "failed", failures: [{ address: v6, error: unreachable }, { address: v4, error: refused() }] }, "network unreachable (tried [::1]:80); connection refused (tried 127.0.0.1:80)"],
    ["the literal the user typed is not repeated", literal, { kind: "failed", failures: [{ address: V4A, error: refused() }] }, "connection refused"],
    ["a name with one address shows it", named, { kind: "failed", failures: [{ address: v4, error: refused() }] }, "connection refused (tried 127.0.0.1:80)"],
    ["timeout names the addresses tried", named, { kind: "timed-out", timeoutMs: 10000, tried: [v6, v4], failures: [] }, "timed out after 10000 ms (tried [::1]:80, 127.0.0.1:80)"],
    ["timeout on the literal typed", literal, { kind: "timed-out", timeoutMs: 50, tried: [V4A], failures: [] }, "timed out after 50 ms"],
  ];
  for (const [label, target, result, want] of cases) {
    test(label, () => {
      assert.equal(formatRaceFailure(target, result), want, `formatRaceFailure(${label})`);
    });
  }
});
