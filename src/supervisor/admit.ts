import { z } from "zod";
import { ArbiterError, ErrorCode } from "../errors/arbiter-error.ts";
import type { Profile } from "../profile/load-profile.ts";
import type { AdmittedRequest } from "./run-context.ts";

/** A request as a caller submits it (CLI, HTTP, library). */
export interface RunRequest {
  message: string;
  tenant?: string;
  /** Request-scoped facts the workers may use (customer id, channel, locale). */
  context?: Record<string, unknown>;
}

const requestSchema = z
  .object({
    message: z.string().refine((m) => m.trim().length > 0, "must not be empty"),
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "expected letters, digits, '.', '_' or '-' (at most 64)")
      .default("default"),
    context: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** Validates a request against the schema and the profile's limits. Nothing is recorded for a rejected request. */
export function admit(profile: Profile, request: RunRequest): AdmittedRequest {
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".") || "request";
    throw new ArbiterError(ErrorCode.InvalidRequest, `request.${field}: ${issue.message}`, {
      details: { field },
    });
  }
  const max = profile.document.limits.maxRequestChars;
  if (parsed.data.message.length > max) {
    throw new ArbiterError(
      ErrorCode.InvalidRequest,
      `request.message: ${parsed.data.message.length} characters is over the profile's limit of ${max} ` +
        "(limits.maxRequestChars); shorten the message or raise the limit",
      { details: { field: "message", limit: max, length: parsed.data.message.length } },
    );
  }
  const contextBytes = JSON.stringify(parsed.data.context).length;
  if (contextBytes > max) {
    throw new ArbiterError(
      ErrorCode.InvalidRequest,
      `request.context: ${contextBytes} bytes of JSON is over the limit of ${max} (limits.maxRequestChars)`,
      { details: { field: "context" } },
    );
  }
  return parsed.data;
}
