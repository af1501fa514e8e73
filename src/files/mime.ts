import mimeTypes from "mime-types";

/**
 * Content-Type for a file name, from mime-db (through mime-types, which also adds
 * `charset=utf-8` to text types and the types mime-db marks UTF-8). Unknown or missing
 * extensions are served as application/octet-stream, which browsers never sniff into HTML.
 */
export const FALLBACK_CONTENT_TYPE = "application/octet-stream";

// Looked up once per extension: the hot path then costs one Map read.
const byExtension = new Map<string, string>();

export function contentTypeForFileName(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  // A leading dot is a hidden file's name, not an extension (".bashrc").
  if (dot <= 0 || dot === fileName.length - 1) return FALLBACK_CONTENT_TYPE;
  const extension = fileName.slice(dot + 1).toLowerCase();
  let type = byExtension.get(extension);
  if (type === undefined) {
    const found = mimeTypes.contentType(extension);
    type = found === false ? FALLBACK_CONTENT_TYPE : found;
    // Bound the cache: extensions come from file names, which a peer cannot invent, but a
    // directory can hold many odd ones.
    if (byExtension.size < 4096) byExtension.set(extension, type);
  }
  return type;
}
