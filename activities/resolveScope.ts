/**
 * resolveScope: turns the staging and exclusion group settings (object ids or display names)
 * into group ids, and fails the run early, with a message that says what to fix, when a name is
 * unknown or ambiguous.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { odataString, query } from "../shared/graph/paths.js";
import { logEvent } from "../shared/log/events.js";
import { runstateLine } from "../shared/log/seedLines.js";
import { services } from "../shared/services.js";

/** Input: the raw settings values. */
export const resolveScopeInput = z.strictObject({
  stagingGroup: z.string().min(1).optional(),
  excludeGroups: z.array(z.string().min(1)),
});

/** Input: the raw settings values. */
export type ResolveScopeInput = z.infer<typeof resolveScopeInput>;

/** A resolved group. */
export interface ResolvedGroup {
  id: string;
  displayName: string;
}

/** Result: the groups, or the reason the run cannot start. */
export type ResolveScopeResult =
  { ok: true; staging?: ResolvedGroup; excluded: ResolvedGroup[] } | { ok: false; error: string };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Resolves one group by id or display name.
 *
 * @param setting - the setting it came from, for messages.
 * @param value - id or display name.
 */
async function resolveGroup(setting: string, value: string): Promise<ResolvedGroup | string> {
  const { graph } = services();
  if (GUID.test(value)) {
    try {
      const group = await graph.get<ResolvedGroup>(
        `/groups/${value}${query({ $select: "id,displayName" })}`,
      );
      return { id: group.id, displayName: group.displayName };
    } catch (error) {
      if (error instanceof GraphRequestError && error.status === 404) {
        return `${setting}: no group has the id '${value}'.`;
      }
      throw error;
    }
  }
  const found = await graph.get<{ value: ResolvedGroup[] }>(
    `/groups${query({ $filter: `displayName eq ${odataString(value)}`, $select: "id,displayName" })}`,
  );
  const groups = found.value ?? [];
  if (groups.length === 0) {
    return `${setting}: no group is named '${value}'. Use the group's exact display name or its object id.`;
  }
  if (groups.length > 1) {
    return `${setting}: ${groups.length} groups are named '${value}' (${groups.map((g) => `'${g.id}'`).join(", ")}). Use the object id of the one you mean.`;
  }
  const [group] = groups as [ResolvedGroup];
  return { id: group.id, displayName: group.displayName };
}

/**
 * Resolves the staging group and the exclusion groups.
 *
 * @param input - the settings values.
 * @param context - the invocation context, for logs.
 */
export async function resolveScope(
  input: ResolveScopeInput,
  context: InvocationContext,
): Promise<ResolveScopeResult> {
  const problems: string[] = [];
  let staging: ResolvedGroup | undefined;
  const excluded: ResolvedGroup[] = [];
  try {
    if (input.stagingGroup) {
      const r = await resolveGroup("STAGING_GROUP", input.stagingGroup);
      if (typeof r === "string") {
        problems.push(r);
      } else {
        staging = r;
      }
    }
    for (const name of input.excludeGroups) {
      const r = await resolveGroup("EXCLUDE_GROUPS", name);
      if (typeof r === "string") {
        problems.push(r);
      } else {
        excluded.push(r);
      }
    }
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return { ok: false, error: error.message };
    }
    throw error;
  }
  if (problems.length > 0) {
    context.error(`resolveScope: ${problems.join(" ")}`);
    return { ok: false, error: problems.join(" ") };
  }
  context.info(runstateLine(staging?.displayName));
  logEvent(context, "scopeResolved", {
    stagingGroupId: staging?.id ?? null,
    excludeGroupIds: excluded.map((g) => g.id),
  });
  return { ok: true, staging, excluded };
}

/** The activity. */
export const resolveScopeActivity = defineActivity({
  name: "resolveScope",
  input: resolveScopeInput,
  handler: resolveScope,
});
