import {
  type AuthorizationAnswer,
  type Context,
  type EntityJson,
  statefulIsAuthorized,
} from "@cedar-policy/cedar-wasm/nodejs";
import { describeError } from "../../errors/arbiter-error.ts";
import {
  type DecideOptions,
  type Decision,
  Outcome,
  type PolicyBundle,
  type PolicyInfo,
  type PolicyRequest,
} from "../decision.ts";
import { entityUid, isPlainObject, redactValues, type SchemaModel, toCedarValue } from "./schema-model.ts";

export interface CedarPolicyBundleInit {
  readonly version: string;
  readonly policies: readonly PolicyInfo[];
  readonly warnings: readonly string[];
  readonly schema: SchemaModel;
  /** Ids under which the schema and the two policy sets were pre-parsed into cedar-wasm. */
  readonly schemaName: string;
  readonly fullSetId: string;
  readonly hardSetId: string;
  /**
   * Top-level context attributes some policy mentions; decisions are cached on these only. `undefined`
   * when a policy reads the context as a whole (then nothing is cached).
   */
  readonly referencedContext: ReadonlySet<string> | undefined;
}

/** Decisions kept per bundle; identical requests (on what the policies read) are decided once. */
const CACHE_LIMIT = 4096;

type Call = Omit<Parameters<typeof statefulIsAuthorized>[0], "preparsedPolicySetId">;

type Evaluation =
  | { readonly ok: true; readonly allow: boolean; readonly ids: string[] }
  | { readonly ok: false; readonly why: string; readonly ids: string[]; readonly errors: string[] };

const EMPTY_CONTEXT = { type: "Record", attributes: {} } as const;

/**
 * Decides with the pre-parsed sets: the full set first; only when nothing but `@approval` forbids
 * denied does it ask the set without them whether a permit applies (then: needs approval).
 */
export function createCedarPolicyBundle(init: CedarPolicyBundleInit): PolicyBundle {
  const byId = new Map(init.policies.map((policy, index) => [policy.id, { policy, index }]));
  const order = (ids: readonly string[]) =>
    [...ids].sort((a, b) => (byId.get(a)?.index ?? 0) - (byId.get(b)?.index ?? 0));
  const version = init.version;

  const decision = (outcome: Outcome, policyIds: string[], reasons: string[], errors: string[] = []) => ({
    outcome,
    policyIds,
    reasons,
    errors,
    bundleVersion: version,
  });
  const failClosed = (errors: string[], why: string, policyIds: string[] = []): Decision =>
    decision(Outcome.Deny, policyIds, [`${why}; denied (fail closed)`], errors);
  const reasonOf = (id: string, verb: string) => byId.get(id)?.policy.reason ?? `${verb} by ${id}`;

  const evaluate = (setId: string, call: Call): Evaluation => {
    const answer: AuthorizationAnswer = statefulIsAuthorized({ ...call, preparsedPolicySetId: setId });
    if (answer.type === "failure") {
      // Policies are pre-parsed and validated: what Cedar refuses here is the request (an entity, a value).
      return {
        ok: false,
        why: "the request is malformed",
        ids: [],
        errors: answer.errors.map((e) => e.message),
      };
    }
    const { decision: cedarDecision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      return {
        ok: false,
        why: "a policy could not be evaluated",
        ids: order(diagnostics.errors.map((e) => e.policyId)),
        errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
      };
    }
    return { ok: true, allow: cedarDecision === "allow", ids: order(diagnostics.reason) };
  };

  const cache = new Map<string, Decision>();
  const cacheKey = (call: Call, options: DecideOptions | undefined): string | undefined => {
    const referenced = init.referencedContext;
    if (referenced === undefined || (call.entities as unknown[]).length > 0) return undefined;
    // The attributes the policies read, in the (fixed) order they were found in the policies.
    const full = call.context as Record<string, unknown>;
    const context: Record<string, unknown> = {};
    for (const name of referenced) if (Object.hasOwn(full, name)) context[name] = full[name];
    return JSON.stringify([call.principal, call.action, call.resource, context, options?.approved ?? null]);
  };

  const decideUnsafe = (request: PolicyRequest, options: DecideOptions | undefined): Decision => {
    const problems: string[] = [];
    const call = buildCall(init, request, problems);
    if (call === undefined || problems.length > 0) return failClosed(problems, "the request is malformed");
    // Cedar's answer depends only on the entities and the attributes the policies read: a request that
    // differs only in others (run id, task id) gets the decision already computed.
    const key = cacheKey(call, options);
    const cached = key === undefined ? undefined : cache.get(key);
    if (cached !== undefined) return cached;
    const fresh = evaluateCall(call, request, options);
    if (key !== undefined) {
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
      cache.set(key, fresh);
    }
    return fresh;
  };

  const evaluateCall = (call: Call, request: PolicyRequest, options: DecideOptions | undefined): Decision => {
    const full = evaluate(init.fullSetId, call);
    if (!full.ok)
      return failClosed(redactValues(full.errors, call.context, call.entities), full.why, full.ids);
    if (full.allow)
      return decision(
        Outcome.Allow,
        full.ids,
        full.ids.map((id) => reasonOf(id, "permitted")),
      );
    if (full.ids.length === 0) return decision(Outcome.Deny, [], [defaultDeny(request)]);
    const hard = full.ids.filter((id) => byId.get(id)?.policy.approval === undefined);
    if (hard.length > 0)
      return decision(
        Outcome.Deny,
        hard,
        hard.map((id) => reasonOf(id, "forbidden")),
      );

    // Only approval policies forbade: would anything permit it if a human waived them?
    const approvals = full.ids;
    const rest = evaluate(init.hardSetId, call);
    if (!rest.ok)
      return failClosed(redactValues(rest.errors, call.context, call.entities), rest.why, rest.ids);
    if (!rest.allow) return decision(Outcome.Deny, [], [defaultDeny(request)]);
    const policyIds = [...approvals, ...rest.ids];
    const granted = options?.approved === undefined ? undefined : new Set(options.approved);
    const permits = rest.ids.map((id) => reasonOf(id, "permitted"));
    if (granted !== undefined && approvals.every((id) => granted.has(id))) {
      const approved = approvals.map((id) => `approved by a human: ${byId.get(id)?.policy.approval}`);
      return decision(Outcome.Allow, policyIds, [...approved, ...permits]);
    }
    const needed = approvals.map((id) => byId.get(id)?.policy.approval ?? `approval required by ${id}`);
    return decision(Outcome.NeedsApproval, policyIds, needed);
  };

  return Object.freeze({
    version,
    policies: init.policies,
    warnings: init.warnings,
    decide(request: PolicyRequest, options?: DecideOptions): Decision {
      try {
        return decideUnsafe(request, options);
      } catch (error) {
        return failClosed([describeError(error)], "the policy engine failed");
      }
    },
  });
}

function buildCall(
  init: CedarPolicyBundleInit,
  request: PolicyRequest,
  problems: string[],
): Call | undefined {
  if (!isPlainObject(request)) {
    problems.push("request: expected an object { principal, action, resource, context }");
    return undefined;
  }
  const schema = init.schema;
  const qualify = (type: string) => schema.entityType(type);
  const principal = entityUid(request.principal, "principal", problems, qualify);
  const resource = entityUid(request.resource, "resource", problems, qualify);
  const shape = typeof request.action === "string" ? schema.action(request.action) : undefined;
  if (shape === undefined) {
    problems.push(
      `action: unknown action ${JSON.stringify(request.action)}; the schema declares ${schema.actionIds.join(", ")}`,
    );
    return undefined;
  }
  if (!isPlainObject(request.context)) {
    problems.push("context: expected an object");
    return undefined;
  }
  const context = schema.project(request.context, shape.context ?? EMPTY_CONTEXT, "context", problems);
  const entities: EntityJson[] = [];
  if (request.entities !== undefined) {
    if (!Array.isArray(request.entities)) problems.push("entities: expected an array");
    else {
      request.entities.forEach((entity: unknown, i) => {
        const path = `entities[${i}]`;
        if (!isPlainObject(entity)) {
          problems.push(`${path}: expected { uid, attrs?, parents? }`);
          return;
        }
        const parents = Array.isArray(entity.parents) ? entity.parents : [];
        const attrs = toCedarValue(entity.attrs ?? {}, `${path}.attrs`, problems);
        entities.push({
          uid: entityUid(entity.uid, `${path}.uid`, problems, qualify),
          attrs: isPlainObject(attrs) ? (attrs as EntityJson["attrs"]) : {},
          parents: parents.map((p: unknown, j) => entityUid(p, `${path}.parents[${j}]`, problems, qualify)),
        });
      });
    }
  }
  if (!isPlainObject(context)) return undefined;
  if (problems.length === 0) {
    if (!shape.principalTypes.has(principal.type)) {
      problems.push(
        `principal: ${shape.uid.id} applies to ${[...shape.principalTypes].join(" or ")}, not ${principal.type}`,
      );
    }
    if (!shape.resourceTypes.has(resource.type)) {
      problems.push(
        `resource: ${shape.uid.id} applies to ${[...shape.resourceTypes].join(" or ")}, not ${resource.type}`,
      );
    }
  }
  const call: Call = { principal, action: shape.uid, resource, context: context as Context, entities };
  // The context is already checked against the schema; entities are not, so let Cedar do it.
  return entities.length === 0
    ? call
    : { ...call, preparsedSchemaName: init.schemaName, validateRequest: true };
}

function defaultDeny(request: PolicyRequest): string {
  const show = (e: { type: string; id: string }) => `${e.type}::${JSON.stringify(e.id)}`;
  return `no policy permits ${show(request.principal)} to ${request.action} ${show(request.resource)} (default deny)`;
}
