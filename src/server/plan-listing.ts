/**
 * The response for a directory listing (`--listing`): query → one page read from disk → HTML or
 * JSON. The static handler calls it for a directory-form request whose directory has no
 * index.html; everything else about listings is decided here.
 */

import {
  type ListingFormat,
  negotiateListingFormat,
  parseListingQuery,
} from "../files/listing-query.js";
import { renderListingHtml, renderListingJson } from "../files/listing-render.js";
import type { ServableRoot } from "../files/open-servable.js";
import { readDirectoryPage } from "../files/read-directory.js";
import { NOSNIFF_HEADER, planErrorWithHeaders } from "./plan-file-response.js";
import { type ResponsePlan, statusLine } from "./response-plan.js";

export interface DirectoryListingInput {
  readonly method: "GET" | "HEAD";
  /** The directory's decoded path segments below the root (resolveRequestPath's answer). */
  readonly segments: readonly string[];
  /** The request's query with its "?", or "" (RequestHead.query). */
  readonly query: string;
  /** The Accept field's value, or null when absent (fieldValue(fields, "accept")). */
  readonly accept: string | null;
  /** "Date: <IMF-fixdate>\r\n". */
  readonly dateLine: string;
  readonly root: ServableRoot;
  /** The directory's real path, from openServable's "directory" result. */
  readonly directoryRealPath: string;
}

/** `note` is a detail for the error log, never sent to the peer. */
export type ListingPlanCallback = (plan: ResponsePlan, note?: string) => void;

/**
 * No script may run and nothing may load from elsewhere; only the page's own inline style
 * applies. A name crafted to inject markup (already escaped) would find nothing to run.
 */
const LISTING_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

// Cache-Control: no-cache: a listing changes whenever the directory does, and it carries no
// validator to revalidate with; Vary: Accept: the same URL answers HTML or JSON by Accept.
const COMMON_HEADERS = "Cache-Control: no-cache\r\nVary: Accept\r\n";
const HEADERS_FOR: Readonly<Record<ListingFormat, string>> = {
  html:
    `${COMMON_HEADERS}Content-Security-Policy: ${LISTING_CSP}\r\n` +
    "Content-Type: text/html; charset=utf-8\r\n",
  // RFC 8259 §11: application/json has no charset parameter; it is always UTF-8.
  json: `${COMMON_HEADERS}Content-Type: application/json\r\n`,
};

/** Calls `callback` once, always asynchronously. */
export function planDirectoryListing(
  input: DirectoryListingInput,
  callback: ListingPlanCallback,
): void {
  const isHead = input.method === "HEAD";
  const parsed = parseListingQuery(input.query);
  if (parsed.kind === "bad-request") {
    process.nextTick(
      callback,
      planErrorWithHeaders(400, isHead, input.dateLine, ""),
      parsed.reason,
    );
    return;
  }
  const { query } = parsed;
  const format = query.format ?? negotiateListingFormat(input.accept);
  readDirectoryPage({
    root: input.root,
    directoryRealPath: input.directoryRealPath,
    segments: input.segments,
    order: query,
    after: query.after,
    limit: query.limit,
  }).then(
    (result) => {
      switch (result.kind) {
        case "not-found":
          callback(
            planErrorWithHeaders(404, isHead, input.dateLine, ""),
            `listing: ${result.reason}`,
          );
          return;
        case "error": {
          const code = result.error.code ?? result.error.message;
          // Out of descriptors is temporary (503); anything else is a server fault (500).
          const status = code === "EMFILE" || code === "ENFILE" ? 503 : 500;
          callback(planErrorWithHeaders(status, isHead, input.dateLine, ""), `listing: ${code}`);
          return;
        }
        case "page": {
          const view = {
            segments: input.segments,
            query,
            entries: result.entries,
            next: result.next,
          };
          const text = format === "json" ? renderListingJson(view) : renderListingHtml(view);
          const body = Buffer.from(text, "utf8");
          const head =
            statusLine(200) +
            input.dateLine +
            NOSNIFF_HEADER +
            HEADERS_FOR[format] +
            `Content-Length: ${body.length}\r\n`;
          // RFC 9110 §9.3.2: HEAD gets the same fields, so the page is read and rendered anyway.
          callback({ kind: "bytes", status: 200, head, body: isHead ? null : body });
          return;
        }
      }
    },
    (error: unknown) => {
      // readDirectoryPage turns every fs failure into a result; a rejection is our bug.
      const message = error instanceof Error ? error.message : String(error);
      callback(planErrorWithHeaders(500, isHead, input.dateLine, ""), `listing bug: ${message}`);
    },
  );
}
