import { describeDerivedCache } from "../../profile/derived-cache.ts";
import { loadProfile } from "../../profile/load-profile.ts";
import { buildLocalRouter } from "../../routing/local-router.ts";
import type { Command } from "../main.ts";
import { parse } from "../parse.ts";

const usage = "arbiter validate <profile> [--json]";

export const validateCommand: Command = {
  usage,
  async run(args, io) {
    const { values, positionals } = parse(args, { json: { type: "boolean" } }, usage);
    const file = positionals[0];
    if (file === undefined || positionals.length > 1) {
      io.err(`Usage: ${usage}\n`);
      return 2;
    }
    const profile = await loadProfile(file, { env: io.env });
    try {
      const doc = profile.document;
      const router = buildLocalRouter(profile);
      const warnings = [...profile.warnings, ...router.warnings];
      const classifier = router.classifier
        ? {
            examples: router.classifier.stats.examples,
            trainMs: Math.round(router.classifier.stats.trainMs),
            cached: router.classifier.stats.cached === true,
          }
        : null;
      if (values.json) {
        io.out(
          `${JSON.stringify({
            ok: true,
            file,
            name: doc.name,
            version: profile.version,
            workers: doc.workers.map((w) => w.name),
            tools: [...profile.tools.keys()],
            classifier,
            cache: describeDerivedCache(io.env),
            warnings,
          })}\n`,
        );
      } else {
        io.out(`${file}: ok — profile "${doc.name}" version ${profile.version.slice(0, 12)}\n`);
        io.out(`  workers: ${doc.workers.map((w) => w.name).join(", ")}\n`);
        io.out(`  tools:   ${[...profile.tools.keys()].join(", ") || "none"}\n`);
        io.out(
          `  router:  rules${classifier ? ` + classifier (${classifier.examples} examples, ${classifier.cached ? "taken from the cache, " : ""}trained in ${classifier.trainMs} ms)` : ""}\n`,
        );
        io.out(`  cache:   ${describeDerivedCache(io.env)}\n`);
        for (const warning of warnings) io.out(`  warning: ${warning}\n`);
      }
      return 0;
    } finally {
      await profile.close();
    }
  },
};
