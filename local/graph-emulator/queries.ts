/**
 * Query-option handling shared by the collection routes: `$top`, `$select`, `$skiptoken`, paging
 * and next links, the advanced-query parameters, and the filter validation rules of users, groups
 * and the registration report.
 */
import type { GraphRequest } from "./request.js";
import { GraphHttpError } from "./response.js";
import {
  FilterSyntaxError,
  compileFilter,
  forEachLeaf,
  parseFilter,
  type FilterNode,
  type Literal,
} from "./odata.js";
import type { GroupRec, ReportRow, UserRec } from "./store.js";

/** Properties a user object can return. */
export const USER_PROPERTIES = [
  "id",
  "userPrincipalName",
  "displayName",
  "mobilePhone",
  "accountEnabled",
  "userType",
  "mail",
  "givenName",
  "surname",
  "jobTitle",
  "officeLocation",
  "preferredLanguage",
  "businessPhones",
  "createdDateTime",
  "otherMails",
] as const;

/** Properties returned without `$select` (documented default set). */
export const USER_DEFAULT_PROPERTIES = [
  "businessPhones",
  "displayName",
  "givenName",
  "id",
  "jobTitle",
  "mail",
  "mobilePhone",
  "officeLocation",
  "preferredLanguage",
  "surname",
  "userPrincipalName",
];

/** Properties a group object can return. */
export const GROUP_PROPERTIES = [
  "id",
  "displayName",
  "description",
  "mail",
  "mailEnabled",
  "securityEnabled",
  "groupTypes",
  "isAssignableToRole",
];

/**
 * Reads `$top`; throws the documented 400 outside 1..max.
 *
 * @param raw - the option value or null
 * @param def - page size without `$top`
 * @param max - largest accepted value
 * @param code - Graph error code of the 400
 */
export function parseTop(
  raw: string | null,
  def: number,
  max: number,
  code = "Request_BadRequest",
): number {
  if (raw === null) {
    return def;
  }
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new GraphHttpError(
      400,
      code,
      `Invalid page size specified: '${raw}'. Must be between 1 and ${max} inclusive.`,
    );
  }
  return n;
}

/**
 * Reads `$select` against the properties a type has.
 *
 * @param raw - the option value or null
 * @param allowed - known property names
 * @param typeName - for the error message, e.g. 'microsoft.graph.user'
 * @returns property names in the requested order, or undefined without `$select`
 */
export function parseSelect(
  raw: string | null,
  allowed: readonly string[],
  typeName: string,
): string[] | undefined {
  if (raw === null) {
    return undefined;
  }
  const out: string[] = [];
  for (const part of raw.split(",")) {
    const name = part.trim();
    if (name === "") {
      continue;
    }
    const match = allowed.find((a) => a.toLowerCase() === name.toLowerCase());
    if (!match) {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        `Could not find a property named '${name}' on type '${typeName}'.`,
      );
    }
    if (!out.includes(match)) {
      out.push(match);
    }
  }
  return out;
}

/**
 * Encodes a paging position into an opaque `$skiptoken`.
 *
 * @param kind - what is paged (tokens of one collection are refused by another)
 * @param offset - index of the next item to consider
 */
export function encodeSkipToken(kind: string, offset: number): string {
  return Buffer.from(JSON.stringify({ k: kind, o: offset })).toString("base64url");
}

/**
 * Decodes a `$skiptoken` made by `encodeSkipToken`; throws 400 for anything else.
 *
 * @param raw - the option value or null (first page)
 * @param kind - what is paged
 */
export function decodeSkipToken(raw: string | null, kind: string): number {
  if (raw === null) {
    return 0;
  }
  try {
    const v = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as {
      k?: unknown;
      o?: unknown;
    };
    if (v.k === kind && typeof v.o === "number" && Number.isInteger(v.o) && v.o >= 0) {
      return v.o;
    }
  } catch {
    // Falls through to the 400 below.
  }
  throw new GraphHttpError(
    400,
    "Request_BadRequest",
    "The specified page token value has expired and can no longer be included in your request.",
  );
}

/**
 * Refuses `$skip`, which the directory collections do not support.
 *
 * @param q - query options
 * @param code - Graph error code of the 400
 */
export function rejectSkip(q: URLSearchParams, code = "Request_BadRequest"): void {
  if (q.has("$skip")) {
    throw new GraphHttpError(400, code, "'$skip' is not supported by the service.");
  }
}

/**
 * Reads the advanced-query parameters: the `ConsistencyLevel: eventual` header and `$count`.
 *
 * @param req - the request
 * @returns whether each is present; a `$count` other than true/false is a 400
 */
export function advancedParams(req: GraphRequest): { eventual: boolean; count: boolean } {
  const eventual = (req.headers.consistencylevel ?? "").trim().toLowerCase() === "eventual";
  const rawCount = req.query.get("$count");
  if (rawCount !== null && rawCount !== "true" && rawCount !== "false") {
    throw new GraphHttpError(400, "Request_BadRequest", `Invalid value '${rawCount}' for $count.`);
  }
  return { eventual, count: rawCount === "true" };
}

/**
 * The `@odata.nextLink` of a page: the same query with a new `$skiptoken`.
 *
 * @param root - absolute Graph root with the version
 * @param path - collection path after the root
 * @param q - the request's query options
 * @param token - the next page's skip token
 */
export function nextLink(root: string, path: string, q: URLSearchParams, token: string): string {
  const params = new URLSearchParams(q);
  params.delete("$skiptoken");
  params.set("$skiptoken", token);
  // Graph writes `$` literally in its links; URLSearchParams would encode it as %24.
  return `${root}/${path}?${params.toString().replace(/%24/g, "$")}`;
}

/**
 * One page of the items that match, from an offset.
 *
 * @param items - the whole collection
 * @param start - offset of the first item to consider
 * @param top - page size
 * @param match - the filter
 * @returns the page and the offset of the next page, undefined on the last page
 */
export function page<T>(
  items: ArrayLike<T>,
  start: number,
  top: number,
  match: (x: T) => boolean,
): { found: T[]; next: number | undefined } {
  const found: T[] = [];
  let i = start;
  for (; i < items.length && found.length < top; i++) {
    const x = items[i] as T;
    if (match(x)) {
      found.push(x);
    }
  }
  // Looks ahead so the last page carries no nextLink.
  for (let j = i; j < items.length; j++) {
    if (match(items[j] as T)) {
      return { found, next: i };
    }
  }
  return { found, next: undefined };
}

/**
 * How many items match.
 *
 * @param items - the whole collection
 * @param match - the filter
 */
export function countMatching<T>(items: ArrayLike<T>, match: (x: T) => boolean): number {
  let n = 0;
  for (let i = 0; i < items.length; i++) {
    if (match(items[i] as T)) {
      n++;
    }
  }
  return n;
}

/**
 * The `(a,b)` an `@odata.context` carries after the entity set for a `$select`.
 *
 * @param select - the selected properties; none without `$select` (then "")
 */
export function selectContext(select: readonly string[] | null | undefined): string {
  return select ? `(${select.join(",")})` : "";
}

/** What {@link collectionPage} needs beside the items. */
export interface CollectionPageOptions<T> {
  /** Absolute Graph root with the version. */
  root: string;
  /** The request's query options; `$skiptoken` is read here. */
  q: URLSearchParams;
  /** Collection path after the root, for the next link. */
  path: string;
  /** `@odata.context` after `$metadata#`, e.g. `users(id,displayName)`. */
  context: string;
  /** What this collection's skip tokens are bound to (see `encodeSkipToken`). */
  tokenKind: string;
  top: number;
  match: (item: T) => boolean;
  /** Whether the first page carries `@odata.count`, the number of all matching items. */
  count: boolean;
  /** The item as the answer shows it. */
  toValue: (item: T) => Record<string, unknown>;
}

/**
 * One page of a paged collection as Graph answers it: `@odata.context`, `@odata.count` when
 * asked for on the first page, `@odata.nextLink` unless it is the last page, then `value`.
 * Decodes `$skiptoken` (a 400 for a foreign or malformed one).
 *
 * @param items - the whole collection
 * @param o - the query, paths and item view
 * @returns the response body
 */
export function collectionPage<T>(
  items: ArrayLike<T>,
  o: CollectionPageOptions<T>,
): Record<string, unknown> {
  const token = o.q.get("$skiptoken");
  const { found, next } = page(items, decodeSkipToken(token, o.tokenKind), o.top, o.match);
  const body: Record<string, unknown> = { "@odata.context": `${o.root}/$metadata#${o.context}` };
  if (o.count && token === null) {
    body["@odata.count"] = countMatching(items, o.match);
  }
  if (next !== undefined) {
    body["@odata.nextLink"] = nextLink(o.root, o.path, o.q, encodeSkipToken(o.tokenKind, next));
  }
  body.value = found.map((item) => o.toValue(item));
  return body;
}

function parse(raw: string, code: string): FilterNode {
  try {
    return parseFilter(raw);
  } catch (e) {
    if (e instanceof FilterSyntaxError) {
      throw new GraphHttpError(400, code, `Invalid filter clause: ${e.message}`);
    }
    throw e;
  }
}

function incompatible(): GraphHttpError {
  return new GraphHttpError(
    400,
    "Request_BadRequest",
    "A binary operator with incompatible types was detected.",
  );
}

function strEq(a: string | null, b: Literal): boolean {
  if (b === null) {
    return a === null;
  }
  return typeof b === "string" && a !== null && a.toLowerCase() === b.toLowerCase();
}

/** A compiled user filter and whether it needs advanced query parameters. */
export interface UserFilter {
  predicate: (u: UserRec) => boolean;
  /** The first clause that makes the query advanced, for the 400 message. */
  advancedReason?: string;
}

/**
 * Compiles a `$filter` on users with the documented default/advanced split.
 *
 * @param raw - the filter text
 */
export function compileUserFilter(raw: string): UserFilter {
  const node = parse(raw, "Request_BadRequest");
  let advancedReason: string | undefined;
  forEachLeaf(node, (leaf, negated) => {
    if (negated && !advancedReason) {
      advancedReason = "Operator 'not' is not supported";
    }
    if (leaf.kind === "cmp" && leaf.op === "ne" && !advancedReason) {
      advancedReason = "Operator 'ne' is not supported";
    }
    const prop = leaf.prop.toLowerCase();
    if (leaf.kind === "any") {
      throw unsupportedProperty(leaf.prop);
    }
    if (prop === "mobilephone" && !advancedReason) {
      advancedReason = `Operator '${leaf.kind === "startsWith" ? "startsWith" : leaf.op}' on 'mobilePhone' is not supported`;
    }
    if (prop === "usertype" && leaf.kind === "cmp" && leaf.value === null && !advancedReason) {
      advancedReason = "Filtering 'userType' on null is not supported";
    }
    if (
      ![
        "accountenabled",
        "usertype",
        "mobilephone",
        "id",
        "userprincipalname",
        "displayname",
        "mail",
      ].includes(prop)
    ) {
      throw unsupportedProperty(leaf.prop);
    }
  });
  const predicate = compileFilter<UserRec>(node, (leaf) => {
    const prop = leaf.prop.toLowerCase();
    if (leaf.kind === "startsWith") {
      const v = leaf.value.toLowerCase();
      const get = userString(prop);
      return (u) => (get(u) ?? "").toLowerCase().startsWith(v);
    }
    if (leaf.kind !== "cmp") {
      throw unsupportedProperty(leaf.prop);
    }
    const neg = leaf.op === "ne";
    const value = leaf.value;
    if (prop === "accountenabled") {
      if (typeof value !== "boolean") {
        throw incompatible();
      }
      return (u) => (u.accountEnabled === value) !== neg;
    }
    if (value !== null && typeof value !== "string") {
      throw incompatible();
    }
    const get = userString(prop);
    return (u) => strEq(get(u), value) !== neg;
  });
  return advancedReason ? { predicate, advancedReason } : { predicate };
}

function userString(prop: string): (u: UserRec) => string | null {
  switch (prop) {
    case "usertype":
      return (u) => u.userType;
    case "mobilephone":
      return (u) => u.mobilePhone;
    case "id":
      return (u) => u.id;
    case "userprincipalname":
      return (u) => u.userPrincipalName;
    case "displayname":
      return (u) => u.displayName;
    default:
      return () => null;
  }
}

function unsupportedProperty(prop: string, resource = "User"): GraphHttpError {
  return new GraphHttpError(
    400,
    "Request_UnsupportedQuery",
    `Unsupported or invalid query filter clause specified for property '${prop}' of resource '${resource}'.`,
  );
}

/**
 * Compiles a `$filter` on groups (`displayName`/`id` eq, `startsWith(displayName,...)`).
 *
 * @param raw - the filter text
 */
export function compileGroupFilter(raw: string): (g: GroupRec) => boolean {
  const node = parse(raw, "Request_BadRequest");
  return compileFilter<GroupRec>(node, (leaf) => {
    const prop = leaf.prop.toLowerCase();
    if (prop !== "displayname" && prop !== "id") {
      throw unsupportedProperty(leaf.prop, "Group");
    }
    const get = prop === "id" ? (g: GroupRec) => g.id : (g: GroupRec) => g.displayName;
    if (leaf.kind === "startsWith") {
      const v = leaf.value.toLowerCase();
      return (g) => get(g).toLowerCase().startsWith(v);
    }
    if (leaf.kind !== "cmp" || typeof leaf.value !== "string") {
      throw leaf.kind === "cmp" ? incompatible() : unsupportedProperty(leaf.prop, "Group");
    }
    const v = leaf.value.toLowerCase();
    const neg = leaf.op === "ne";
    return (g) => (get(g).toLowerCase() === v) !== neg;
  });
}

const REPORT_BOOLEANS = [
  "isAdmin",
  "isSsprRegistered",
  "isSsprEnabled",
  "isSsprCapable",
  "isMfaRegistered",
  "isMfaCapable",
  "isPasswordlessCapable",
  "isSystemPreferredAuthenticationMethodEnabled",
] as const;

const REPORT_STRINGS = ["id", "userPrincipalName", "userDisplayName", "userType"] as const;

const REPORT_COLLECTIONS = ["methodsRegistered", "systemPreferredAuthenticationMethods"] as const;

/** Properties a report row can return. */
export const REPORT_PROPERTIES = [
  ...REPORT_STRINGS,
  ...REPORT_BOOLEANS,
  ...REPORT_COLLECTIONS,
  "userPreferredMethodForSecondaryAuthentication",
  "lastUpdatedDateTime",
];

function reportBadFilter(detail: string): GraphHttpError {
  return new GraphHttpError(400, "BadRequest", `Invalid filter clause: ${detail}`);
}

function findName<T extends string>(list: readonly T[], name: string): T | undefined {
  return list.find((n) => n.toLowerCase() === name.toLowerCase());
}

/**
 * Compiles a `$filter` on `userRegistrationDetails`.
 *
 * @param raw - the filter text
 */
export function compileReportFilter(raw: string): (r: ReportRow) => boolean {
  const node = parse(raw, "BadRequest");
  return compileFilter<ReportRow>(node, (leaf) => {
    if (leaf.kind === "any") {
      const coll = findName(REPORT_COLLECTIONS, leaf.prop);
      if (!coll || typeof leaf.value !== "string") {
        throw reportBadFilter(`'${leaf.prop}/any' is not supported.`);
      }
      const v = leaf.value.toLowerCase();
      return (r) => r[coll].some((m) => m.toLowerCase() === v);
    }
    const bool = findName(REPORT_BOOLEANS, leaf.prop);
    if (bool) {
      if (leaf.kind !== "cmp" || typeof leaf.value !== "boolean") {
        throw reportBadFilter(`'${bool}' can only be compared with true or false.`);
      }
      const v = leaf.value;
      const neg = leaf.op === "ne";
      return (r) => (r[bool] === v) !== neg;
    }
    const str = findName(REPORT_STRINGS, leaf.prop);
    if (str) {
      if (leaf.kind === "startsWith") {
        const v = leaf.value.toLowerCase();
        return (r) => r[str].toLowerCase().startsWith(v);
      }
      if (leaf.kind !== "cmp" || typeof leaf.value !== "string") {
        throw reportBadFilter(`'${str}' can only be compared with a string.`);
      }
      const v = leaf.value.toLowerCase();
      const neg = leaf.op === "ne";
      return (r) => (r[str].toLowerCase() === v) !== neg;
    }
    throw reportBadFilter(`property '${leaf.prop}' is not filterable.`);
  });
}

/**
 * Projects an object onto selected properties.
 *
 * @param full - the object with all properties
 * @param props - properties to keep
 */
export function project(
  full: Record<string, unknown>,
  props: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of props) {
    out[p] = full[p] ?? null;
  }
  return out;
}

/**
 * The full user object as Graph returns it.
 *
 * @param u - the user
 */
export function userObject(u: UserRec): Record<string, unknown> {
  return {
    id: u.id,
    userPrincipalName: u.userPrincipalName,
    displayName: u.displayName,
    mobilePhone: u.mobilePhone,
    accountEnabled: u.accountEnabled,
    userType: u.userType,
    mail: null,
    givenName: null,
    surname: null,
    jobTitle: null,
    officeLocation: null,
    preferredLanguage: null,
    businessPhones: [...u.businessPhones],
    createdDateTime: u.createdDateTime,
    otherMails: [...u.otherMails],
  };
}
