import { createHash } from "node:crypto";

export interface BundleFile {
  /** Path inside the bundle with `/` separators, e.g. `policies/billing.cedar`. */
  readonly path: string;
  readonly text: string;
}

/** Line endings become `\n` and a byte-order mark is dropped: editors change both silently. */
export function normaliseText(text: string): string {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return withoutBom.replace(/\r\n?/g, "\n");
}

/**
 * SHA-256 (hex) of the canonical bundle content: files sorted by path, each framed by its path and
 * byte length so that no two different bundles share an encoding. Expects normalised text.
 */
export function bundleVersion(files: readonly BundleFile[]): string {
  const hash = createHash("sha256");
  hash.update("arbiter-policy-bundle/1\n");
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.path}\n${Buffer.byteLength(file.text)}\n`);
    hash.update(file.text);
    hash.update("\n");
  }
  return hash.digest("hex");
}
