import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomBytes,
} from "node:crypto";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface VaultCipher {
  /** Keyed HMAC of a value, the only index of the vault: equal values, equal digests; no plaintext. */
  digest(tenant: string, type: string, normalized: string): string;
  /** AES-256-GCM; `context` is bound as additional data, so a record moved elsewhere fails to open. */
  seal(plaintext: string, context: string): Uint8Array;
  open(sealed: Uint8Array, context: string): string;
  /** Identifies the key without revealing it; stored in the vault to detect a wrong key. */
  readonly fingerprint: string;
}

/**
 * Derives independent encryption and index keys from the 32-byte master key (HKDF-SHA256), so
 * the HMAC index never uses the encryption key directly.
 */
export function createVaultCipher(masterKey: Uint8Array): VaultCipher {
  if (masterKey.length !== 32) {
    throw new ArbiterError(ErrorCode.InvalidArgument, "The PII vault key must be exactly 32 bytes.", {
      details: { field: "vault.key" },
    });
  }
  // KeyObjects, not Buffers: Node re-imports a Buffer key on every call (≈15 µs per HMAC).
  const derive = (info: string) =>
    createSecretKey(
      Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `arbiter-pii-vault/${info}/v1`, 32)),
    );
  const encryptionKey = derive("encryption");
  const indexKey = derive("index");
  const fingerprint = createHmac("sha256", derive("fingerprint"))
    .update("key-check")
    .digest("base64url")
    .slice(0, 16);

  return {
    fingerprint,
    digest(tenant, type, normalized) {
      return createHmac("sha256", indexKey)
        .update(`${tenant}\u0000${type}\u0000${normalized}`)
        .digest("base64url");
    },
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", encryptionKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return Buffer.concat([Buffer.of(FORMAT), iv, cipher.getAuthTag(), body]);
    },
    open(sealed, context) {
      const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT) {
        throw new ArbiterError(ErrorCode.InvalidData, "A PII vault record has an unknown format.", {
          details: { reason: "vault-record-format" },
        });
      }
      const decipher = createDecipheriv("aes-256-gcm", encryptionKey, bytes.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString("utf8");
      } catch (cause) {
        throw new ArbiterError(
          ErrorCode.InvalidData,
          "A PII vault record failed authentication: the vault key is not the one it was written with, " +
            "or the record was modified.",
          { cause, details: { reason: "vault-record-auth" } },
        );
      }
    },
  };
}
