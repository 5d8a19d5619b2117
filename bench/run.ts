import { formatBench, runBench } from "./telecom-bench.ts";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
const report = await runBench({ quick, log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatBench(report));
