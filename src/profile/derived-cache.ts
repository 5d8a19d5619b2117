import { createHash, randomBytes } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * What loading a profile derives from its files and can keep between processes: the Cedar bundle's
 * validation and the trained local router. Both are pure functions of their inputs, so an entry is
 * looked up by a hash of everything that went into it (the inputs and the code that derived them);
 * a stale or damaged entry is never used, only missed. Every `arbiter` command starts faster with it
 * (about 0.25 s less before a resumed run is taken up).
 */
export interface DerivedCache {
  /** Where the entries are kept (for messages and tests). */
  readonly dir: string;
  /** The value stored under `key` for `kind`, or undefined. */
  get(kind: string, key: string): unknown;
  /** Stores a JSON-serialisable value; failures (a full disk, a read-only folder) are ignored. */
  put(kind: string, key: string, value: unknown): void;
}

const opened = new Map<string, DerivedCache | undefined>();

/**
 * The cache the environment names: `ARBITER_CACHE_DIR` (`off` turns it off), else
 * `$XDG_CACHE_HOME/arbiter`, else `~/.cache/arbiter`. Undefined when there is no such place, or when
 * the folder is not this user's alone (another user could plant entries there).
 */
export function openDerivedCache(
  env: Readonly<Record<string, string | undefined>>,
): DerivedCache | undefined {
  const dir = cacheDir(env);
  if (dir === undefined) return undefined;
  if (!opened.has(dir)) opened.set(dir, refusal(dir) === undefined ? new FileCache(dir) : undefined);
  return opened.get(dir);
}

/** One line on the cache `env` names: where it is, or why none is used (`arbiter validate` prints it). */
export function describeDerivedCache(env: Readonly<Record<string, string | undefined>>): string {
  const dir = cacheDir(env);
  if (dir === undefined) return "off (ARBITER_CACHE_DIR=off, or no home folder)";
  const cache = openDerivedCache(env);
  return cache !== undefined ? cache.dir : `not used: ${refusal(dir)}`;
}

function cacheDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const named = env.ARBITER_CACHE_DIR?.trim();
  if (named === "off" || named === "0") return undefined;
  if (named) return named;
  if (env.XDG_CACHE_HOME?.trim()) return join(env.XDG_CACHE_HOME.trim(), "arbiter");
  let home: string;
  try {
    home = env.HOME?.trim() || homedir();
  } catch {
    return undefined;
  }
  return home ? join(home, ".cache", "arbiter") : undefined;
}

/** Made if missing (mode 700); refused when another user owns it or others may write to it. */
function refusal(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = statSync(dir);
    if (!stat.isDirectory()) return `${dir} is not a folder`;
    if (typeof process.getuid === "function" && stat.uid !== process.getuid())
      return `${dir} belongs to another user`;
    if ((stat.mode & 0o022) !== 0)
      return `other users may write to ${dir} (chmod go-w it, or set ARBITER_CACHE_DIR)`;
    return undefined;
  } catch (error) {
    return `${dir} cannot be made (${(error as NodeJS.ErrnoException).code ?? "error"})`;
  }
}

/** Past this many entries, a write removes the least recently used down to `KEEP_ENTRIES`. */
const MAX_ENTRIES = 256;
const KEEP_ENTRIES = 192;

class FileCache implements DerivedCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Profiles and policies edited over months leave entries nobody will ask for again: the oldest go. */
  #prune(): void {
    const names = readdirSync(this.dir).filter((name) => name.endsWith(".json"));
    if (names.length <= MAX_ENTRIES) return;
    const aged = names.map((name) => {
      try {
        return { name, at: statSync(join(this.dir, name)).mtimeMs };
      } catch {
        return { name, at: 0 };
      }
    });
    aged.sort((a, b) => a.at - b.at);
    for (const { name } of aged.slice(0, names.length - KEEP_ENTRIES)) {
      try {
        unlinkSync(join(this.dir, name));
      } catch {
        // another process removed it first
      }
    }
  }

  #path(kind: string, key: string): string {
    return join(this.dir, `${kind}-${key}.json`);
  }

  get(kind: string, key: string): unknown {
    let text: string;
    try {
      text = readFileSync(this.#path(kind, key), "utf8");
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as { kind?: unknown; key?: unknown; value?: unknown };
      if (entry.kind !== kind || entry.key !== key) return undefined;
      try {
        const now = new Date();
        utimesSync(this.#path(kind, key), now, now); // last used: what pruning keeps
      } catch {
        // a read-only cache still serves
      }
      return entry.value;
    } catch {
      return undefined; // a torn or damaged entry: derived again and rewritten
    }
  }

  put(kind: string, key: string, value: unknown): void {
    const path = this.#path(kind, key);
    const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify({ kind, key, value }), { mode: 0o600, flag: "wx" });
      renameSync(temporary, path);
      this.#prune();
    } catch {
      try {
        unlinkSync(temporary);
      } catch {
        // never written
      }
    }
  }
}

/** SHA-256 (hex) of the parts, each length-prefixed so no two lists hash alike. */
export function cacheKey(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${part.length}:`).update(part);
  return hash.digest("hex");
}

const fingerprints = new Map<string, string>();

/**
 * A hash of the TypeScript sources in a folder (tests left out): part of every key derived by that
 * code, so a change to it misses every entry it made before.
 */
export function codeFingerprint(dir: string): string {
  let print = fingerprints.get(dir);
  if (print === undefined) {
    const names = readdirSync(dir)
      .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
      .sort();
    print = cacheKey(names.flatMap((name) => [name, readFileSync(join(dir, name), "utf8")]));
    fingerprints.set(dir, print);
  }
  return print;
}
