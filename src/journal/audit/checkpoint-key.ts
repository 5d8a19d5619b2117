import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";

export const DEFAULT_AUDIT_KEY_FILE = ".arbiter/audit-key.pem";

/** The Ed25519 key that signs audit checkpoints. */
export interface CheckpointSigner {
  /** The public key, PEM (stored with each checkpoint so a verifier needs nothing else). */
  readonly publicKey: string;
  sign(message: string): string;
}

/**
 * Loads the signing key from `file` (or ARBITER_AUDIT_KEY_FILE, or `.arbiter/audit-key.pem`), generating
 * it on first run (mode 0600) for the embedded default.
 */
export function loadCheckpointSigner(
  options: { file?: string; env?: Readonly<Record<string, string | undefined>> } = {},
): CheckpointSigner {
  const env = options.env ?? process.env;
  const file = resolve(options.file ?? env.ARBITER_AUDIT_KEY_FILE ?? DEFAULT_AUDIT_KEY_FILE);
  let key: KeyObject;
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `the audit signing key ${file} is readable by others; run \`chmod 600 ${file}\``,
      );
    }
    let pem: string;
    try {
      pem = readFileSync(file, "utf8");
    } catch (cause) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `cannot read the audit signing key ${file} (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); ` +
          "run as the user that owns it, or point ARBITER_AUDIT_KEY_FILE at a key this user may read",
        { cause },
      );
    }
    try {
      key = createPrivateKey(pem);
    } catch (cause) {
      throw new ArbiterError(ErrorCode.InvalidArgument, `${file} is not an Ed25519 private key (PEM)`, {
        cause,
      });
    }
  } else {
    key = generateKeyPairSync("ed25519").privateKey;
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, key.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
      chmodSync(file, 0o600);
    } catch (cause) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `cannot create the audit signing key ${file} (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); ` +
          "keep the database in a folder this user may write (--db / ARBITER_DB), or point ARBITER_AUDIT_KEY_FILE at a key file this user may create or read",
        { cause },
      );
    }
  }
  const publicKey = createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
  return {
    publicKey,
    sign: (message) => sign(null, Buffer.from(message), key).toString("base64"),
  };
}

/** The message a checkpoint's signature covers. */
export function checkpointMessage(size: number, head: string, at: number): string {
  return `arbiter-audit-checkpoint\n${size}\n${head}\n${at}`;
}

export function verifyCheckpoint(publicKey: string, message: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(message), createPublicKey(publicKey), Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
