/**
 * The chat room of `berth chat` as a pure state machine (STYLE.md rule 1): connection events in,
 * actions out, no sockets and no clock. chat-server.ts turns socket activity into RoomEvents and
 * carries out the RoomActions; every word a member or the log sees is written here.
 *
 * What members see: lines from other members as "NAME: text"; the room's notices as "* ...";
 * answers to their own mistakes as "! ...". A member's name is ASCII letters, digits and "-_."
 * only, so no member line can start with "* " or "! " or pose as another member.
 *
 * Text from members is never passed through raw: decodeSafeText() turns the bytes of a line into
 * text in which invalid UTF-8 and every control character except TAB (C0, DEL and C1) are
 * U+FFFD, so no escape sequence, bell, backspace or carriage return reaches another terminal.
 */

/** The server's handle for one accepted connection; a member only while it is in the room. */
export type MemberId = number;

export type RoomEvent =
  /** A connection was accepted; peer names it in the log ("127.0.0.1:53422"). */
  | { readonly kind: "connect"; readonly id: MemberId; readonly peer: string }
  /** A complete line, without its terminator, exactly as received. */
  | { readonly kind: "line"; readonly id: MemberId; readonly line: Buffer }
  /** The peer sent a line over maxLineBytes. */
  | { readonly kind: "line-too-long"; readonly id: MemberId }
  /** The peer closed (or half-closed) its connection, or it failed. */
  | { readonly kind: "disconnect"; readonly id: MemberId }
  /** The server dropped the connection: its unsent output passed maxQueueBytes. */
  | { readonly kind: "too-slow"; readonly id: MemberId; readonly queuedBytes: number }
  | { readonly kind: "shutdown" };

export type LogLevel = "info" | "warn";

export type RoomAction =
  /** One line (the server adds the terminator) to each listed connection, in order. */
  | { readonly kind: "send"; readonly to: readonly MemberId[]; readonly line: string }
  /** End the connection once what was sent to it before has been written. */
  | { readonly kind: "close"; readonly id: MemberId }
  /** recurring: the same message may repeat in a burst; log it at most once a second. */
  | {
      readonly kind: "log";
      readonly level: LogLevel;
      readonly message: string;
      readonly recurring: boolean;
    };

export interface ChatRoomOptions {
  /** Members at once; one more connection is told the room is full and closed. */
  readonly maxMembers: number;
  /** The line limit in force, for the words of the too-long answer. */
  readonly maxLineBytes: number;
  /** The queue limit in force, for the log line of a dropped slow reader. */
  readonly maxQueueBytes: number;
}

/** Default --max-clients: a room for a team, small enough that one broadcast stays cheap. */
export const DEFAULT_MAX_MEMBERS = 64;

/** Names: 1–32 of these; ASCII only, so two names that look alike are alike. */
export const MAX_NAME_CHARS = 32;
const NAME = /^[A-Za-z0-9._-]{1,32}$/;

export const COMMANDS_HELP = "/nick NAME, /who, /quit";

/** How much of an unknown command is echoed back: enough to recognise a typo. */
const MAX_ECHOED_COMMAND_CHARS = 32;

/** The answer to a member's own mistake, sent to that member only. */
const ERROR_PREFIX = "! ";
/** A notice from the room. */
const NOTICE_PREFIX = "* ";

interface Member {
  readonly id: MemberId;
  readonly peer: string;
  name: string;
}

export class ChatRoom {
  /** In join order: /who lists members as they arrived. */
  private readonly members = new Map<MemberId, Member>();
  /** Lower-cased name → member: names are unique case-insensitively. */
  private readonly byName = new Map<string, Member>();
  private nextGuestNumber = 1;
  private closed = false;

  constructor(private readonly options: ChatRoomOptions) {
    if (!Number.isSafeInteger(options.maxMembers) || options.maxMembers < 1) {
      throw new RangeError(`maxMembers must be a positive integer, got ${options.maxMembers}`);
    }
  }

  get memberCount(): number {
    return this.members.size;
  }

  /** Names in join order. */
  get memberNames(): string[] {
    return [...this.members.values()].map((member) => member.name);
  }

  /** What to do about `event`; sends to nobody are left out. */
  handle(event: RoomEvent): RoomAction[] {
    return this.dispatch(event).filter((action) => action.kind !== "send" || action.to.length > 0);
  }

  private dispatch(event: RoomEvent): RoomAction[] {
    switch (event.kind) {
      case "connect":
        return this.connect(event.id, event.peer);
      case "line":
        return this.line(event.id, event.line);
      case "line-too-long":
        return this.lineTooLong(event.id);
      case "disconnect":
        return this.disconnect(event.id);
      case "too-slow":
        return this.tooSlow(event.id, event.queuedBytes);
      case "shutdown":
        return this.shutdown();
    }
  }

  private connect(id: MemberId, peer: string): RoomAction[] {
    if (this.closed) return [{ kind: "close", id }];
    const { maxMembers } = this.options;
    if (this.members.size >= maxMembers) {
      return [
        send([id], notice(`the room is full (${maxMembers} members); try again later`)),
        { kind: "close", id },
        log("warn", `the room is full (${maxMembers} members): turning connections away`, true),
      ];
    }
    const member: Member = { id, peer, name: this.takeGuestName() };
    const others = this.otherIds(id);
    this.members.set(id, member);
    this.byName.set(foldName(member.name), member);
    return [
      send(
        [id],
        notice(`welcome to berth chat; you are ${member.name} (${describeOthers(others.length)})`),
      ),
      send(
        [id],
        notice(`commands: ${COMMANDS_HELP}; start a line with // to send one beginning with /`),
      ),
      send(others, notice(`${member.name} joined`)),
      log("info", `${peer} ${member.name} joined`),
    ];
  }

  private line(id: MemberId, bytes: Buffer): RoomAction[] {
    const member = this.members.get(id);
    // A connection that is not (or no longer) a member: turned away, or already quit.
    if (member === undefined) return [];
    const text = decodeSafeText(bytes);
    if (text.startsWith("/") && !text.startsWith("//")) return this.command(member, text);
    const message = text.startsWith("//") ? text.slice(1) : text;
    // An empty line is the Enter key, not a message.
    if (/^[\t ]*$/.test(message)) return [];
    return [send(this.otherIds(id), `${member.name}: ${message}`)];
  }

  private command(member: Member, text: string): RoomAction[] {
    const match = /^\/(\S*)[\t ]*(.*?)[\t ]*$/.exec(text);
    const name = match?.[1] ?? "";
    const argument = match?.[2] ?? "";
    switch (name.toLowerCase()) {
      case "nick":
        return this.nick(member, argument);
      case "who":
        return this.who(member);
      case "quit":
        return this.quit(member);
      default:
        return [
          send(
            [member.id],
            error(
              `unknown command /${truncate(name, MAX_ECHOED_COMMAND_CHARS)}; commands: ${COMMANDS_HELP}`,
            ),
          ),
        ];
    }
  }

  private nick(member: Member, wanted: string): RoomAction[] {
    const to = [member.id];
    if (wanted === "") return [send(to, error("usage: /nick NAME"))];
    if (!NAME.test(wanted)) {
      return [
        send(
          to,
          error(`a name is 1-${MAX_NAME_CHARS} letters, digits, "-", "_" or "." (no spaces)`),
        ),
      ];
    }
    if (wanted === member.name) return [send(to, error(`you are already ${wanted}`))];
    const holder = this.byName.get(foldName(wanted));
    if (holder !== undefined && holder !== member) {
      return [send(to, error(`${wanted} is taken; pick another name`))];
    }
    const old = member.name;
    this.byName.delete(foldName(old));
    member.name = wanted;
    this.byName.set(foldName(wanted), member);
    return [
      send(to, notice(`you are now ${wanted}`)),
      send(this.otherIds(member.id), notice(`${old} is now ${wanted}`)),
      log("info", `${member.peer} ${old} is now ${wanted}`),
    ];
  }

  private who(member: Member): RoomAction[] {
    const names = [...this.members.values()].map((each) =>
      each === member ? `${each.name} (you)` : each.name,
    );
    return [send([member.id], notice(`${names.length} here: ${names.join(", ")}`))];
  }

  private quit(member: Member): RoomAction[] {
    return [
      send([member.id], notice("bye")),
      { kind: "close", id: member.id },
      ...this.leave(member, "left"),
    ];
  }

  private lineTooLong(id: MemberId): RoomAction[] {
    const member = this.members.get(id);
    if (member === undefined) return [{ kind: "close", id }];
    const { maxLineBytes } = this.options;
    return [
      send([id], error(`line too long (over ${maxLineBytes} bytes); disconnecting`)),
      { kind: "close", id },
      ...this.leave(
        member,
        `sent a line over ${maxLineBytes} bytes (--max-line-bytes): disconnected`,
      ),
    ];
  }

  private disconnect(id: MemberId): RoomAction[] {
    const member = this.members.get(id);
    // Its side is gone: end ours too (a no-op when the connection is already closed).
    if (member === undefined) return [{ kind: "close", id }];
    return [{ kind: "close", id }, ...this.leave(member, "left")];
  }

  private tooSlow(id: MemberId, queuedBytes: number): RoomAction[] {
    const member = this.members.get(id);
    if (member === undefined) return [];
    const { maxQueueBytes } = this.options;
    return this.leave(
      member,
      `stopped reading: ${queuedBytes} bytes queued, over ${maxQueueBytes} (--max-queue-bytes): disconnected`,
    );
  }

  private shutdown(): RoomAction[] {
    this.closed = true;
    const ids = [...this.members.keys()];
    this.members.clear();
    this.byName.clear();
    return [
      send(ids, notice("server shutting down")),
      ...ids.map((id): RoomAction => ({ kind: "close", id })),
    ];
  }

  /** Removes the member; the others see "* NAME left" whatever the reason, the log has it. */
  private leave(member: Member, why: string): RoomAction[] {
    this.members.delete(member.id);
    this.byName.delete(foldName(member.name));
    return [
      send(this.otherIds(member.id), notice(`${member.name} left`)),
      why === "left"
        ? log("info", `${member.peer} ${member.name} left`)
        : log("warn", `${member.peer} ${member.name} ${why}`),
    ];
  }

  /** guest-N with N counting up from 1; a number whose name someone took by /nick is skipped. */
  private takeGuestName(): string {
    for (;;) {
      const name = `guest-${this.nextGuestNumber++}`;
      if (!this.byName.has(foldName(name))) return name;
    }
  }

  private otherIds(id: MemberId): MemberId[] {
    const ids: MemberId[] = [];
    for (const other of this.members.keys()) if (other !== id) ids.push(other);
    return ids;
  }
}

// Every control character a terminal may act on, except TAB: C0 (CR, LF, BS, BEL, ESC...), DEL,
// and C1 (U+0080–U+009F: U+009B is an 8-bit CSI to some terminals, as good as ESC "[").
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * The bytes of a line as text that is safe to show on someone else's terminal: invalid UTF-8
 * becomes U+FFFD (WHATWG decoding: one per maximal invalid subsequence), and so does every
 * control character except TAB. An ANSI escape sequence loses its ESC and arrives as plain text.
 */
export function decodeSafeText(bytes: Buffer): string {
  return bytes.toString("utf8").replace(CONTROL_CHARACTERS, "\ufffd");
}

/** Whether `name` may be taken with /nick (uniqueness aside). */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

function foldName(name: string): string {
  return name.toLowerCase();
}

function describeOthers(count: number): string {
  if (count === 0) return "nobody else is here";
  return count === 1 ? "1 other member is here" : `${count} others are here`;
}

function truncate(text: string, maxChars: number): string {
  const chars = [...text];
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars).join("")}…`;
}

function send(to: readonly MemberId[], line: string): RoomAction {
  return { kind: "send", to, line };
}

function notice(text: string): string {
  return `${NOTICE_PREFIX}${text}`;
}

function error(text: string): string {
  return `${ERROR_PREFIX}${text}`;
}

function log(level: LogLevel, message: string, recurring = false): RoomAction {
  return { kind: "log", level, message, recurring };
}
