/**
 * `GET /auditLogs/directoryAudits`: the audit log (auditLog.ts) in the documented `directoryAudit`
 * shape, newest first, with `$filter` on activityDisplayName (`eq`, `startswith`),
 * activityDateTime (`eq`, `ge`, `le`) and correlationId (`eq`) joined by `and`, `$orderby` on
 * activityDateTime, `$select`, `$top` and next links whose skip token remembers the last event
 * (so events written meanwhile do not shift pages). Events older than the tenant's retention
 * (30 days with P1/P2, 7 without) are gone.
 */
import type { AuditEvent } from "../auditLog.js";
import type { EmulatorConfig } from "../config.js";
import { FilterSyntaxError, parseFilter, type FilterNode, type LeafNode } from "../odata.js";
import { nextLink, parseSelect, parseTop, project, selectContext } from "../queries.js";
import { GraphHttpError } from "../response.js";
import type { TenantStore } from "../store.js";
import { ok, stableGuid, type Handler } from "./context.js";

const AUDIT_PATH = "auditLogs/directoryAudits";
const DAY_MS = 24 * 3600 * 1000;

const AUDIT_PROPERTIES = [
  "id",
  "category",
  "correlationId",
  "result",
  "resultReason",
  "activityDisplayName",
  "activityDateTime",
  "loggedByService",
  "operationType",
  "initiatedBy",
  "targetResources",
  "additionalDetails",
];

/** What every "Update user" event says about itself. */
const UPDATE_USER = {
  category: "UserManagement",
  activityDisplayName: "Update user",
  loggedByService: "Core Directory",
  operationType: "Update",
  result: "success",
  resultReason: "",
} as const;

function badFilter(detail: string): GraphHttpError {
  return new GraphHttpError(400, "BadRequest", `Invalid filter clause: ${detail}`);
}

function dateOf(leaf: LeafNode): number {
  const v = leaf.value;
  const ms = typeof v === "object" && v !== null ? Date.parse(v.dateTime) : NaN;
  if (Number.isNaN(ms)) {
    throw badFilter(
      "activityDateTime is compared with an unquoted date and time, e.g. 2026-01-02T00:00:00Z.",
    );
  }
  return ms;
}

function leafPredicate(leaf: LeafNode): (e: AuditEvent) => boolean {
  const prop = leaf.prop.toLowerCase();
  if (prop === "activitydisplayname") {
    if (leaf.kind === "startsWith") {
      const v = leaf.value.toLowerCase();
      return () => UPDATE_USER.activityDisplayName.toLowerCase().startsWith(v);
    }
    if (leaf.kind === "cmp" && leaf.op === "eq" && typeof leaf.value === "string") {
      const v = leaf.value.toLowerCase();
      return () => UPDATE_USER.activityDisplayName.toLowerCase() === v;
    }
    throw badFilter("activityDisplayName supports eq and startswith with a string.");
  }
  if (prop === "activitydatetime") {
    const op = leaf.kind === "cmp" || leaf.kind === "range" ? leaf.op : undefined;
    const at = dateOf(leaf);
    if (op === "ge") {
      return (e) => e.timeMs >= at;
    }
    if (op === "le") {
      return (e) => e.timeMs <= at;
    }
    if (op === "eq") {
      return (e) => e.timeMs === at;
    }
    throw badFilter("activityDateTime supports eq, ge and le.");
  }
  if (prop === "correlationid" && leaf.kind === "cmp" && leaf.op === "eq") {
    const v = typeof leaf.value === "string" ? leaf.value.toLowerCase() : "";
    return (e) => e.correlationId === v;
  }
  throw badFilter(`'${leaf.prop}' with this operator is not supported by the emulator.`);
}

/** Compiles an `and` of supported clauses; `or`, `not` and anything else is a 400. */
function compileAuditFilter(raw: string | null): (e: AuditEvent) => boolean {
  if (raw === null) {
    return () => true;
  }
  let node: FilterNode;
  try {
    node = parseFilter(raw);
  } catch (e) {
    if (e instanceof FilterSyntaxError) {
      throw badFilter(e.message);
    }
    throw e;
  }
  const compile = (n: FilterNode): ((e: AuditEvent) => boolean) => {
    if (n.kind === "or" || n.kind === "not") {
      throw badFilter(`'${n.kind}' is not supported by the emulator on directory audits.`);
    }
    if (n.kind === "and") {
      const a = compile(n.left);
      const b = compile(n.right);
      return (e) => a(e) && b(e);
    }
    return leafPredicate(n as LeafNode);
  };
  return compile(node);
}

/** `$orderby`: activityDateTime, newest first unless `asc`. */
function newestFirst(raw: string | null): boolean {
  if (raw === null) {
    return true;
  }
  const m = /^\s*activityDateTime(\s+(asc|desc))?\s*$/i.exec(raw);
  if (!m) {
    throw new GraphHttpError(400, "BadRequest", `$orderby '${raw}' is not supported.`);
  }
  return (m[2] ?? "desc").toLowerCase() === "desc";
}

interface AuditToken {
  /** Order the token belongs to: newest first or oldest first. */
  d: boolean;
  /** Time and sequence number of the last event sent. */
  t: number;
  s: number;
}

function encodeToken(token: AuditToken): string {
  return Buffer.from(JSON.stringify({ k: "audit", ...token })).toString("base64url");
}

function decodeToken(raw: string | null, desc: boolean): AuditToken | undefined {
  if (raw === null) {
    return undefined;
  }
  try {
    const v = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Record<string, unknown>;
    if (v.k === "audit" && v.d === desc && typeof v.t === "number" && typeof v.s === "number") {
      return { d: desc, t: v.t, s: v.s };
    }
  } catch {
    // Falls through to the 400.
  }
  throw new GraphHttpError(400, "BadRequest", "The skip token is not valid for this request.");
}

/** Whether event `a` comes after the position `(t, s)` in the requested order. */
function after(a: AuditEvent, pos: AuditToken | undefined, desc: boolean): boolean {
  if (pos === undefined) {
    return true;
  }
  if (a.timeMs !== pos.t) {
    return desc ? a.timeMs < pos.t : a.timeMs > pos.t;
  }
  return desc ? a.seq < pos.s : a.seq > pos.s;
}

/** A modified property's value as the log encodes it: a JSON list of the values. */
function encodeValue(
  v: string | string[] | null,
  style: EmulatorConfig["auditValueStyle"],
): string {
  const list = v === null ? [] : Array.isArray(v) ? v : [v];
  if (style === "pretty") {
    return list.length === 0
      ? "[]"
      : `[\r\n${list.map((x) => `  ${JSON.stringify(x)}`).join(",\r\n")}\r\n]`;
  }
  return JSON.stringify(list);
}

/** One entry of a target's `modifiedProperties`. */
interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string;
}

function auditObject(
  e: AuditEvent,
  store: TenantStore,
  config: EmulatorConfig,
): Record<string, unknown> {
  const actor = e.actor;
  const initiatedBy =
    "app" in actor
      ? {
          user: null,
          app: {
            appId: null,
            displayName: actor.app,
            servicePrincipalId: stableGuid(`servicePrincipal|${actor.app}`),
            servicePrincipalName: null,
          },
        }
      : {
          user: {
            id:
              store.findUser(actor.userPrincipalName)?.id ??
              stableGuid(`user|${actor.userPrincipalName.toLowerCase()}`),
            displayName: null,
            userPrincipalName: actor.userPrincipalName,
            ipAddress: null,
            userType: null,
            homeTenantId: null,
            homeTenantName: null,
          },
          app: null,
        };
  const modifiedProperties: ModifiedProperty[] = e.changes.map((c) => ({
    displayName: c.name,
    oldValue: encodeValue(c.oldValue, config.auditValueStyle),
    newValue: encodeValue(c.newValue, config.auditValueStyle),
  }));
  modifiedProperties.push({
    displayName: "Included Updated Properties",
    oldValue: null,
    newValue: JSON.stringify(e.changes.map((c) => c.name).join(", ")),
  });
  return {
    id: `Directory_${e.correlationId}_${e.seq}`,
    ...UPDATE_USER,
    correlationId: e.correlationId,
    activityDateTime: new Date(e.timeMs).toISOString(),
    initiatedBy,
    targetResources: [
      {
        id: e.target.id,
        displayName: null,
        type: "User",
        userPrincipalName: e.target.userPrincipalName,
        groupType: null,
        modifiedProperties,
      },
    ],
    additionalDetails: [{ key: "UserType", value: "Member" }],
  };
}

/** `GET /auditLogs/directoryAudits`. */
export const listDirectoryAudits: Handler = (ctx, req) => {
  const q = req.query;
  const config = ctx.config;
  if (q.has("$skip")) {
    throw new GraphHttpError(400, "BadRequest", "Query option 'Skip' is not allowed.");
  }
  const top = parseTop(q.get("$top"), config.auditDefaultTop, config.auditMaxTop, "BadRequest");
  const select = parseSelect(q.get("$select"), AUDIT_PROPERTIES, "microsoft.graph.directoryAudit");
  const filter = compileAuditFilter(q.get("$filter"));
  const desc = newestFirst(q.get("$orderby"));
  const pos = decodeToken(q.get("$skiptoken"), desc);
  const retainedFrom = Date.now() - (ctx.store.premium ? 30 : 7) * DAY_MS;
  const events = ctx.store.audits.all();
  const found: AuditEvent[] = [];
  let more = false;
  for (let k = 0; k < events.length; k++) {
    const e = events[desc ? events.length - 1 - k : k] as AuditEvent;
    if (e.timeMs < retainedFrom || !after(e, pos, desc) || !filter(e)) {
      continue;
    }
    if (found.length === top) {
      more = true;
      break;
    }
    found.push(e);
  }
  const body: Record<string, unknown> = {
    "@odata.context": `${ctx.root}/$metadata#auditLogs/directoryAudits${selectContext(select)}`,
  };
  const last = found[found.length - 1];
  if (more && last) {
    const token = encodeToken({ d: desc, t: last.timeMs, s: last.seq });
    body["@odata.nextLink"] = nextLink(ctx.root, AUDIT_PATH, q, token);
  }
  body.value = found.map((e) => {
    const full = auditObject(e, ctx.store, config);
    return select ? project(full, select) : full;
  });
  return ok(body);
};
