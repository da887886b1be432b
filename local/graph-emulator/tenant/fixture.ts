import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { roleDefinitionIdOf } from "./roles.js";
import { TENANT_FIXTURE_SCHEMA } from "./schema.js";
import type { FixtureDirectoryRole, FixtureGroup, FixtureUser, TenantFixture } from "./types.js";

/** The `name` of every {@link TenantFixtureError}. */
export const TENANT_FIXTURE_ERROR_NAME = "TenantFixtureError";

/** Options of a {@link TenantFixtureError}. */
export interface TenantFixtureErrorOptions {
  /** JSON pointer of the first offending value (`""` for the whole document). */
  path?: string;
  /** The fixture file, when the fixture came from one. */
  file?: string;
  cause?: unknown;
}

/**
 * A tenant fixture that cannot be used: unreadable, not JSON, not valid against the schema, or
 * inconsistent (duplicate ids, unknown group members, ...). The message names the JSON path of the
 * first problem found.
 */
export class TenantFixtureError extends Error {
  /** Stable machine-readable code: always `invalidTenantFixture`. */
  public readonly code = "invalidTenantFixture";
  /** JSON pointer of the first offending value, when the problem is inside the document. */
  public readonly path: string | undefined;
  /** The fixture file, when the fixture came from one. */
  public readonly file: string | undefined;

  /**
   * @param message - a full sentence, already prefixed by the component.
   * @param options - where the problem is, and what caused it.
   */
  public constructor(message: string, options: TenantFixtureErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = TENANT_FIXTURE_ERROR_NAME;
    this.path = options.path;
    this.file = options.file;
  }
}

let compiled: ValidateFunction | undefined;

// Compiling the schema costs a few milliseconds, so it happens once, on first use.
function schemaValidator(): ValidateFunction {
  if (compiled === undefined) {
    // allErrors stays off: the message reports the first error, and stopping there keeps a
    // million-user fixture cheap to reject.
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    // `date-time` (RFC 3339, with an offset) is the only format the schema uses.
    addFormats.default(ajv, ["date-time"]);
    compiled = ajv.compile(TENANT_FIXTURE_SCHEMA);
  }
  return compiled;
}

function invalidAt(path: string, problem: string, file?: string): TenantFixtureError {
  const where = path === "" ? "the document root" : path;
  return new TenantFixtureError(
    `GraphEmulator: tenant fixture${file === undefined ? "" : ` '${file}'`} is invalid at ${where}: ${problem}.`,
    { path, file },
  );
}

function describeAjvError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const base = (error.message ?? "is not valid").replace(/\.$/, "");
  if (error.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
    return `${base} ('${params.additionalProperty}')`;
  }
  if (error.keyword === "required" && typeof params.missingProperty === "string") {
    return `must have required property '${params.missingProperty}'`;
  }
  return base;
}

/** The first problem of a fixture, with the JSON path it is at. */
interface Problem {
  path: string;
  problem: string;
}

// Roles must name a known role, each once per principal.
function checkRoles(roles: readonly FixtureDirectoryRole[], at: string): Problem | undefined {
  const seen = new Set<string>();
  for (let r = 0; r < roles.length; r++) {
    const { role, eligible } = roles[r]!;
    const id = roleDefinitionIdOf(role);
    if (id === undefined) {
      return {
        path: `${at}/${r}/role`,
        problem: `'${role}' is neither a built-in role the emulator knows nor a role definition id (GUID)`,
      };
    }
    const key = `${id}|${eligible === true}`;
    if (seen.has(key)) {
      return { path: `${at}/${r}`, problem: `the role '${role}' is listed twice` };
    }
    seen.add(key);
  }
  return undefined;
}

// Referential integrity the schema cannot express. Returns the first problem, or undefined: the
// rules run in this order, each pass filling the id indexes the later ones read.
function checkIntegrity(fixture: TenantFixture): Problem | undefined {
  const userIndexById = new Map<string, number>();
  const groupIndexById = new Map<string, number>();
  const groups = fixture.groups ?? [];
  return (
    checkUsers(fixture.users, userIndexById) ??
    checkGroupIds(groups, userIndexById, groupIndexById) ??
    checkGroupMembers(groups, userIndexById, groupIndexById) ??
    checkAuditEvents(fixture, userIndexById) ??
    checkDomains(fixture) ??
    checkPolicyTargets(fixture, groupIndexById)
  );
}

// User ids are unique, UPNs unique ignoring case; fills `userIndexById` on the way.
function checkUsers(
  users: readonly FixtureUser[],
  userIndexById: Map<string, number>,
): Problem | undefined {
  const userIndexByUpn = new Map<string, number>();
  for (let i = 0; i < users.length; i++) {
    const user = users[i]!;
    const previous = userIndexById.get(user.id);
    if (previous !== undefined) {
      return {
        path: `/users/${i}/id`,
        problem: `the user id '${user.id}' is already used by /users/${previous}`,
      };
    }
    userIndexById.set(user.id, i);
    const upnKey = user.userPrincipalName.toLowerCase();
    const previousUpn = userIndexByUpn.get(upnKey);
    if (previousUpn !== undefined) {
      return {
        path: `/users/${i}/userPrincipalName`,
        problem: `the userPrincipalName '${user.userPrincipalName}' is already used by /users/${previousUpn} (UPNs compare case-insensitively)`,
      };
    }
    userIndexByUpn.set(upnKey, i);
    const problem =
      checkPhoneMethods(user, i) ??
      checkRoles(user.directoryRoles ?? [], `/users/${i}/directoryRoles`);
    if (problem !== undefined) {
      return problem;
    }
  }
  return undefined;
}

// One phone method per type, and an alternateMobile only beside a mobile.
function checkPhoneMethods(user: FixtureUser, i: number): Problem | undefined {
  const methods = user.phoneMethods ?? [];
  for (let m = 0; m < methods.length; m++) {
    const type = methods[m]!.phoneType;
    if (methods.findIndex((other) => other.phoneType === type) !== m) {
      return {
        path: `/users/${i}/phoneMethods/${m}/phoneType`,
        problem: `the user '${user.id}' already has a '${type}' phone method; Graph allows one per type`,
      };
    }
  }
  const alternate = methods.findIndex((method) => method.phoneType === "alternateMobile");
  if (alternate !== -1 && !methods.some((method) => method.phoneType === "mobile")) {
    return {
      path: `/users/${i}/phoneMethods/${alternate}/phoneType`,
      problem: `the user '${user.id}' has an 'alternateMobile' phone method without a 'mobile' one, which Graph refuses`,
    };
  }
  return undefined;
}

// Group ids are unique and no user's; fills `groupIndexById` on the way.
function checkGroupIds(
  groups: readonly FixtureGroup[],
  userIndexById: ReadonlyMap<string, number>,
  groupIndexById: Map<string, number>,
): Problem | undefined {
  for (let g = 0; g < groups.length; g++) {
    const id = groups[g]!.id;
    const previous = groupIndexById.get(id);
    if (previous !== undefined) {
      return {
        path: `/groups/${g}/id`,
        problem: `the group id '${id}' is already used by /groups/${previous}`,
      };
    }
    // A member id must name exactly one object, or transitive membership would be ambiguous.
    const user = userIndexById.get(id);
    if (user !== undefined) {
      return {
        path: `/groups/${g}/id`,
        problem: `the group id '${id}' is already used by the user /users/${user}`,
      };
    }
    groupIndexById.set(id, g);
  }
  return undefined;
}

// Members exist (users only in a role-assignable group); only role-assignable groups hold roles.
function checkGroupMembers(
  groups: readonly FixtureGroup[],
  userIndexById: ReadonlyMap<string, number>,
  groupIndexById: ReadonlyMap<string, number>,
): Problem | undefined {
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    const members = group.members;
    for (let m = 0; m < members.length; m++) {
      const member = members[m]!;
      if (!userIndexById.has(member) && !groupIndexById.has(member)) {
        return {
          path: `/groups/${g}/members/${m}`,
          problem: `the member '${member}' is neither a user nor a group of the fixture`,
        };
      }
      if (group.isAssignableToRole === true && groupIndexById.has(member)) {
        return {
          path: `/groups/${g}/members/${m}`,
          problem: `the group '${member}' cannot be a member of the role-assignable group '${group.id}'; Graph allows only users there`,
        };
      }
    }
    if (group.directoryRoles !== undefined && group.isAssignableToRole !== true) {
      return {
        path: `/groups/${g}/directoryRoles`,
        problem: `the group '${group.id}' holds roles but is not role-assignable; set isAssignableToRole: true`,
      };
    }
    const roleProblem = checkRoles(group.directoryRoles ?? [], `/groups/${g}/directoryRoles`);
    if (roleProblem !== undefined) {
      return roleProblem;
    }
  }
  return undefined;
}

// Policy targets are all_users or groups of the fixture; all users cannot be excluded.
function checkPolicyTargets(
  fixture: TenantFixture,
  groupIndexById: ReadonlyMap<string, number>,
): Problem | undefined {
  for (const [method, config] of Object.entries(fixture.authenticationMethodsPolicy ?? {})) {
    const at = `/authenticationMethodsPolicy/${method}`;
    const include = config?.includeTargets ?? [];
    for (let i = 0; i < include.length; i++) {
      const id = include[i]!.id;
      if (id !== "all_users" && !groupIndexById.has(id)) {
        return {
          path: `${at}/includeTargets/${i}/id`,
          problem: `'${id}' is neither all_users nor a group of the fixture`,
        };
      }
    }
    const exclude = config?.excludeTargets ?? [];
    for (let i = 0; i < exclude.length; i++) {
      if (!groupIndexById.has(exclude[i]!.id)) {
        return {
          path: `${at}/excludeTargets/${i}/id`,
          problem: `'${exclude[i]!.id}' is not a group of the fixture (only groups can be excluded)`,
        };
      }
    }
  }
  return undefined;
}

// Domain names are unique (ignoring case), and one verified domain at most is the default.
function checkDomains(fixture: TenantFixture): Problem | undefined {
  const seen = new Set([fixture.tenant.domain.toLowerCase()]);
  let defaults = 0;
  const domains = fixture.tenant.domains ?? [];
  for (let d = 0; d < domains.length; d++) {
    const domain = domains[d]!;
    if (seen.has(domain.id.toLowerCase())) {
      return {
        path: `/tenant/domains/${d}/id`,
        problem: `the domain '${domain.id}' is listed twice (the initial domain counts)`,
      };
    }
    seen.add(domain.id.toLowerCase());
    if (domain.isDefault === true) {
      if (domain.isVerified === false || ++defaults > 1) {
        return {
          path: `/tenant/domains/${d}/isDefault`,
          problem: "only one domain can be the default, and only a verified one",
        };
      }
    }
  }
  return undefined;
}

// Audit events name a user of the fixture and one past moment.
function checkAuditEvents(
  fixture: TenantFixture,
  userIndexById: ReadonlyMap<string, number>,
): Problem | undefined {
  const events = fixture.auditEvents ?? [];
  for (let e = 0; e < events.length; e++) {
    const event = events[e]!;
    if (!userIndexById.has(event.userId)) {
      return {
        path: `/auditEvents/${e}/userId`,
        problem: `the user '${event.userId}' is not a user of the fixture`,
      };
    }
    if ((event.activityDateTime === undefined) === (event.daysAgo === undefined)) {
      return {
        path: `/auditEvents/${e}`,
        problem: "give exactly one of activityDateTime and daysAgo",
      };
    }
    if (event.activityDateTime !== undefined && Date.parse(event.activityDateTime) > Date.now()) {
      return {
        path: `/auditEvents/${e}/activityDateTime`,
        problem: "an audit event cannot lie in the future",
      };
    }
  }
  return undefined;
}

/**
 * Checks that a value is a usable tenant fixture: valid against the contract schema
 * (`tenant-fixture.schema.json`, draft 2020-12) and internally consistent (unique user ids, unique
 * UPNs ignoring case, unique group ids not shared with users, group members that exist, at most one
 * phone method per type, `alternateMobile` only beside `mobile`, directory roles that name a known
 * role once, held by groups only when role-assignable, whose members are users only, audit events of
 * fixture users at one past moment each, unique domains with one verified default at most, policy
 * targets that are all_users or groups of the fixture).
 *
 * The value is returned as is, without schema defaults filled in (see `types.ts` for them).
 *
 * @param value - the parsed JSON of a fixture.
 * @returns the same value, typed.
 * @throws {@link TenantFixtureError} naming the JSON path of the first problem found.
 */
export function validateTenant(value: unknown): TenantFixture {
  return validateWithFile(value, undefined);
}

function validateWithFile(value: unknown, file: string | undefined): TenantFixture {
  const validate = schemaValidator();
  if (!validate(value)) {
    const first = validate.errors?.[0];
    throw invalidAt(
      first?.instancePath ?? "",
      first === undefined ? "is not valid" : describeAjvError(first),
      file,
    );
  }
  const fixture = value as TenantFixture;
  const problem = checkIntegrity(fixture);
  if (problem !== undefined) {
    throw invalidAt(problem.path, problem.problem, file);
  }
  return fixture;
}

// V8's JSON.parse messages quote the text around the error, which may hold a phone number, so
// only the position is kept, turned into a line and column an editor can jump to.
function jsonErrorLocation(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const position = /at position (\d+)/.exec(message);
  if (position === null) {
    const token = /Unexpected token '(.)'/.exec(message);
    if (token !== null) {
      return `unexpected token '${token[1]}'`;
    }
    return /end of (JSON|data)/i.test(message) ? "it ends unexpectedly" : "unexpected content";
  }
  const offset = Number(position[1]);
  const before = text.slice(0, offset).split("\n");
  return `at line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/**
 * Reads, parses and validates a tenant fixture file (see {@link validateTenant}).
 *
 * @param path - the fixture file (JSON, UTF-8, an optional byte order mark is ignored).
 * @returns the validated fixture.
 * @throws {@link TenantFixtureError} when the file cannot be read, is not JSON, or is not valid;
 *   the message names the file.
 */
export async function loadTenantFile(path: string): Promise<TenantFixture> {
  const file = basename(path);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new TenantFixtureError(
      `GraphEmulator: cannot read the tenant fixture file '${path}' (${code}). Check the path given to --tenant-file.`,
      { file, cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new TenantFixtureError(
      `GraphEmulator: the tenant fixture file '${file}' is not valid JSON (${jsonErrorLocation(text, error)}).`,
      { file, cause: error },
    );
  }
  return validateWithFile(value, file);
}
