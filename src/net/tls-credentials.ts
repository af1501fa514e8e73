/**
 * Checks a PEM certificate and private key before berth listens with them, so that a wrong file
 * is a one-line start-up error naming the culprit instead of an OpenSSL error code at the first
 * handshake. No I/O: the caller reads the files.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";

export type TlsCredentialsCheck =
  | {
      readonly kind: "ok";
      /** Worth a line on stderr, not worth refusing to start: an expired certificate. */
      readonly warnings: readonly string[];
    }
  | {
      readonly kind: "error";
      /** Which input is wrong: the certificate, the key, or the two together. */
      readonly culprit: "cert" | "key" | "pair";
      readonly reason: string;
    };

/** `nowMs` dates the expiry warning. */
export function checkTlsCredentials(
  certPem: Buffer,
  keyPem: Buffer,
  nowMs: number,
): TlsCredentialsCheck {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    return fail("cert", `is not a PEM certificate (${openSslReason(error)})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    // Without a passphrase OpenSSL reports "interrupted or cancelled" (its prompt was refused);
    // the PEM labels say what happened.
    if (codeOf(error) === "ERR_MISSING_PASSPHRASE" || isEncryptedPem(keyPem)) {
      return fail(
        "key",
        "is encrypted; berth needs an unencrypted key (openssl pkey -in KEY -out PLAIN_KEY)",
      );
    }
    return fail("key", `is not a PEM private key (${openSslReason(error)})`);
  }
  if (!certificate.checkPrivateKey(key)) {
    return fail("pair", "the key does not belong to the certificate (key values mismatch)");
  }
  try {
    // What the server itself will do with them; anything OpenSSL still refuses surfaces here.
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (error) {
    return fail("pair", `OpenSSL refuses them: ${openSslReason(error)}`);
  }
  const warnings: string[] = [];
  const validToMs = Date.parse(certificate.validTo);
  const validFromMs = Date.parse(certificate.validFrom);
  if (validToMs < nowMs) warnings.push(`the certificate expired on ${certificate.validTo}`);
  else if (validFromMs > nowMs)
    warnings.push(`the certificate is valid only from ${certificate.validFrom}`);
  return { kind: "ok", warnings };
}

/** PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional key with "Proc-Type: 4,ENCRYPTED". */
function isEncryptedPem(pem: Buffer): boolean {
  const text = pem.toString("latin1");
  return (
    text.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
    text.includes("Proc-Type: 4,ENCRYPTED")
  );
}

function fail(culprit: "cert" | "key" | "pair", reason: string): TlsCredentialsCheck {
  return { kind: "error", culprit, reason };
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

/** OpenSSL's words without its numeric prefix: "error:0480006C:PEM routines::no start line" →
 * "no start line". */
function openSslReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message.slice(message.lastIndexOf(":") + 1).trim();
  return reason === "" ? message : reason;
}
