/**
 * Every way the house style asks an incremental decoder to be fed (STYLE.md rule 9): the whole
 * input at once, every two-way split, and byte by byte. Every chunking must decode the same.
 */

export interface Chunking {
  /** "whole", "split@17" (first chunk holds bytes 0..16) or "bytewise". */
  readonly name: string;
  readonly chunks: readonly Buffer[];
}

/** Yields views into `input` (no copies): a decoder that mutates its input would be caught by the
 * next chunking of the same row. */
export function* chunkings(input: Buffer): Generator<Chunking> {
  yield { name: "whole", chunks: [input] };
  for (let at = 1; at < input.length; at++) {
    yield { name: `split@${at}`, chunks: [input.subarray(0, at), input.subarray(at)] };
  }
  const bytes: Buffer[] = [];
  for (let at = 0; at < input.length; at++) bytes.push(input.subarray(at, at + 1));
  yield { name: "bytewise", chunks: bytes };
}
