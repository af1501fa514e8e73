import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { checkTlsCredentials } from "../../src/net/tls-credentials.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import { encryptKey, makeTestCertificate } from "../helpers/tls-cert.js";

const DAY_MS = 86_400_000;

describe("checkTlsCredentials", () => {
  let dir = "";
  let cert = Buffer.alloc(0);
  let key = Buffer.alloc(0);
  let otherKey = Buffer.alloc(0);
  let encryptedKey = Buffer.alloc(0);
  before(async () => {
    dir = await makeTempDir("berth-tls-check-");
    const files = await makeTestCertificate(dir);
    cert = await readFile(files.certFile);
    key = await readFile(files.keyFile);
    otherKey = await readFile(files.otherKeyFile);
    await encryptKey(files.keyFile, join(dir, "encrypted.pem"));
    encryptedKey = await readFile(join(dir, "encrypted.pem"));
  });
  after(() => removeTempDir(dir));

  const show = (result: ReturnType<typeof checkTlsCredentials>): string =>
    result.kind === "ok"
      ? `ok ${result.warnings.join("; ")}`.trim()
      : `${result.culprit}: ${result.reason}`;

  // [name, cert, key, what the answer must match]
  const rows: ReadonlyArray<readonly [string, () => Buffer, () => Buffer, RegExp]> = [
    ["a matching pair", () => cert, () => key, /^ok$/],
    [
      "a key of another pair",
      () => cert,
      () => otherKey,
      /^pair: the key does not belong to the certificate \(key values mismatch\)$/,
    ],
    ["the key given as the certificate", () => key, () => key, /^cert: is not a PEM certificate/],
    ["the certificate given as the key", () => cert, () => cert, /^key: is not a PEM private key/],
    ["an empty certificate", () => Buffer.alloc(0), () => key, /^cert: is not a PEM certificate/],
    [
      "garbage as the key",
      () => cert,
      () => Buffer.from("not a key\n"),
      /^key: is not a PEM private key/,
    ],
    [
      "an encrypted key",
      () => cert,
      () => encryptedKey,
      /^key: is encrypted; berth needs an unencrypted key/,
    ],
  ];
  for (const [name, certOf, keyOf, want] of rows) {
    test(name, () => {
      const got = show(checkTlsCredentials(certOf(), keyOf(), Date.now()));
      assert.match(got, want, `checkTlsCredentials(${name}) = ${got}`);
    });
  }

  test("an expired certificate is a warning, not an error", () => {
    const got = show(checkTlsCredentials(cert, key, Date.now() + 3 * DAY_MS));
    assert.match(got, /^ok the certificate expired on /);
  });
});
