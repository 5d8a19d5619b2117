import { abortableDelay } from "../durable/abortable-delay.ts";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { parseDuration } from "../profile/duration.ts";

/** Latency and failures injected into tool and model calls, to show crash, timeout and retry behaviour. */
export interface FaultSpec {
  latencyMs: number;
  /** Share of calls that fail, 0..1. */
  failRate: number;
  seed: number;
}

export interface Faults {
  /** Runs before a tool or model call: waits the latency, then fails a seeded share of calls. */
  before(site: string, signal: AbortSignal | undefined): Promise<void>;
}

/** Parses `latency=100ms,fail=0.2,seed=7` (any subset). */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = { latencyMs: 0, failRate: 0, seed: 1 };
  const seen = new Set<string>();
  for (const part of text.split(",").filter((p) => p.trim() !== "")) {
    const [key = "", value = ""] = part.split("=").map((s) => s.trim());
    if (seen.has(key)) throw bad(text, `${key} is given twice`);
    seen.add(key);
    if (key === "latency") {
      const ms = parseDuration(value);
      if (ms === undefined) throw bad(text, `latency "${value}" is not a duration like 100ms`);
      spec.latencyMs = ms;
    } else if (key === "fail") {
      const rate = Number(value);
      if (!(rate >= 0 && rate <= 1)) throw bad(text, `fail "${value}" must be a number from 0 to 1`);
      spec.failRate = rate;
    } else if (key === "seed") {
      if (!/^\d+$/.test(value)) throw bad(text, `seed "${value}" must be a whole number`);
      spec.seed = Number(value);
    } else throw bad(text, `unknown key "${key}"`);
  }
  return spec;
}

function bad(text: string, why: string): ArbiterError {
  return new ArbiterError(
    ErrorCode.InvalidArgument,
    `--inject "${text}": ${why}; write e.g. latency=100ms,fail=0.2,seed=7`,
  );
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createFaults(spec: FaultSpec): Faults {
  const random = prng(spec.seed);
  return {
    async before(site, signal) {
      if (spec.latencyMs > 0) await abortableDelay(spec.latencyMs, signal);
      if (spec.failRate > 0 && random() < spec.failRate) {
        throw new ArbiterError(ErrorCode.ToolFailed, `injected failure at ${site}`);
      }
    },
  };
}
