import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";

const IMPORT = /(?:import|export)\s[^"']*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;

/**
 * SHA-256 over a toolkit module and every relative module it imports inside `root` (the profile's folder),
 * so the profile version changes when the code behind its tools and handlers changes.
 */
export async function hashModuleGraph(entry: string, root: string): Promise<string> {
  const seen = new Map<string, string>();
  const queue = [resolve(entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const source = await readFile(file, "utf8");
    seen.set(file, source);
    for (const match of source.matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1] ?? match[2]!);
      if (target.startsWith(root + sep) && /\.(ts|js|mjs|mts)$/.test(target)) queue.push(target);
    }
  }
  const hash = createHash("sha256");
  for (const file of [...seen.keys()].sort()) {
    hash.update(relative(root, file)).update("\0").update(seen.get(file)!).update("\0");
  }
  return hash.digest("hex");
}
