/**
 * Builds the multi-intent development set `test/fixtures/multi-intent/clinc-multi-intent.json`
 * from CLINC150's development file, deterministically (fixed seed):
 *
 *   node src/eval/routing/build-multi-intent.ts [clinc-dev.json] [out.json]
 *
 * Layout `{train, valid, test}`, each an array of `[text, "intent_a,intent_b", phenomenon|null]`.
 * - `train`: 40 single-intent CLINC `train` utterances per intent plus compositions of other
 *   `train` utterances, enough to train a router from this file alone;
 * - `valid`: compositions of `train` utterances not used in `train` (for tuning);
 * - `test`: compositions of CLINC `val` utterances, which nothing here trains on.
 * Phenomena: `null` (plain join), "no-connective" (punctuation only), "pronoun" (a shared noun phrase
 * replaced by "it"), "ellipsis" (a shared opening dropped from the second part), "same-worker",
 * "three-intents", "single" (one intent; many contain "and" without being multi-intent).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRandom } from "../../routing/classifier/random.ts";

type Row = [string, string, string | null];
type Pair = readonly [text: string, intent: string];

const SEED = 20_250_611;

/** How people join two requests; `{a}` and `{b}` are the parts. Weighted by repetition. */
const JOINS: ReadonlyArray<{ template: string; phenomenon: string | null }> = [
  { template: "{a} and {b}", phenomenon: null },
  { template: "{a} and {b}", phenomenon: null },
  { template: "{a} and also {b}", phenomenon: null },
  { template: "{a}, and {b}", phenomenon: null },
  { template: "{a}, also {b}", phenomenon: null },
  { template: "{a}. also, {b}", phenomenon: null },
  { template: "{a} plus {b}", phenomenon: null },
  { template: "{a}, plus {b}", phenomenon: null },
  { template: "{a} then {b}", phenomenon: null },
  { template: "{a} and then {b}", phenomenon: null },
  { template: "first {a}, then {b}", phenomenon: null },
  { template: "{a} as well as {b}", phenomenon: null },
  { template: "{a}. oh and {b}", phenomenon: null },
  { template: "{a}, and while you're at it, {b}", phenomenon: null },
  { template: "{a}. after that, {b}", phenomenon: null },
  { template: "{a}. by the way, {b}", phenomenon: null },
  { template: "{a}. additionally, {b}", phenomenon: null },
  { template: "{a}, but also {b}", phenomenon: null },
  { template: "{a}, {b}", phenomenon: "no-connective" },
  { template: "{A}. {B}", phenomenon: "no-connective" },
  { template: "{A}? {B}?", phenomenon: "no-connective" },
  { template: "{a}; {b}", phenomenon: "no-connective" },
  { template: "{A}\n{B}", phenomenon: "no-connective" },
];

const THREE_JOINS = [
  "{a}, {b}, and {c}",
  "{a} and {b}, also {c}",
  "{A}. {B}. and {c}",
  "{a}, {b} and then {c}",
];

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function fill(template: string, parts: Record<string, string>): string {
  return template.replace(/\{([a-cA-C])\}/g, (_, key: string) => {
    const part = parts[key.toLowerCase()]!;
    return key === key.toUpperCase() ? capitalize(part) : part;
  });
}

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w.length > 0);
const DETERMINERS = new Set(["my", "the", "this", "that", "our"]);
/** Words that may follow a complete noun phrase; anything else means the phrase was cut mid-way. */
const AFTER_PHRASE = new Set(
  "to from in on for at with is was will has have and or so because right now today tomorrow yet please".split(
    " ",
  ),
);

/** Replaces, in `b`, a noun phrase it shares with `a` ("my checking account") by "it". */
function pronounise(a: string, b: string): string | null {
  const wa = words(a);
  const wb = words(b);
  for (let len = 4; len >= 2; len--) {
    for (let i = 0; i + len <= wb.length; i++) {
      if (!DETERMINERS.has(wb[i]!)) continue;
      const phrase = wb.slice(i, i + len).join(" ");
      if (!` ${wa.join(" ")} `.includes(` ${phrase} `)) continue;
      const next = wb[i + len];
      if (i === 0 || (next !== undefined && !AFTER_PHRASE.has(next))) continue;
      return [...wb.slice(0, i), "it", ...wb.slice(i + len)].join(" ");
    }
  }
  return null;
}

/** Drops from `b` the opening words it shares with `a` ("what is my ..."), as people do. */
function elide(a: string, b: string): string | null {
  const wa = words(a);
  const wb = words(b);
  let shared = 0;
  while (shared < wa.length && shared < wb.length - 1 && wa[shared] === wb[shared]) shared++;
  if (shared < 2 || wb.length - shared < 2) return null;
  return wb.slice(shared).join(" ");
}

interface Pools {
  byIntent: Map<string, string[]>;
  intents: string[];
  domainOf: Map<string, string>;
}

function pools(pairs: readonly Pair[], domainOf: Map<string, string>): Pools {
  const byIntent = new Map<string, string[]>();
  for (const [text, intent] of pairs) {
    let list = byIntent.get(intent);
    if (!list) {
      list = [];
      byIntent.set(intent, list);
    }
    list.push(text);
  }
  return { byIntent, intents: [...byIntent.keys()].sort(), domainOf };
}

function compose(pool: Pools, count: number, random: () => number): Row[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const text = (intent: string): string => pick(pool.byIntent.get(intent)!).trim();
  const rows: Row[] = [];
  let attempts = 0;
  while (rows.length < count && attempts++ < count * 50) {
    const roll = random();
    let ia = pick(pool.intents);
    if (roll < 0.1) {
      const ib = pick(pool.intents);
      const ic = pick(pool.intents);
      if (ib === ia || ic === ia || ic === ib) continue;
      const parts = { a: text(ia), b: text(ib), c: text(ic) };
      rows.push([fill(pick(THREE_JOINS), parts), `${ia},${ib},${ic}`, "three-intents"]);
      continue;
    }
    // About a third of real two-part requests stay inside one worker ("balance and transfer").
    const sameWorker = roll < 0.4;
    const candidates = sameWorker
      ? pool.intents.filter((i) => i !== ia && pool.domainOf.get(i) === pool.domainOf.get(ia))
      : pool.intents.filter((i) => pool.domainOf.get(i) !== pool.domainOf.get(ia));
    let ib = pick(candidates);
    let a = text(ia);
    let b = text(ib);
    let phenomenon: string | null = sameWorker ? "same-worker" : null;
    const variant = random();
    if (variant < 0.3) {
      // Search partners that share a noun phrase (pronoun) or an opening (ellipsis).
      const wantPronoun = variant < 0.15;
      for (let k = 0; k < 400; k++) {
        const ja = k === 0 ? ia : pick(pool.intents);
        const jb = pick(pool.intents);
        if (ja === jb) continue;
        const ta = text(ja);
        const tb = text(jb);
        const changed = wantPronoun ? pronounise(ta, tb) : elide(ta, tb);
        if (changed === null) continue;
        [ia, ib, a, b] = [ja, jb, ta, changed];
        phenomenon = wantPronoun ? "pronoun" : "ellipsis";
        break;
      }
    }
    const join = pick(JOINS);
    if (phenomenon === "ellipsis" && join.template.includes("{B}")) continue;
    rows.push([fill(join.template, { a, b }), `${ia},${ib}`, phenomenon ?? join.phenomenon]);
  }
  return rows;
}

function singles(pool: Pools, perIntent: number, random: () => number): Row[] {
  const rows: Row[] = [];
  for (const intent of pool.intents) {
    const texts = [...pool.byIntent.get(intent)!];
    for (let i = 0; i < perIntent && texts.length > 0; i++) {
      const text = texts.splice(Math.floor(random() * texts.length), 1)[0]!;
      rows.push([text, intent, "single"]);
    }
  }
  return rows;
}

function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export function buildMultiIntent(
  clinc: { train: Pair[]; val: Pair[] },
  domains: Record<string, string[]>,
): { train: Row[]; valid: Row[]; test: Row[] } {
  const random = createRandom(SEED);
  const domainOf = new Map<string, string>();
  for (const [domain, intents] of Object.entries(domains))
    for (const intent of intents) domainOf.set(intent, domain);
  // CLINC train per intent: 60 for this file's train, the rest (40) for valid compositions.
  const trainPart: Pair[] = [];
  const validPart: Pair[] = [];
  const seen = new Map<string, number>();
  for (const pair of shuffled([...clinc.train], random)) {
    const n = seen.get(pair[1]) ?? 0;
    seen.set(pair[1], n + 1);
    (n < 60 ? trainPart : validPart).push(pair);
  }
  const trainPool = pools(trainPart, domainOf);
  const validPool = pools(validPart, domainOf);
  const testPool = pools(clinc.val, domainOf);
  return {
    train: shuffled([...singles(trainPool, 40, random), ...compose(trainPool, 1000, random)], random),
    valid: shuffled([...singles(validPool, 2, random), ...compose(validPool, 900, random)], random),
    test: shuffled([...singles(testPool, 3, random), ...compose(testPool, 1300, random)], random),
  };
}

/** The layout Biome's formatter gives (110 columns): one row per line, long rows one value per line. */
function formatJson(data: Record<string, Row[]>): string {
  const row = (r: Row): string => {
    const values = r.map((v) => JSON.stringify(v));
    const line = `    [${values.join(", ")}],`;
    return line.length <= 110 ? line : `    [\n${values.map((v) => `      ${v}`).join(",\n")}\n    ],`;
  };
  const splits = Object.entries(data).map(([name, rows]) => {
    const body = rows.map(row).join("\n").replace(/,$/, "");
    return `  ${JSON.stringify(name)}: [\n${body}\n  ]`;
  });
  return `{\n${splits.join(",\n")}\n}\n`;
}

if (import.meta.main) {
  const source = process.argv[2] ?? "../shared/data/clinc150/dev.json";
  const domainsFile = process.argv[3] ?? source.replace(/[^/]+$/, "domains.json");
  const out = process.argv[4] ?? "test/fixtures/multi-intent/clinc-multi-intent.json";
  const clinc = JSON.parse(readFileSync(source, "utf8"));
  const domains = JSON.parse(readFileSync(domainsFile, "utf8"));
  const data = buildMultiIntent(clinc, domains);
  writeFileSync(out, formatJson(data));
  console.log(
    `wrote ${out}: train ${data.train.length}, valid ${data.valid.length}, test ${data.test.length}`,
  );
}
