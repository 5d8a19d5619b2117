import type { Command } from "../main.ts";
import { parse } from "../parse.ts";

const usage = "arbiter bench [--json] [--quick]";

export const benchCommand: Command = {
  usage,
  async run(args, io) {
    const { values } = parse(args, { json: { type: "boolean" }, quick: { type: "boolean" } }, usage);
    const { runBench, formatBench } = await import("../../../bench/telecom-bench.ts");
    const report = await runBench({ quick: values.quick === true, log: (line) => io.err(`${line}\n`) });
    io.out(values.json ? `${JSON.stringify(report)}\n` : formatBench(report));
    return 0;
  },
};
