/**
 * Throwaway TLS material for tests, made by openssl (installed by .ci/run) at test time and never
 * committed: a self-signed P-256 certificate for localhost and 127.0.0.1, valid one day, and a
 * second key that does not match it. Test-only.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** A valid key of another pair: mismatched with certFile. */
  readonly otherKeyFile: string;
}

/** Writes cert.pem, key.pem and other-key.pem into `dir`. */
export async function makeTestCertificate(dir: string): Promise<TestCertificate> {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const otherKeyFile = join(dir, "other-key.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  await run("openssl", [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    otherKeyFile,
  ]);
  return { certFile, keyFile, otherKeyFile };
}

/** `keyFile` encrypted with a passphrase, written to `path`. */
export async function encryptKey(keyFile: string, path: string): Promise<void> {
  await run("openssl", [
    "pkey",
    "-in",
    keyFile,
    "-aes256",
    "-passout",
    "pass:secret",
    "-out",
    path,
  ]);
}
