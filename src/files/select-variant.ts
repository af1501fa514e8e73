import { close, type Stats } from "node:fs";
import { type Coding, negotiateCoding, SIDECAR_EXTENSION } from "./accept-encoding.js";
import { openServable, type ServableRoot } from "./open-servable.js";

/** One representation of a resource: the file itself or a precompressed sidecar of it. */
export interface Representation {
  /** The open file, or -1 when `content` holds it (a cached representation). */
  readonly fd: number;
  /** The whole content read into memory, or null when it is read from `fd` as it is sent. */
  readonly content: Buffer | null;
  readonly stats: Stats;
  /** Its strong ETag, when already computed (a cached representation); null: from `stats`. */
  readonly etag: string | null;
  /** The content coding of this representation; null for the file itself. */
  readonly coding: Coding | null;
}

export interface VariantChoice {
  readonly representation: Representation;
  /** Some usable sidecar exists: every response for this path then carries
   * `Vary: Accept-Encoding`, whichever representation was chosen (RFC 9110 §12.5.5). */
  readonly hasVariants: boolean;
}

/**
 * Picks what to send for the file at `segments`, already opened as `original`: a precompressed
 * sidecar (`name.br`, `name.zst`, `name.gz`, opened through openServable like any file) when the
 * client accepts its coding, the sidecar is a regular file, is not older than the original (a stale
 * sidecar would serve old content) and is smaller than it (else compression gained nothing).
 * Descriptors of the representations not chosen are closed before `done` runs.
 */
export function selectVariant(
  root: ServableRoot,
  segments: readonly string[],
  original: { readonly fd: number; readonly stats: Stats },
  codings: readonly Coding[],
  acceptEncoding: string | null,
  done: (choice: VariantChoice) => void,
): void {
  const identity: Representation = {
    fd: original.fd,
    content: null,
    stats: original.stats,
    etag: null,
    coding: null,
  };
  if (codings.length === 0) {
    done({ representation: identity, hasVariants: false });
    return;
  }
  const directory = segments.slice(0, -1);
  const name = segments[segments.length - 1] ?? "";
  // Without a coding the client accepts, one usable sidecar is enough to know Vary is due.
  const wantsAny = acceptEncoding !== null && acceptEncoding.trim() !== "";
  const usable: (Representation & { readonly coding: Coding })[] = [];

  const probe = (index: number): void => {
    const coding = codings[index];
    if (coding === undefined || (!wantsAny && usable.length > 0)) {
      finish();
      return;
    }
    openServable(root, [...directory, name + SIDECAR_EXTENSION[coding]], (opened) => {
      if (opened.kind === "file") {
        if (isUsableSidecar(opened.stats, original.stats)) {
          usable.push({ fd: opened.fd, content: null, stats: opened.stats, etag: null, coding });
        } else {
          close(opened.fd, ignoreError);
        }
      }
      probe(index + 1);
    });
  };

  const finish = (): void => {
    const chosenCoding = wantsAny
      ? negotiateCoding(
          acceptEncoding,
          usable.map((variant) => variant.coding),
        )
      : null;
    let chosen: Representation = identity;
    for (const variant of usable) {
      if (variant.coding === chosenCoding) chosen = variant;
      else close(variant.fd, ignoreError);
    }
    if (chosen !== identity) close(original.fd, ignoreError);
    done({ representation: chosen, hasVariants: usable.length > 0 });
  };

  probe(0);
}

export function isUsableSidecar(sidecar: Stats, original: Stats): boolean {
  return sidecar.mtimeMs >= original.mtimeMs && sidecar.size < original.size;
}

function ignoreError(): void {}
