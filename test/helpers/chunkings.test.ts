import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chunkings } from "./chunkings.js";

/** Each chunking as "name=[chunk|chunk|...]" so a row reads as the whole answer. */
function describeChunkings(input: string): string[] {
  const out: string[] = [];
  for (const { name, chunks } of chunkings(Buffer.from(input, "latin1"))) {
    out.push(`${name}=[${chunks.map((c) => c.toString("latin1")).join("|")}]`);
  }
  return out;
}

// biome-ignore format: one row per line
const rows: ReadonlyArray<{ input: string; want: string[] }> = [
  { input: "", want: ["whole=[]", "bytewise=[]"] },
  { input: "a", want: ["whole=[a]", "bytewise=[a]"] },
  { input: "ab", want: ["whole=[ab]", "split@1=[a|b]", "bytewise=[a|b]"] },
  { input: "abc", want: ["whole=[abc]", "split@1=[a|bc]", "split@2=[ab|c]", "bytewise=[a|b|c]"] },
];

describe("chunkings", () => {
  for (const { input, want } of rows) {
    test(JSON.stringify(input), () => {
      assert.deepEqual(describeChunkings(input), want, `chunkings(${JSON.stringify(input)})`);
    });
  }

  test("every chunking concatenates back to the input", () => {
    const input = Buffer.from("GET / HTTP/1.1\r\n\r\n", "latin1");
    let count = 0;
    for (const { name, chunks } of chunkings(input)) {
      count++;
      assert.deepEqual(Buffer.concat(chunks), input, `chunkings(input) ${name}`);
      assert.ok(
        chunks.every((c) => c.length > 0) || input.length === 0,
        `chunkings(input) ${name} has an empty chunk`,
      );
    }
    // whole + (length - 1) splits + bytewise
    assert.equal(count, input.length + 1);
  });
});
