// Imported by main.mjs, so loading it exercises module resolution and the .mjs MIME type.

/** "41 bytes", "1.5 KiB". */
export function formatBytes(sizeBytes) {
  if (!Number.isFinite(sizeBytes)) return "unknown size";
  if (sizeBytes < 1024) return `${sizeBytes} bytes`;
  return `${(sizeBytes / 1024).toFixed(1)} KiB`;
}

/** "add(2, 3) = 5". */
export function formatCall(name, args, value) {
  return `${name}(${args.join(", ")}) = ${value}`;
}
