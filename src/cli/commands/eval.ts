import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ArbiterError, ErrorCode } from "../../errors/arbiter-error.ts";
import { evalPii } from "../../eval/pii/eval-pii.ts";
import { formatPiiReport } from "../../eval/pii/format-pii-report.ts";
import { loadPiiDataset } from "../../eval/pii/pii-dataset.ts";
import { evalDecompose } from "../../eval/routing/eval-decompose.ts";
import { evalInjection } from "../../eval/routing/eval-injection.ts";
import { evalRouting } from "../../eval/routing/eval-routing.ts";
import {
  loadClincLayout,
  loadDomains,
  loadInjectionRows,
  loadMultiIntent,
} from "../../eval/routing/load-data.ts";
import { textProgress } from "../../eval/routing/progress.ts";
import type { Command } from "../main.ts";
import type { CliIo } from "../output.ts";
import { oneOf, parse, positiveInteger } from "../parse.ts";

const usages = {
  routing:
    "arbiter eval routing --data <clinc-layout.json> --domains <domains.json> [--split val|test] [--examples N] [--json]",
  decompose:
    "arbiter eval decompose --data <multi-intent.json> --domains <domains.json> [--split valid|test] [--json]",
  injection:
    "arbiter eval injection --data <prompts.jsonl> [--clinc <clinc-layout.json> --domains <domains.json>] [--json]",
  pii: "arbiter eval pii --data <file> [--json]",
} as const;
const usage = Object.values(usages).join("\n       ");

function required(values: Record<string, unknown>, name: string, suiteUsage: string): string {
  const value = values[name];
  if (typeof value !== "string") {
    throw new ArbiterError(ErrorCode.InvalidArgument, `--${name} <file> is required\nUsage: ${suiteUsage}`);
  }
  return resolve(value);
}

const print = (io: CliIo, json: boolean, report: object, lines: string[]) =>
  io.out(json ? `${JSON.stringify(report)}\n` : `${lines.join("\n")}\n`);
const pct = (n: number | null) => (n === null ? "n/a" : `${(n * 100).toFixed(1)}%`);

async function evalRoutingCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    {
      data: { type: "string" },
      domains: { type: "string" },
      split: { type: "string" },
      examples: { type: "string" },
      json: { type: "boolean" },
    },
    usages.routing,
  );
  const split = oneOf("split", values.split, ["val", "test"] as const, usages.routing) ?? "val";
  const examplesPerIntent =
    values.examples === undefined
      ? undefined
      : positiveInteger("examples", values.examples, 1, usages.routing);
  const file = required(values, "data", usages.routing);
  const report = evalRouting({
    data: loadClincLayout(file),
    domains: loadDomains(required(values, "domains", usages.routing)),
    split,
    file,
    ...(examplesPerIntent === undefined ? {} : { examplesPerIntent }),
    onProgress: textProgress({ write: (t: string) => io.err(t), isTTY: io.isTty }),
  });
  print(io, values.json === true, report, [
    `routing on ${split} (${examplesPerIntent ?? "all"} examples per intent, ${report.examples} examples, trained in ${Math.round(report.trainMs)} ms)`,
    `  worker accuracy        ${pct(report.workerAccuracy)}   (counting fallbacks as wrong: ${pct(report.workerAccuracyWithFallback)})`,
    `  intent accuracy        ${pct(report.intentAccuracy)}`,
    `  out-of-scope recall    ${pct(report.oosRecall)}   false fallback ${pct(report.falseFallbackRate)}`,
    `  route latency          p50 ${report.routeP50Ms.toFixed(3)} ms   p99 ${report.routeP99Ms.toFixed(3)} ms`,
    ...report.warnings.map((w) => `  warning: ${w}`),
  ]);
  return 0;
}

async function evalDecomposeCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    {
      data: { type: "string" },
      domains: { type: "string" },
      split: { type: "string" },
      json: { type: "boolean" },
    },
    usages.decompose,
  );
  const split = (values.split ?? "test") as string;
  if (split !== "valid" && split !== "val" && split !== "test") {
    throw new ArbiterError(
      ErrorCode.InvalidArgument,
      `--split must be valid or test\nUsage: ${usages.decompose}`,
    );
  }
  const domains = loadDomains(required(values, "domains", usages.decompose));
  const file = required(values, "data", usages.decompose);
  const report = evalDecompose({
    data: loadMultiIntent(file, domains),
    domains,
    split,
    file,
    onProgress: textProgress({ write: (t: string) => io.err(t), isTTY: io.isTty }),
  });
  print(io, values.json === true, report, [
    `decomposition on ${split} (${report.n} utterances)`,
    `  worker set exact   ${pct(report.workerSetExact)}`,
    `  intent set exact   ${pct(report.intentSetExact)}`,
    `  sub-task count     ${pct(report.countAccuracy)}`,
    ...Object.entries(report.byCount).map(
      ([k, v]) =>
        `  ${k} intent(s): n=${v.n} worker set ${pct(v.workerSetExact)} intent set ${pct(v.intentSetExact)} count ${pct(v.countAccuracy)}`,
    ),
  ]);
  return 0;
}

async function evalInjectionCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    {
      data: { type: "string" },
      clinc: { type: "string" },
      domains: { type: "string" },
      json: { type: "boolean" },
    },
    usages.injection,
  );
  const file = required(values, "data", usages.injection);
  // The public layout keeps CLINC150 beside the injection data; use it when no file is named.
  const beside = (name: string) => {
    const path = resolve(dirname(file), "../clinc150", name);
    return existsSync(path) ? path : undefined;
  };
  const clincFile = typeof values.clinc === "string" ? resolve(values.clinc) : beside("dev.json");
  const domainsFile = typeof values.domains === "string" ? resolve(values.domains) : beside("domains.json");
  const report = evalInjection({
    data: loadInjectionRows(file),
    ...(clincFile && domainsFile
      ? { clinc: loadClincLayout(clincFile), domains: loadDomains(domainsFile) }
      : {}),
    onProgress: textProgress({ write: (t: string) => io.err(t), isTTY: io.isTty }),
  });
  print(io, values.json === true, report, [
    `injection guard on ${report.rows} prompts (${report.injections} injections, threshold ${report.threshold})`,
    `  precision ${pct(report.precision)}   recall ${pct(report.recall)}   F1 ${pct(report.f1)}`,
    `  route-change rate ${pct(report.routeChangeRate)} over ${report.trials} attacked utterances` +
      (report.routeChangeRate === null ? " (pass --clinc and --domains to measure it)" : ""),
    `  plan-change rate ${pct(report.planChangeRate)}   steer rate ${pct(report.steerRate)}   clean utterances flagged ${pct(report.inScopeFlagRate)}`,
  ]);
  return 0;
}

async function evalPiiCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, { data: { type: "string" }, json: { type: "boolean" } }, usages.pii);
  const dataset = loadPiiDataset(required(values, "data", usages.pii));
  const bar = textProgress({ write: (t: string) => io.err(t), isTTY: io.isTty });
  const report = await evalPii({ data: dataset, onProgress: (p) => bar({ phase: "pii", ...p }) });
  io.out(values.json ? `${JSON.stringify(report)}\n` : `${formatPiiReport(report)}\n`);
  return 0;
}

/** `arbiter eval <suite>`: quality measurements on public data sets. */
export const evalCommand: Command = {
  usage,
  async run(args, io) {
    const [suite, ...rest] = args;
    const suites: Record<string, (a: string[], io: CliIo) => Promise<number>> = {
      routing: evalRoutingCommand,
      decompose: evalDecomposeCommand,
      injection: evalInjectionCommand,
      pii: evalPiiCommand,
    };
    const command = suite === undefined ? undefined : suites[suite];
    if (command === undefined) {
      throw new ArbiterError(
        ErrorCode.InvalidArgument,
        `unknown evaluation "${suite ?? ""}"; available: ${Object.keys(suites).join(", ")}\nUsage: ${usage}`,
      );
    }
    return command(rest, io);
  },
};
