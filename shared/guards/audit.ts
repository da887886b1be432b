/**
 * The directory audit log as evidence of recent changes: "Update user" events whose modified
 * properties include an attribute a method is made from (the mobile phone, the office phones, the
 * alternate email addresses), within the settle period. They say when a value changed and who
 * changed it, for users the value history does not know yet, and for the report.
 */
import { query } from "../graph/paths.js";
import { readPages } from "../discovery.js";
import type { RunStore } from "../store/runStore.js";
import type { AuditChange } from "./settle.js";
import type { ValueKind } from "./valueHash.js";

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

/** An audited change of a user's attributes, as the run keeps it. */
export interface ValueChange {
  userId: string;
  at: string;
  by?: string;
  /** The kinds of value it changed; absent: the mobile phone alone (as pages of older runs hold). */
  kinds?: ValueKind[];
}

/**
 * The names `modifiedProperties` gives each attribute, lower case. Microsoft's examples show
 * `MobilePhone` only; the names of the office phones and the alternate addresses are not
 * documented, so the spellings seen in Entra's portal and its PowerShell are all accepted
 * (`TelephoneNumber`, `OtherMail`, and the Graph property names).
 */
const AUDIT_PROPERTIES: Record<ValueKind, readonly string[]> = {
  mobile: ["mobilephone"],
  office: ["telephonenumber", "businessphones"],
  email: ["othermail", "othermails"],
};

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
 * The change of one audit event to the attributes methods are made from, or undefined when it
 * changed other properties only ("Update user" events have one target user).
 *
 * @param event - one audit event.
 */
export function toValueChange(event: DirectoryAudit): ValueChange | undefined {
  const at = event.activityDateTime;
  if (!at || (event.result !== undefined && event.result !== "success")) {
    return undefined;
  }
  const by =
    event.initiatedBy?.user?.userPrincipalName ?? event.initiatedBy?.app?.displayName ?? undefined;
  for (const t of event.targetResources ?? []) {
    if (!t.id || t.type?.toLowerCase() !== "user") {
      continue;
    }
    const names = (t.modifiedProperties ?? []).map((p) => p.displayName?.toLowerCase() ?? "");
    const kinds = (Object.keys(AUDIT_PROPERTIES) as ValueKind[]).filter((kind) =>
      AUDIT_PROPERTIES[kind].some((name) => names.includes(name)),
    );
    if (kinds.length > 0) {
      const onlyMobile = kinds.length === 1 && kinds[0] === "mobile";
      return { userId: t.id, at, ...(by ? { by } : {}), ...(onlyMobile ? {} : { kinds }) };
    }
  }
  return undefined;
}

/**
 * The latest audited change of one kind of value per user, from the run's stored audit pages.
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param pages - how many audit pages the run stored.
 * @param kind - which value: the mobile phone when absent.
 */
export async function latestChanges(
  store: RunStore,
  runId: string,
  pages: number,
  kind: ValueKind = "mobile",
): Promise<Map<string, AuditChange>> {
  const latest = new Map<string, AuditChange>();
  for await (const page of readPages<ValueChange>(store, runId, "audit", pages)) {
    for (const change of page) {
      if (!(change.kinds ?? ["mobile"]).includes(kind)) {
        continue;
      }
      const seen = latest.get(change.userId);
      if (!seen || Date.parse(change.at) > Date.parse(seen.at)) {
        latest.set(change.userId, change.by ? { at: change.at, by: change.by } : { at: change.at });
      }
    }
  }
  return latest;
}
