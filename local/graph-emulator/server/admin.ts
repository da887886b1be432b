/**
 * The admin API on the plain-http port (`{adminUrl}` = `/admin`): state, metrics, config, tokens,
 * user changes, outages and device-code sign-ins, for tests and the local tools. Not part of Graph.
 */
import type http from "node:http";
import type { EmulatorConfig, OutageMode } from "../config.js";
import type { AuditActor } from "../auditLog.js";
import { readUserPatch, type UsersDelta } from "../handlers/delta.js";
import type { MetricsCollector } from "../metrics.js";
import type { OutagePolicy } from "../policies/outage.js";
import type { DeviceCodeFlow } from "./deviceCode.js";
import { EMAIL_METHOD_ID, PHONE_TYPES, type TenantStore, type UserRec } from "../store.js";
import type { TokenAuthority } from "../tokens.js";
import { sendJson } from "./http.js";
import type { TokenIssuer } from "./tokenIssuer.js";

/** One user in `GET {adminUrl}/state`. */
export interface UserState {
  id: string;
  userPrincipalName: string;
  phoneMethods: { phoneType: string; phoneNumber: string }[];
  /** The email method, when the user has one (a list, as Graph lists it). */
  emailMethods: { id: string; emailAddress: string }[];
}

/** What the admin API works on. */
export interface AdminContext {
  store: TenantStore;
  metrics: MetricsCollector;
  tokens: TokenAuthority;
  issuer: TokenIssuer;
  usersDelta: UsersDelta;
  outage: OutagePolicy;
  deviceCodes: DeviceCodeFlow;
  config: () => EmulatorConfig;
  setConfig: (patch: Partial<EmulatorConfig>) => void;
}

/**
 * A user and its phone and email methods as the state view shows them.
 *
 * @param u - the user
 */
export function userState(u: UserRec): UserState {
  return {
    id: u.id,
    userPrincipalName: u.userPrincipalName,
    phoneMethods: PHONE_TYPES.filter((t) => u.phones[t]).map((t) => ({
      phoneType: t,
      phoneNumber: u.phones[t]?.phoneNumber ?? "",
    })),
    emailMethods:
      u.emailAddress === null ? [] : [{ id: EMAIL_METHOD_ID, emailAddress: u.emailAddress }],
  };
}

/** An admin route: method, path after `/admin`, and what it does. */
type AdminRoute = (
  ctx: AdminContext,
  res: http.ServerResponse,
  body: () => Record<string, unknown>,
) => void;

const ADMIN_ROUTES: Record<string, AdminRoute> = {
  "GET /state": (ctx, res) => writeStateStream(ctx.store, res),
  "GET /metrics": (ctx, res) => sendJson(res, 200, ctx.metrics.snapshot()),
  "GET /config": (ctx, res) => sendJson(res, 200, ctx.config()),
  "POST /config": (ctx, res, body) => {
    ctx.setConfig(body() as Partial<EmulatorConfig>);
    sendJson(res, 200, ctx.config());
  },
  "POST /revoke-tokens": (ctx, res) => {
    ctx.tokens.revokeAll();
    res.writeHead(204).end();
  },
  "POST /reset-metrics": (ctx, res) => {
    ctx.metrics.reset();
    res.writeHead(204).end();
  },
  "POST /token": (ctx, res, body) => {
    const b = body();
    const config = ctx.config();
    const roles = Array.isArray(b.roles) ? b.roles.map(String) : config.grantedRoles;
    const ms =
      typeof b.lifetimeSeconds === "number"
        ? b.lifetimeSeconds * 1000
        : config.tokenLifetimeSeconds * config.timeScale * 1000;
    sendJson(res, 200, { access_token: ctx.issuer.issue(roles, ms, ms), token_type: "Bearer" });
  },
  "POST /users": (ctx, res, body) => sendJson(res, 200, ctx.usersDelta.upsertUser(body())),
  // Graph seconds, scaled by timeScale like every duration; 0 ends the outage in progress.
  "POST /outage": (ctx, res, body) => {
    const b = body();
    ctx.outage.start(Number(b.seconds), (b.mode ?? "503") as OutageMode, ctx.config());
    sendJson(res, 200, ctx.outage.status());
  },
  "GET /outage": (ctx, res) => sendJson(res, 200, ctx.outage.status()),
  "GET /device-codes": (ctx, res) => sendJson(res, 200, { deviceCodes: ctx.deviceCodes.list() }),
};

/**
 * `POST /device-codes/{user_code}/approve` (`{ "user": "<upn>", "roles"?: [...] }`; without
 * `roles`, the user's active directory roles from the tenant) and
 * `POST /device-codes/{user_code}/deny`: the user's side of the device-code flow.
 */
function deviceCodeDecision(
  ctx: AdminContext,
  res: http.ServerResponse,
  code: string,
  decision: string,
  body: () => Record<string, unknown>,
): void {
  let answer;
  if (decision === "approve") {
    const b = body();
    if (b.roles !== undefined && !Array.isArray(b.roles)) {
      throw new Error("GraphEmulator: 'roles' is a list of directory roles, or left out.");
    }
    // Without roles the user signs in with those the tenant gives it.
    const roles = Array.isArray(b.roles) ? b.roles.map(String) : undefined;
    answer = ctx.deviceCodes.approve(code, typeof b.user === "string" ? b.user : "", roles);
  } else {
    answer = ctx.deviceCodes.decline(code);
  }
  if ("message" in answer) {
    sendJson(res, answer.status, { error: { code: "DeviceCode", message: answer.message } });
  } else {
    sendJson(res, 200, answer);
  }
}

/**
 * Answers an admin request; throws (a 400 of the server) on a body that is not JSON.
 *
 * @param ctx - what the admin API works on
 * @param res - the response
 * @param method - HTTP method
 * @param sub - path after `/admin`, without a trailing slash
 * @param raw - the request body
 * @param query - query options
 */
export function handleAdmin(
  ctx: AdminContext,
  res: http.ServerResponse,
  method: string,
  sub: string,
  raw: string,
  query: URLSearchParams,
): void {
  const body = (): Record<string, unknown> => {
    if (raw.trim() === "") {
      return {};
    }
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new Error("GraphEmulator: the admin request body is not valid JSON.");
    }
  };
  const key = `${method} ${sub}`;
  const route = Object.hasOwn(ADMIN_ROUTES, key) ? ADMIN_ROUTES[key] : undefined;
  if (route) {
    route(ctx, res, body);
    return;
  }
  const devicePath = /^\/device-codes\/([^/]+)\/(approve|deny)$/.exec(sub);
  if (method === "POST" && devicePath) {
    deviceCodeDecision(
      ctx,
      res,
      decodeURIComponent(devicePath[1] ?? ""),
      devicePath[2] ?? "",
      body,
    );
    return;
  }
  const members = /^\/groups\/([^/]+)\/members(?:\/([^/]+))?$/.exec(sub);
  if (members) {
    groupMembers(ctx, res, method, members, body);
    return;
  }
  const userPath = /^\/users\/([^/]+)$/.exec(sub);
  if (method === "PATCH" && userPath) {
    patchUser(ctx, res, decodeURIComponent(userPath[1] ?? ""), body());
    return;
  }
  if (method === "DELETE" && userPath) {
    const id = decodeURIComponent(userPath[1] ?? "");
    if (ctx.usersDelta.deleteUser(id, { hard: query.get("hard") === "true" })) {
      res.writeHead(204).end();
    } else {
      sendJson(res, 404, {
        error: { code: "NotFound", message: `GraphEmulator: no user '${id}' to delete.` },
      });
    }
    return;
  }
  sendJson(res, 404, {
    error: { code: "NotFound", message: `GraphEmulator: no admin route '${method} ${sub}'.` },
  });
}

/**
 * `PATCH /users/{id}` `{ "mobilePhone"?, "businessPhones"?, "otherMails"?, "by"?: "<UPN>" | "byApp"?:
 * "<app name>" }`: changes the user as that actor (default the user `admin@{domain}`), for delta
 * and the audit log; answers `{ changed: [...] }`, 404 for an unknown user.
 */
function patchUser(
  ctx: AdminContext,
  res: http.ServerResponse,
  id: string,
  body: Record<string, unknown>,
): void {
  const { by, byApp, ...rest } = body;
  if (
    (by !== undefined && typeof by !== "string") ||
    (byApp !== undefined && typeof byApp !== "string")
  ) {
    throw new Error("GraphEmulator: 'by' (a UPN) and 'byApp' (an application name) are strings.");
  }
  if (by !== undefined && byApp !== undefined) {
    throw new Error("GraphEmulator: name the actor with 'by' or with 'byApp', not both.");
  }
  const actor: AuditActor | undefined =
    by !== undefined ? { userPrincipalName: by } : byApp !== undefined ? { app: byApp } : undefined;
  const changed = ctx.usersDelta.patchUser(id, readUserPatch(rest), actor);
  if (changed === undefined) {
    sendJson(res, 404, {
      error: { code: "NotFound", message: `GraphEmulator: no user '${id}' to change.` },
    });
    return;
  }
  sendJson(res, 200, { changed });
}

/**
 * `POST /groups/{id}/members` `{ "id": "<user or group id>" }` and
 * `DELETE /groups/{id}/members/{memberId}`: 204 when membership changed, 200 `{changed: false}`
 * when it already was so, 404 for an unknown group, 400 for a member Graph would refuse.
 */
function groupMembers(
  ctx: AdminContext,
  res: http.ServerResponse,
  method: string,
  match: RegExpExecArray,
  body: () => Record<string, unknown>,
): void {
  const groupId = decodeURIComponent(match[1] ?? "");
  const memberInPath = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  if (!ctx.store.findGroup(groupId)) {
    sendJson(res, 404, {
      error: { code: "NotFound", message: `GraphEmulator: no group '${groupId}'.` },
    });
    return;
  }
  let changed: boolean;
  if (method === "POST" && memberInPath === undefined) {
    const id = body().id;
    if (typeof id !== "string" || id === "") {
      throw new Error('GraphEmulator: the body must be { "id": "<user or group id>" }.');
    }
    changed = ctx.store.addGroupMember(groupId, id);
  } else if (method === "DELETE" && memberInPath !== undefined) {
    changed = ctx.store.removeGroupMember(groupId, memberInPath);
  } else {
    sendJson(res, 405, {
      error: { code: "MethodNotAllowed", message: `GraphEmulator: ${method} is not served here.` },
    });
    return;
  }
  if (changed) {
    res.writeHead(204).end();
  } else {
    sendJson(res, 200, { changed: false });
  }
}

/** Streams the state so a million users do not need one giant string. */
function writeStateStream(store: TenantStore, res: http.ServerResponse): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  const users = store.users;
  let i = 0;
  const writeChunk = (): void => {
    while (i < users.length) {
      const end = Math.min(users.length, i + 5000);
      const parts: string[] = [];
      for (; i < end; i++) {
        const u = users[i];
        if (u) {
          parts.push(JSON.stringify(userState(u)));
        }
      }
      const prefix = end <= 5000 ? '{"users":[' : ",";
      if (!res.write(prefix + parts.join(","))) {
        res.once("drain", writeChunk);
        return;
      }
    }
    res.end(users.length === 0 ? '{"users":[]}' : "]}");
  };
  writeChunk();
}
