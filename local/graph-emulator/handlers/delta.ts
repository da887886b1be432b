/**
 * `GET /users/delta` and the user changes that feed it (admin upserts, patches and deletes), which
 * also write "Update user" events to the audit log for the audited properties.
 *
 * Change tracking is a global sequence number bumped once per user change, an append-only log of
 * `(seq, user)` entries and, per changed user, the sequence number at which each property last
 * changed. A delta token holds only a sequence number (plus the round's `$select`/`$filter` and
 * its issue time), so no token snapshots the tenant: answering a token is a binary search in the
 * log followed by a walk over the entries after it.
 */
import type { AuditActor, AuditChange } from "../auditLog.js";
import type { AuditedProperty, EmulatorConfig } from "../config.js";
import { FilterSyntaxError, parseFilter, type FilterNode } from "../odata.js";
import {
  USER_DEFAULT_PROPERTIES,
  USER_PROPERTIES,
  parseSelect,
  project,
  selectContext,
  userObject,
} from "../queries.js";
import { GraphHttpError, ODATA_JSON, configuredError, type GraphResponse } from "../response.js";
import type { TenantStore, UserRec } from "../store.js";
import { validateTenant } from "../tenant/fixture.js";
import type { FixtureUser } from "../tenant/types.js";

/** Page size of delta rounds: the emulator's default user page size (`$top` is refused). */
export const DELTA_PAGE_SIZE = 100;

/** Most ids a delta `$filter` may `or` together (documented limit 50). */
export const DELTA_MAX_FILTER_IDS = 50;

/** Query options `/users/delta` refuses with 400. */
const REFUSED_OPTIONS = ["$top", "$orderby", "$expand", "$skip", "$search", "$count"];

/** User properties whose changes the audit log records (names in `config.auditPropertyNames`). */
const AUDITED: readonly AuditedProperty[] = ["mobilePhone", "businessPhones", "otherMails"];

/** What `patchUser` may change. */
export interface UserPatch {
  mobilePhone?: string | null;
  businessPhones?: string[];
  otherMails?: string[];
}

/**
 * Reads a user patch from untrusted JSON.
 *
 * @param body - the parsed body (other keys are refused)
 * @returns the patch
 * @throws TypeError naming the key or value that is wrong
 */
export function readUserPatch(body: Record<string, unknown>): UserPatch {
  const patch: UserPatch = {};
  const strings = (v: unknown): v is string[] =>
    Array.isArray(v) && v.every((x) => typeof x === "string");
  for (const [key, value] of Object.entries(body)) {
    if (key === "mobilePhone" && (value === null || typeof value === "string")) {
      patch.mobilePhone = value;
    } else if ((key === "businessPhones" || key === "otherMails") && strings(value)) {
      patch[key] = [...value];
    } else {
      throw new TypeError(
        `GraphEmulator: a user patch takes mobilePhone (string or null), businessPhones and otherMails (lists of strings); '${key}' is not one of them or has the wrong type.`,
      );
    }
  }
  return patch;
}

/** Why a user surfaces as `@removed`: `changed` = soft-deleted (restorable), `deleted` = gone. */
export type RemovedReason = "changed" | "deleted";

/** What `UsersDelta` needs from the emulator around it. */
export interface DeltaContext {
  store: TenantStore;
  config: () => EmulatorConfig;
  /** Called after any change of the user set, so membership caches start over. */
  onUsersChanged?: () => void;
}

interface LogEntry {
  seq: number;
  /** Lower-cased user id. */
  key: string;
  /** Sequence number of the same user's following entry, Infinity while this is the latest. */
  next: number;
  removal: boolean;
}

/** The decoded content of a delta or skip token. */
interface TokenBody {
  v: 1;
  /** `d` = delta token, `i` = page of an initial round, `c` = page of a changes round. */
  k: "d" | "i" | "c";
  /** Delta token: synced up to this seq. Pages: the round's lower bound (changes only). */
  from: number;
  /** Pages: the round covers changes up to this seq; delta token: unused (equal to `from`). */
  to: number;
  /** Pages: offset in the user list (initial) or in the change log (changes). */
  o: number;
  /** Initial pages: id of the last user already sent, to resume behind it after removals. */
  a?: string;
  sel: string[] | null;
  f: string[] | null;
  /** Issue time, epoch ms. */
  t: number;
}

// The token of a round's deltaLink: synced up to `seq`, where the next round starts.
function deltaLinkToken(
  seq: number,
  sel: string[] | null,
  f: string[] | null,
): Omit<TokenBody, "v" | "t"> {
  return { k: "d", from: seq, to: seq, o: 0, sel, f };
}

function badToken(): GraphHttpError {
  return new GraphHttpError(
    400,
    "Request_BadRequest",
    "The delta or skip token is not valid for this request.",
  );
}

function isStringArray(v: unknown, max: number): v is string[] {
  return Array.isArray(v) && v.length <= max && v.every((x) => typeof x === "string");
}

/** Reads the ids of an `id eq '…' [or id eq '…']` filter; anything else is a 400. */
function filterIds(raw: string): string[] {
  let node: FilterNode;
  try {
    node = parseFilter(raw);
  } catch (e) {
    if (e instanceof FilterSyntaxError) {
      throw new GraphHttpError(400, "Request_BadRequest", `Invalid filter clause: ${e.message}`);
    }
    throw e;
  }
  const ids: string[] = [];
  const walk = (n: FilterNode): void => {
    if (n.kind === "or") {
      walk(n.left);
      walk(n.right);
      return;
    }
    if (
      n.kind === "cmp" &&
      n.op === "eq" &&
      n.prop.toLowerCase() === "id" &&
      typeof n.value === "string"
    ) {
      ids.push(n.value);
      return;
    }
    throw new GraphHttpError(
      400,
      "Request_UnsupportedQuery",
      "Delta query on users only supports a filter of the form id eq '…', optionally or-ed.",
    );
  };
  walk(node);
  if (ids.length > DELTA_MAX_FILTER_IDS) {
    throw new GraphHttpError(
      400,
      "Request_UnsupportedQuery",
      `Delta query on users supports at most ${DELTA_MAX_FILTER_IDS} ids in a filter; ${ids.length} were given.`,
    );
  }
  return ids;
}

/** Graph writes `$` and `,` literally in its links; URLSearchParams would encode them. */
function queryString(params: URLSearchParams): string {
  return params.toString().replace(/%24/g, "$").replace(/%2C/gi, ",");
}

/** The user change feed and the `/users/delta` route. */
export class UsersDelta {
  private seq = 0;
  private readonly log: LogEntry[] = [];
  private readonly lastEntry = new Map<string, LogEntry>();
  /** Lower-cased id -> property -> seq of its last change. Users never changed are absent. */
  private readonly propSeq = new Map<string, Map<string, number>>();
  /** Lower-cased id -> removal, while the user is out of the directory. */
  private readonly removed = new Map<string, { id: string; reason: RemovedReason }>();

  /** @param ctx - the store, the config and the cache-invalidation hook */
  constructor(private readonly ctx: DeltaContext) {}

  /** The current change sequence number (0 until the first change). */
  get sequence(): number {
    return this.seq;
  }

  private record(key: string, props: readonly string[], removal: boolean): void {
    this.seq++;
    const entry: LogEntry = { seq: this.seq, key, next: Infinity, removal };
    const previous = this.lastEntry.get(key);
    if (previous) {
      previous.next = this.seq;
    }
    this.lastEntry.set(key, entry);
    this.log.push(entry);
    if (props.length > 0) {
      let seqs = this.propSeq.get(key);
      if (!seqs) {
        seqs = new Map();
        this.propSeq.set(key, seqs);
      }
      for (const p of props) {
        seqs.set(p, this.seq);
      }
    }
  }

  /**
   * Creates or updates a user (restoring a soft-deleted one). Only directory-property changes are
   * recorded for delta; phone and other methods in the fixture user replace the user's methods
   * silently, as method writes do not touch user properties.
   *
   * @param user - a user in the tenant-fixture shape (validated against its schema)
   * @returns whether the user was created (or restored) rather than updated
   */
  upsertUser(user: unknown, actor?: AuditActor): { created: boolean } {
    const store = this.ctx.store;
    const fixture = validateTenant({
      tenant: { id: store.tenantId, domain: store.domain },
      users: [user],
    });
    const u = fixture.users[0] as FixtureUser;
    const key = u.id.toLowerCase();
    const existing = store.findUser(u.id);
    const before = existing && existing.id.toLowerCase() === key ? userObject(existing) : undefined;
    const { user: rec, created } = store.upsertUser(u);
    const after = userObject(rec);
    const changed = before
      ? USER_PROPERTIES.filter((p) => JSON.stringify(before[p]) !== JSON.stringify(after[p]))
      : [...USER_PROPERTIES];
    this.removed.delete(key);
    if (changed.length > 0) {
      this.record(key, changed, false);
    }
    if (before) {
      this.audit(rec, before, after, actor ?? store.defaultActor);
    }
    this.ctx.onUsersChanged?.();
    return { created };
  }

  /**
   * Changes some directory properties of an existing user, as an administrator or a provisioning
   * application would: delta reports the change and the audit log records who made it.
   *
   * @param id - user object id
   * @param patch - the properties to change
   * @param actor - who changes them (default the user `admin@{tenant domain}`)
   * @returns the properties that changed, or undefined when there is no such user
   */
  patchUser(id: string, patch: UserPatch, actor?: AuditActor): string[] | undefined {
    const u = this.ctx.store.findUser(id);
    if (!u || u.id.toLowerCase() !== id.toLowerCase()) {
      return undefined;
    }
    const before = userObject(u);
    this.upsertUser(
      {
        id: u.id,
        userPrincipalName: u.userPrincipalName,
        displayName: u.displayName,
        mobilePhone: u.mobilePhone,
        accountEnabled: u.accountEnabled,
        userType: u.userType,
        isAdmin: u.isAdmin,
        createdDateTime: u.createdDateTime,
        otherMails: u.otherMails,
        businessPhones: u.businessPhones,
        ...patch,
      },
      actor,
    );
    const after = userObject(u);
    return Object.keys(patch).filter((p) => JSON.stringify(before[p]) !== JSON.stringify(after[p]));
  }

  /** Writes one "Update user" event for the audited properties that changed, if any. */
  private audit(
    user: UserRec,
    before: Record<string, unknown>,
    after: Record<string, unknown>,
    actor: AuditActor,
  ): void {
    const names = this.ctx.config().auditPropertyNames;
    const changes: AuditChange[] = [];
    for (const p of AUDITED) {
      if (JSON.stringify(before[p]) !== JSON.stringify(after[p])) {
        changes.push({
          name: names[p],
          oldValue: before[p] as string | string[] | null,
          newValue: after[p] as string | string[] | null,
        });
      }
    }
    if (changes.length > 0) {
      this.ctx.store.audits.record(Date.now(), user, changes, actor);
    }
  }

  /**
   * Deletes a user. A soft delete (`changed`) can be undone by upserting the user again; a hard
   * delete (`deleted`) also turns an earlier soft delete into a permanent one.
   *
   * @param id - user object id
   * @param opts - `hard: true` for a permanent delete
   * @returns false when there is no such user (nor a soft-deleted one to delete for good)
   */
  deleteUser(id: string, opts: { hard?: boolean } = {}): boolean {
    const key = id.toLowerCase();
    const reason: RemovedReason = opts.hard ? "deleted" : "changed";
    const rec = this.ctx.store.findUser(id);
    if (rec && rec.id.toLowerCase() === key) {
      this.ctx.store.removeUser(rec.id);
      this.removed.set(key, { id: rec.id, reason });
      this.record(key, [], true);
      this.ctx.onUsersChanged?.();
      return true;
    }
    const soft = this.removed.get(key);
    if (soft && soft.reason === "changed" && opts.hard) {
      soft.reason = "deleted";
      this.record(key, [], true);
      return true;
    }
    return false;
  }

  /**
   * Answers `GET /users/delta` (first call, nextLink or deltaLink).
   *
   * @param query - the request's query options
   * @param headers - request headers, names lower-cased (`prefer` is read)
   * @param root - absolute Graph root with version, e.g. `https://127.0.0.1:1234/v1.0`
   * @returns a 200 answer; failures are thrown as `GraphHttpError`
   */
  handle(
    query: URLSearchParams,
    headers: Record<string, string | undefined>,
    root: string,
  ): GraphResponse {
    for (const option of REFUSED_OPTIONS) {
      if (query.has(option)) {
        throw new GraphHttpError(
          400,
          "Request_BadRequest",
          `The query option '${option}' is not supported with delta query on users.`,
        );
      }
    }
    const skipToken = query.get("$skiptoken");
    const deltaToken = query.get("$deltatoken");
    if (skipToken !== null && deltaToken !== null) {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        "A delta request cannot carry both '$skiptoken' and '$deltatoken'.",
      );
    }
    const minimal = (headers.prefer ?? "")
      .split(",")
      .some((p) => p.trim().toLowerCase() === "return=minimal");
    if (skipToken === null && (deltaToken === null || deltaToken.toLowerCase() === "latest")) {
      // Query options count only here: later calls carry them inside the tokens.
      const sel =
        parseSelect(query.get("$select"), USER_PROPERTIES, "microsoft.graph.user") ?? null;
      const rawFilter = query.get("$filter");
      const f = rawFilter === null ? null : filterIds(rawFilter);
      if (deltaToken !== null) {
        return this.answer(root, sel, [], deltaLinkToken(this.seq, sel, f));
      }
      return this.initialPage(root, { from: 0, to: this.seq, o: 0, sel, f });
    }
    const token = this.decode((skipToken ?? deltaToken) as string);
    if ((skipToken !== null) === (token.k === "d")) {
      throw badToken();
    }
    const config = this.ctx.config();
    const lifetimeMs = config.deltaTokenLifetimeSeconds * config.timeScale * 1000;
    if (Date.now() - token.t > lifetimeMs) {
      throw configuredError(config.deltaTokenExpiredError, {
        Location: this.initialUrl(root, token.sel, token.f),
      });
    }
    if (token.k === "i") {
      return this.initialPage(root, token);
    }
    if (token.k === "d") {
      return this.changesPage(
        root,
        {
          from: token.from,
          to: this.seq,
          o: this.firstAfter(token.from),
          sel: token.sel,
          f: token.f,
        },
        minimal,
      );
    }
    return this.changesPage(root, token, minimal);
  }

  private decode(raw: string): TokenBody {
    let v: Partial<TokenBody>;
    try {
      v = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Partial<TokenBody>;
    } catch {
      throw badToken();
    }
    const nat = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0;
    const ok =
      typeof v === "object" &&
      v !== null &&
      v.v === 1 &&
      (v.k === "d" || v.k === "i" || v.k === "c") &&
      nat(v.from) &&
      nat(v.to) &&
      nat(v.o) &&
      typeof v.t === "number" &&
      v.from <= v.to &&
      // A token from the future (another emulator, or tampered) cannot be answered honestly.
      v.to <= this.seq &&
      (v.a === undefined || typeof v.a === "string") &&
      (v.sel === null ||
        (isStringArray(v.sel, USER_PROPERTIES.length) &&
          v.sel.every((p) => (USER_PROPERTIES as readonly string[]).includes(p)))) &&
      (v.f === null || isStringArray(v.f, DELTA_MAX_FILTER_IDS));
    if (!ok) {
      throw badToken();
    }
    return v as TokenBody;
  }

  private encode(body: Omit<TokenBody, "v" | "t">): string {
    const full: TokenBody = { v: 1, ...body, t: Date.now() };
    return Buffer.from(JSON.stringify(full)).toString("base64url");
  }

  private initialUrl(root: string, sel: string[] | null, f: string[] | null): string {
    const params = new URLSearchParams();
    if (sel) {
      params.set("$select", sel.join(","));
    }
    if (f) {
      params.set("$filter", f.map((id) => `id eq '${id.replace(/'/g, "''")}'`).join(" or "));
    }
    const qs = queryString(params);
    return `${root}/users/delta${qs ? `?${qs}` : ""}`;
  }

  /** Index of the first log entry with a sequence number above `seq`. */
  private firstAfter(seq: number): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[mid] as LogEntry).seq <= seq) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private answer(
    root: string,
    sel: string[] | null,
    value: Record<string, unknown>[],
    link: Omit<TokenBody, "v" | "t">,
    extraHeaders: Record<string, string> = {},
  ): GraphResponse {
    const body: Record<string, unknown> = {
      "@odata.context": `${root}/$metadata#users${selectContext(sel)}`,
    };
    const token = this.encode(link);
    if (link.k === "d") {
      body["@odata.deltaLink"] = `${root}/users/delta?$deltatoken=${token}`;
    } else {
      body["@odata.nextLink"] = `${root}/users/delta?$skiptoken=${token}`;
    }
    body.value = value;
    return { status: 200, headers: { "Content-Type": ODATA_JSON, ...extraHeaders }, body };
  }

  private full(u: UserRec, sel: string[] | null): Record<string, unknown> {
    const props = sel ?? USER_DEFAULT_PROPERTIES;
    // Delta always returns the id, selected or not.
    return { id: u.id, ...project(userObject(u), props) };
  }

  private initialPage(
    root: string,
    t: Pick<TokenBody, "to" | "o" | "a" | "sel" | "f"> & { from: number },
  ): GraphResponse {
    const store = this.ctx.store;
    if (t.f) {
      // A filtered round is at most 50 users: one page, looked up by id.
      const value: Record<string, unknown>[] = [];
      for (const id of t.f) {
        const u = store.findUser(id);
        if (u && u.id.toLowerCase() === id.toLowerCase()) {
          value.push(this.full(u, t.sel));
        }
      }
      return this.answer(root, t.sel, value, deltaLinkToken(t.to, t.sel, t.f));
    }
    const users = store.users;
    let start = t.o;
    if (t.a !== undefined) {
      const after = store.findUser(t.a);
      if (after && after.id === t.a) {
        start = after.index + 1;
      } else {
        // The last user sent is gone: step back over every removal since the round began, so
        // the shift of later users can only replay a user, never skip one.
        let removals = 0;
        for (let i = this.firstAfter(t.to); i < this.log.length; i++) {
          if ((this.log[i] as LogEntry).removal) {
            removals++;
          }
        }
        start = Math.max(0, t.o - removals);
      }
    }
    const end = Math.min(users.length, start + DELTA_PAGE_SIZE);
    const value: Record<string, unknown>[] = [];
    for (let i = start; i < end; i++) {
      value.push(this.full(users[i] as UserRec, t.sel));
    }
    if (end < users.length) {
      const last = users[end - 1];
      const next: Omit<TokenBody, "v" | "t"> = {
        k: "i",
        from: 0,
        to: t.to,
        o: end,
        sel: t.sel,
        f: null,
      };
      if (last) {
        next.a = last.id;
      }
      return this.answer(root, t.sel, value, next);
    }
    return this.answer(root, t.sel, value, deltaLinkToken(t.to, t.sel, null));
  }

  private changesPage(
    root: string,
    t: Pick<TokenBody, "from" | "to" | "o" | "sel" | "f">,
    minimal: boolean,
  ): GraphResponse {
    const filter = t.f ? new Set(t.f.map((id) => id.toLowerCase())) : undefined;
    const props = t.sel ?? USER_DEFAULT_PROPERTIES;
    const value: Record<string, unknown>[] = [];
    let i = t.o;
    for (; i < this.log.length && value.length < DELTA_PAGE_SIZE; i++) {
      const e = this.log[i] as LogEntry;
      if (e.seq > t.to) {
        break;
      }
      // A later entry of the same user inside this round answers for it.
      if (e.next <= t.to || (filter && !filter.has(e.key))) {
        continue;
      }
      const gone = this.removed.get(e.key);
      if (gone) {
        value.push({ id: gone.id, "@removed": { reason: gone.reason } });
        continue;
      }
      const u = this.ctx.store.findUser(e.key);
      if (!u || u.id.toLowerCase() !== e.key) {
        continue;
      }
      const seqs = this.propSeq.get(e.key);
      const changed = props.filter((p) => (seqs?.get(p) ?? 0) > t.from);
      if (changed.length === 0) {
        // Only properties outside `$select` changed.
        continue;
      }
      if (minimal) {
        value.push({ id: u.id, ...project(userObject(u), changed) });
      } else {
        value.push(this.full(u, t.sel));
      }
    }
    const applied: Record<string, string> = minimal
      ? { "Preference-Applied": "return=minimal" }
      : {};
    const more = i < this.log.length && (this.log[i] as LogEntry).seq <= t.to;
    if (more) {
      return this.answer(
        root,
        t.sel,
        value,
        { k: "c", from: t.from, to: t.to, o: i, sel: t.sel, f: t.f },
        applied,
      );
    }
    return this.answer(root, t.sel, value, deltaLinkToken(t.to, t.sel, t.f), applied);
  }
}
