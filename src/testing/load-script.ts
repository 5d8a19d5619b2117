import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import { ScriptedModel, type ScriptedModelOptions } from "./scripted-model.ts";

const reply = z
  .object({
    text: z.string().optional(),
    object: z.unknown().optional(),
    toolCalls: z.array(z.object({ name: z.string(), input: z.unknown() }).strict()).optional(),
    error: z.string().optional(),
    delayMs: z.number().min(0).optional(),
    usage: z
      .object({ input: z.number().int().min(0), output: z.number().int().min(0) })
      .partial()
      .optional(),
  })
  .strict();

const scriptFile = z
  .object({
    latencyMs: z.number().min(0).optional(),
    replies: z.array(reply).optional(),
    rules: z
      .array(
        z
          .object({
            when: z
              .object({ system: z.string(), user: z.string(), tools: z.string() })
              .partial()
              .strict()
              .optional(),
            reply: z.union([reply, z.array(reply).min(1)]),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

/** Loads a scripted model's script from a JSON or YAML file (the `script:` of a `provider: scripted` model). */
export function loadScriptedModel(
  file: string,
  modelId: string,
  extra: Partial<ScriptedModelOptions> = {},
): ScriptedModel {
  let data: unknown;
  try {
    data = parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ArbiterError(
      ErrorCode.InvalidProfile,
      `${file}: cannot read the model script (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
  const parsed = scriptFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ArbiterError(
      ErrorCode.InvalidProfile,
      `${file} ${issue.path.join(".") || "(document)"}: ${issue.message}; a script has \`replies:\` and/or \`rules:\``,
    );
  }
  const script = parsed.data;
  return new ScriptedModel({
    provider: "scripted",
    modelId,
    ...(script.replies ? { replies: script.replies } : {}),
    ...(script.rules ? { rules: script.rules } : {}),
    ...(script.latencyMs === undefined ? {} : { latencyMs: script.latencyMs }),
    ...extra,
  });
}
