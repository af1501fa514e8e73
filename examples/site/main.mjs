// Module script: imports a sibling module, then loads and runs wasm/add.wasm.
import { formatBytes, formatCall } from "./lib/format.mjs";

const result = document.getElementById("wasm-result");
const detail = document.getElementById("wasm-detail");

/** Streaming compilation needs `Content-Type: application/wasm`; fall back and say so if not. */
async function loadWasm(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const type = response.headers.get("content-type") ?? "(none)";
  const size = Number(response.headers.get("content-length"));
  if (type.split(";")[0].trim() === "application/wasm") {
    const { instance } = await WebAssembly.instantiateStreaming(response);
    return { instance, how: `streamed, ${formatBytes(size)}, ${type}` };
  }
  const bytes = await response.arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes);
  return { instance, how: `not streamed: served as ${type}, ${formatBytes(bytes.byteLength)}` };
}

try {
  const { instance, how } = await loadWasm("wasm/add.wasm");
  const add = instance.exports.add;
  result.textContent = formatCall("add", [2, 3], add(2, 3));
  detail.textContent = `WebAssembly module ${how}.`;
} catch (error) {
  result.textContent = "WebAssembly failed";
  detail.textContent = String(error);
}

document.getElementById("module-status").textContent = "module main.mjs ran";
