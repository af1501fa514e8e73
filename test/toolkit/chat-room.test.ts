/**
 * Table tests for the pure chat room: no sockets. Each row starts from a room where `members`
 * connections (ids 1..N, peers p1..pN) have joined, replays `before` (answers ignored), then
 * handles one event and compares its answer, written one action per string:
 *   "2,3: LINE"        a line sent to connections 2 and 3
 *   "close 2"          end connection 2
 *   "info: MESSAGE"    a log line ("warn:", and "warn*:" for a recurring one)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ChatRoom,
  type ChatRoomOptions,
  decodeSafeText,
  type MemberId,
  type RoomAction,
  type RoomEvent,
} from "../../src/toolkit/chat-room.js";

// ---------------------------------------------------------------------------------------------
// Runner

interface Row {
  readonly name: string;
  /** Members joined before `before`; default 3. */
  readonly members?: number;
  readonly before?: readonly RoomEvent[];
  readonly event: RoomEvent;
  readonly want: readonly string[];
  readonly options?: Partial<ChatRoomOptions>;
}

const OPTIONS: ChatRoomOptions = { maxMembers: 64, maxLineBytes: 4096, maxQueueBytes: 65536 };
const WELCOME_COMMANDS =
  "* commands: /nick NAME, /who, /quit; start a line with // to send one beginning with /";

function showAction(action: RoomAction): string {
  switch (action.kind) {
    case "send":
      return `${action.to.join(",")}: ${action.line}`;
    case "close":
      return `close ${action.id}`;
    case "log":
      return `${action.level}${action.recurring ? "*" : ""}: ${action.message}`;
  }
}

function showEvent(event: RoomEvent): string {
  switch (event.kind) {
    case "connect":
      return `connect ${event.id} from ${event.peer}`;
    case "line":
      return `line ${event.id} ${JSON.stringify(event.line.toString("latin1"))}`;
    case "line-too-long":
    case "disconnect":
      return `${event.kind} ${event.id}`;
    case "too-slow":
      return `too-slow ${event.id} (${event.queuedBytes} bytes)`;
    case "shutdown":
      return "shutdown";
  }
}

function checkRow(row: Row): void {
  const room = new ChatRoom({ ...OPTIONS, ...row.options });
  for (let id = 1; id <= (row.members ?? 3); id++) room.handle(connect(id));
  for (const event of row.before ?? []) room.handle(event);
  const got = room.handle(row.event).map(showAction);
  assert.deepEqual(
    got,
    row.want,
    `room.handle(${showEvent(row.event)}) = ${JSON.stringify(got, null, 1)}, want ${JSON.stringify(row.want, null, 1)}`,
  );
}

function runTable(title: string, rows: readonly Row[]): void {
  describe(title, () => {
    for (const row of rows) test(row.name, () => checkRow(row));
  });
}

// ---------------------------------------------------------------------------------------------
// Row builders

function connect(id: MemberId): RoomEvent {
  return { kind: "connect", id, peer: `p${id}` };
}

/** A line as UTF-8 bytes. */
function line(id: MemberId, text: string): RoomEvent {
  return { kind: "line", id, line: Buffer.from(text, "utf8") };
}

/** A line of raw bytes, written one latin1 char per byte ("\xff"). */
function rawLine(id: MemberId, bytes: string): RoomEvent {
  return { kind: "line", id, line: Buffer.from(bytes, "latin1") };
}

function disconnect(id: MemberId): RoomEvent {
  return { kind: "disconnect", id };
}

const SHUTDOWN: RoomEvent = { kind: "shutdown" };
const NAME_RULE = '! a name is 1-32 letters, digits, "-", "_" or "." (no spaces)';
const UNKNOWN = "; commands: /nick NAME, /who, /quit";

// ---------------------------------------------------------------------------------------------
// Tables

// biome-ignore format: one row per line
runTable("joining and leaving", [
  { name: "the first member is welcomed, nobody else is told", members: 0, event: connect(1), want: ["1: * welcome to berth chat; you are guest-1 (nobody else is here)", `1: ${WELCOME_COMMANDS}`, "info: p1 guest-1 joined"] },
  { name: "the second member hears of one other; the first is told", members: 1, event: connect(2), want: ["2: * welcome to berth chat; you are guest-2 (1 other member is here)", `2: ${WELCOME_COMMANDS}`, "1: * guest-2 joined", "info: p2 guest-2 joined"] },
  { name: "the fourth member hears of three others", event: connect(4), want: ["4: * welcome to berth chat; you are guest-4 (3 others are here)", `4: ${WELCOME_COMMANDS}`, "1,2,3: * guest-4 joined", "info: p4 guest-4 joined"] },
  { name: "a full room turns the next one away politely and closes it", members: 2, options: { maxMembers: 2 }, event: connect(3), want: ["3: * the room is full (2 members); try again later", "close 3", "warn*: the room is full (2 members): turning connections away"] },
  { name: "a place freed by a leave is taken again", members: 2, options: { maxMembers: 2 }, before: [disconnect(1)], event: connect(3), want: ["3: * welcome to berth chat; you are guest-3 (1 other member is here)", `3: ${WELCOME_COMMANDS}`, "2: * guest-3 joined", "info: p3 guest-3 joined"] },
  { name: "guest numbers are never reused", members: 2, before: [disconnect(2)], event: connect(3), want: ["3: * welcome to berth chat; you are guest-3 (1 other member is here)", `3: ${WELCOME_COMMANDS}`, "1: * guest-3 joined", "info: p3 guest-3 joined"] },
  { name: "a guest number someone took by /nick is skipped", members: 1, before: [line(1, "/nick GUEST-2")], event: connect(2), want: ["2: * welcome to berth chat; you are guest-3 (1 other member is here)", `2: ${WELCOME_COMMANDS}`, "1: * guest-3 joined", "info: p2 guest-3 joined"] },
  { name: "a disconnect: the others are told, our side is ended", event: disconnect(2), want: ["close 2", "1,3: * guest-2 left", "info: p2 guest-2 left"] },
  { name: "the last member leaves: nothing sent to nobody", members: 1, event: disconnect(1), want: ["close 1", "info: p1 guest-1 left"] },
  { name: "a disconnect of a connection turned away", members: 2, options: { maxMembers: 2 }, before: [connect(3)], event: disconnect(3), want: ["close 3"] },
  { name: "a second disconnect of the same member", before: [disconnect(2)], event: disconnect(2), want: ["close 2"] },
  { name: "a line too long: an error to the sender, close, the others told", event: { kind: "line-too-long", id: 1 }, want: ["1: ! line too long (over 4096 bytes); disconnecting", "close 1", "2,3: * guest-1 left", "warn: p1 guest-1 sent a line over 4096 bytes (--max-line-bytes): disconnected"] },
  { name: "a reader too slow: dropped by the server, the others told", event: { kind: "too-slow", id: 2, queuedBytes: 70000 }, want: ["1,3: * guest-2 left", "warn: p2 guest-2 stopped reading: 70000 bytes queued, over 65536 (--max-queue-bytes): disconnected"] },
  { name: "the renamed member leaves under its new name", before: [line(2, "/nick bob")], event: disconnect(2), want: ["close 2", "1,3: * bob left", "info: p2 bob left"] },
  { name: "shutdown: everyone told, every connection closed", event: SHUTDOWN, want: ["1,2,3: * server shutting down", "close 1", "close 2", "close 3"] },
  { name: "a connection after shutdown is closed at once", before: [SHUTDOWN], event: connect(4), want: ["close 4"] },
]);

// biome-ignore format: one row per line
runTable("messages", [
  { name: "a line goes to everyone else, not the sender", event: line(1, "hello"), want: ["2,3: guest-1: hello"] },
  { name: "a line from the only member goes nowhere", members: 1, event: line(1, "anyone?"), want: [] },
  { name: "spaces and tabs inside are kept", event: line(2, "  a\tb  "), want: ["1,3: guest-2:   a\tb  "] },
  { name: "an empty line is the Enter key, not a message", event: line(1, ""), want: [] },
  { name: "a line of spaces and tabs is not a message", event: line(1, " \t "), want: [] },
  { name: "// sends a line beginning with /", event: line(1, "//etc/passwd is a file"), want: ["2,3: guest-1: /etc/passwd is a file"] },
  { name: "UTF-8 passes as it is", event: line(1, "café 𝄞 €"), want: ["2,3: guest-1: café 𝄞 €"] },
  { name: "a colour escape loses its ESC", event: rawLine(1, "\x1b[31mred\x1b[0m"), want: ["2,3: guest-1: \ufffd[31mred\ufffd[0m"] },
  { name: "a bare CR cannot overwrite the name prefix", event: rawLine(1, "\rguest-2: fake"), want: ["2,3: guest-1: \ufffdguest-2: fake"] },
  { name: "an embedded LF cannot start a fake line", event: rawLine(1, "hi\n* guest-2 left"), want: ["2,3: guest-1: hi\ufffd* guest-2 left"] },
  { name: "invalid UTF-8 is replaced", event: rawLine(1, "a\xffb\xc3"), want: ["2,3: guest-1: a\ufffdb\ufffd"] },
  { name: "a line from a member that quit is ignored", before: [line(1, "/quit")], event: line(1, "still here?"), want: [] },
  { name: "a line from a connection turned away is ignored", members: 1, options: { maxMembers: 1 }, before: [connect(2)], event: line(2, "let me in"), want: [] },
]);

// biome-ignore format: one row per line
runTable("/nick", [
  { name: "a valid name: the sender is told, the others see the change", event: line(1, "/nick alice"), want: ["1: * you are now alice", "2,3: * guest-1 is now alice", "info: p1 guest-1 is now alice"] },
  { name: "spaces around the name are ignored", event: line(1, "/nick \t alice  "), want: ["1: * you are now alice", "2,3: * guest-1 is now alice", "info: p1 guest-1 is now alice"] },
  { name: "the command is case-insensitive", event: line(1, "/NICK alice"), want: ["1: * you are now alice", "2,3: * guest-1 is now alice", "info: p1 guest-1 is now alice"] },
  { name: "every allowed character", event: line(1, "/nick A-z_0.9"), want: ["1: * you are now A-z_0.9", "2,3: * guest-1 is now A-z_0.9", "info: p1 guest-1 is now A-z_0.9"] },
  { name: "32 characters is the most", event: line(1, `/nick ${"x".repeat(32)}`), want: [`1: * you are now ${"x".repeat(32)}`, `2,3: * guest-1 is now ${"x".repeat(32)}`, `info: p1 guest-1 is now ${"x".repeat(32)}`] },
  { name: "33 characters is too long", event: line(1, `/nick ${"x".repeat(33)}`), want: [`1: ${NAME_RULE}`] },
  { name: "a one-character name", event: line(1, "/nick a"), want: ["1: * you are now a", "2,3: * guest-1 is now a", "info: p1 guest-1 is now a"] },
  { name: "no name: the usage", event: line(1, "/nick"), want: ["1: ! usage: /nick NAME"] },
  { name: "no name after spaces: the usage", event: line(1, "/nick   "), want: ["1: ! usage: /nick NAME"] },
  { name: "a space inside the name", event: line(1, "/nick al ice"), want: [`1: ${NAME_RULE}`] },
  { name: "a non-ASCII letter", event: line(1, "/nick zoë"), want: [`1: ${NAME_RULE}`] },
  { name: "punctuation outside - _ .", event: line(1, "/nick a:b"), want: [`1: ${NAME_RULE}`] },
  { name: "a name of control characters", event: rawLine(1, "/nick \x1b[2J"), want: [`1: ${NAME_RULE}`] },
  { name: "a name beginning with *", event: line(1, "/nick *"), want: [`1: ${NAME_RULE}`] },
  { name: "a name taken by another member", before: [line(2, "/nick alice")], event: line(1, "/nick alice"), want: ["1: ! alice is taken; pick another name"] },
  { name: "taken, whatever the case", before: [line(2, "/nick alice")], event: line(1, "/nick ALICE"), want: ["1: ! ALICE is taken; pick another name"] },
  { name: "a guest's name is taken too", event: line(1, "/nick Guest-2"), want: ["1: ! Guest-2 is taken; pick another name"] },
  { name: "the name one already has", event: line(1, "/nick guest-1"), want: ["1: ! you are already guest-1"] },
  { name: "a change of case of one's own name is allowed", before: [line(1, "/nick alice")], event: line(1, "/nick Alice"), want: ["1: * you are now Alice", "2,3: * alice is now Alice", "info: p1 alice is now Alice"] },
  { name: "an old name is free again", before: [line(1, "/nick alice")], event: line(2, "/nick guest-1"), want: ["2: * you are now guest-1", "1,3: * guest-2 is now guest-1", "info: p2 guest-2 is now guest-1"] },
  { name: "the name of a member who left is free again", before: [line(1, "/nick alice"), disconnect(1)], event: line(2, "/nick alice"), want: ["2: * you are now alice", "3: * guest-2 is now alice", "info: p2 guest-2 is now alice"] },
  { name: "messages carry the new name", before: [line(1, "/nick alice")], event: line(1, "hi"), want: ["2,3: alice: hi"] },
]);

// biome-ignore format: one row per line
runTable("/who, /quit and unknown commands", [
  { name: "/who lists everyone in join order, the sender marked", event: line(2, "/who"), want: ["2: * 3 here: guest-1, guest-2 (you), guest-3"] },
  { name: "/who alone in the room", members: 1, event: line(1, "/who"), want: ["1: * 1 here: guest-1 (you)"] },
  { name: "/who after a rename and a leave", before: [line(3, "/nick carol"), disconnect(1)], event: line(3, "/who"), want: ["3: * 2 here: guest-2, carol (you)"] },
  { name: "/who with trailing spaces and an argument", event: line(1, "/who  everyone "), want: ["1: * 3 here: guest-1 (you), guest-2, guest-3"] },
  { name: "/quit: bye, close, the others told", event: line(2, "/quit"), want: ["2: * bye", "close 2", "1,3: * guest-2 left", "info: p2 guest-2 left"] },
  { name: "/QUIT with a reason", event: line(2, "/QUIT see you"), want: ["2: * bye", "close 2", "1,3: * guest-2 left", "info: p2 guest-2 left"] },
  { name: "an unknown command: an error to the sender only", event: line(1, "/foo bar"), want: [`1: ! unknown command /foo${UNKNOWN}`] },
  { name: "a lone slash", event: line(1, "/"), want: [`1: ! unknown command /${UNKNOWN}`] },
  { name: "a slash then a space", event: line(1, "/ hello"), want: [`1: ! unknown command /${UNKNOWN}`] },
  { name: "a long unknown command is cut short", event: line(1, `/${"y".repeat(40)}`), want: [`1: ! unknown command /${"y".repeat(32)}…${UNKNOWN}`] },
  { name: "an unknown command with an escape is neutralised", event: rawLine(1, "/x\x1b[2J"), want: [`1: ! unknown command /x\ufffd[2J${UNKNOWN}`] },
]);

// ---------------------------------------------------------------------------------------------
// decodeSafeText: bytes (latin1, one char per byte) → the text other members see

interface TextRow {
  readonly name: string;
  readonly bytes: string;
  readonly want: string;
}

// biome-ignore format: one row per line
const TEXT_ROWS: readonly TextRow[] = [
  { name: "plain ASCII", bytes: "hello, world!", want: "hello, world!" },
  { name: "TAB is kept", bytes: "a\tb", want: "a\tb" },
  { name: "UTF-8 of every length", bytes: "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e", want: "café € 𝄞" },
  { name: "NO-BREAK SPACE is not a control", bytes: "\xc2\xa0", want: "\u00a0" },
  { name: "NUL", bytes: "a\x00b", want: "a\ufffdb" },
  { name: "BEL and BS", bytes: "\x07x\x08", want: "\ufffdx\ufffd" },
  { name: "bare CR", bytes: "a\rb", want: "a\ufffdb" },
  { name: "LF inside (never from the splitter, still neutralised)", bytes: "a\nb", want: "a\ufffdb" },
  { name: "every C0 control but TAB", bytes: "\x01\x02\x03\x04\x05\x06\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f", want: "\ufffd".repeat(26) },
  { name: "DEL", bytes: "\x7f", want: "\ufffd" },
  { name: "a CSI colour sequence", bytes: "\x1b[31mred\x1b[0m", want: "\ufffd[31mred\ufffd[0m" },
  { name: "an OSC title sequence ending in BEL", bytes: "\x1b]0;pwned\x07", want: "\ufffd]0;pwned\ufffd" },
  { name: "clear screen", bytes: "\x1b[2J\x1b[H", want: "\ufffd[2J\ufffd[H" },
  { name: "C1 CSI (U+009B) as UTF-8", bytes: "\xc2\x9b31m", want: "\ufffd31m" },
  { name: "C1 NEL (U+0085) as UTF-8", bytes: "\xc2\x85", want: "\ufffd" },
  { name: "C1 first and last (U+0080, U+009F)", bytes: "\xc2\x80\xc2\x9f", want: "\ufffd\ufffd" },
  { name: "a raw 8-bit CSI byte is invalid UTF-8", bytes: "\x9b31m", want: "\ufffd31m" },
  { name: "a lone continuation byte", bytes: "a\x80b", want: "a\ufffdb" },
  { name: "a truncated sequence at the end", bytes: "a\xe2\x82", want: "a\ufffd" },
  { name: "an overlong /", bytes: "\xc0\xaf", want: "\ufffd\ufffd" },
  { name: "an encoded surrogate", bytes: "\xed\xa0\x80", want: "\ufffd\ufffd\ufffd" },
  { name: "a code point past U+10FFFF", bytes: "\xf4\x90\x80\x80", want: "\ufffd\ufffd\ufffd\ufffd" },
  { name: "telnet IAC bytes", bytes: "\xff\xfb\x01", want: "\ufffd\ufffd\ufffd" },
];

describe("decodeSafeText", () => {
  for (const row of TEXT_ROWS) {
    test(row.name, () => {
      const got = decodeSafeText(Buffer.from(row.bytes, "latin1"));
      assert.equal(
        got,
        row.want,
        `decodeSafeText(${JSON.stringify(row.bytes)}) = ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`,
      );
    });
  }

  test("no output ever holds a control character other than TAB", () => {
    // Every single byte, and every two-byte sequence starting with a UTF-8 lead byte.
    for (let first = 0; first < 256; first++) {
      for (let second = 0; second < 256; second++) {
        const text = decodeSafeText(Buffer.from([first, second]));
        assert.doesNotMatch(
          text,
          // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point.
          /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/,
          `decodeSafeText([${first}, ${second}]) = ${JSON.stringify(text)}`,
        );
      }
    }
  });
});
