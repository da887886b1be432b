/**
 * The directory audit log as evidence of recent changes: "Update user" events whose modified
 * properties include the mobile phone, within the settle period. They say when a number changed
 * and who changed it, for users the number history does not know yet, and for the report.
 */
import { query } from "../graph/paths.js";
import { readPages } from "../discovery.js";
import type { RunStore } from "../store/runStore.js";
import type { AuditChange } from "./settle.js";

/** A `directoryAudit` as Graph returns it (the fields used here). */
export interface DirectoryAudit {
  activityDateTime?: string;
  activityDisplayName?: string;
  result?: string;
  initiatedBy?: {
    user?: { userPrincipalName?: string | null; id?: string | null } | null;
    app?: { displayName?: string | null; servicePrincipalId?: string | null } | null;
  };
  targetResources?: {
    id?: string;
    type?: string;
    modifiedProperties?: { displayName?: string }[];
  }[];
}

/** An audited change of a user's mobile phone, as the run keeps it. */
export interface MobileChange {
  userId: string;
  at: string;
  by?: string;
}

/** The audit property name of the directory's mobile phone attribute. */
const MOBILE_PROPERTY = "mobilephone";

/**
 * The first page of the audit query: "Update user" events since a moment.
 *
 * @param since - the start of the settle period (ISO).
 * @param pageSize - `$top`, or undefined for Graph's default page size.
 */
export function auditPath(since: string, pageSize?: number): string {
  return `/auditLogs/directoryAudits${query({
    $filter: `activityDisplayName eq 'Update user' and activityDateTime ge ${since}`,
    $top: pageSize,
  })}`;
}

/**
 * The mobile phone change of one audit event, or undefined when it changed other properties only
 * ("Update user" events have one target user).
 *
 * @param event - one audit event.
 */
export function toMobileChange(event: DirectoryAudit): MobileChange | undefined {
  const at = event.activityDateTime;
  if (!at || (event.result !== undefined && event.result !== "success")) {
    return undefined;
  }
  const by =
    event.initiatedBy?.user?.userPrincipalName ?? event.initiatedBy?.app?.displayName ?? undefined;
  return (event.targetResources ?? [])
    .filter(
      (t) =>
        t.id &&
        t.type?.toLowerCase() === "user" &&
        (t.modifiedProperties ?? []).some((p) => p.displayName?.toLowerCase() === MOBILE_PROPERTY),
    )
    .map((t) => ({ userId: t.id as string, at, ...(by ? { by } : {}) }))[0];
}

/**
 * The latest audited change per user, from the run's stored audit pages.
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param pages - how many audit pages the run stored.
 */
export async function latestChanges(
  store: RunStore,
  runId: string,
  pages: number,
): Promise<Map<string, AuditChange>> {
  const latest = new Map<string, AuditChange>();
  for await (const page of readPages<MobileChange>(store, runId, "audit", pages)) {
    for (const change of page) {
      const seen = latest.get(change.userId);
      if (!seen || Date.parse(change.at) > Date.parse(seen.at)) {
        latest.set(change.userId, change.by ? { at: change.at, by: change.by } : { at: change.at });
      }
    }
  }
  return latest;
}
