/**
 * The emulator's tenant state: users indexed by id and lower-cased UPN, groups with cached
 * transitive membership, phone methods with their fixed ids, SMS sign-in numbers, and the
 * registration report derived on the fly (with a configurable lag).
 */
import type {
  FixtureDirectoryRole,
  FixtureDomain,
  FixtureMethodConfiguration,
  FixtureUser,
  MethodConfigurationId,
  OtherMethod,
  PhoneType,
  TenantFixture,
} from "./tenant/types.js";
import type { EmulatorConfig } from "./config.js";
import { configuredError, methodNotFound } from "./response.js";
import { AuditLog, type AuditChange } from "./auditLog.js";
import { RoleGrants } from "./roleGrants.js";

/** Fixed phone-method ids per type (identical in every tenant). */
export const PHONE_METHOD_IDS: Record<PhoneType, string> = {
  mobile: "3179e48a-750b-4051-897c-87b9720928f7",
  alternateMobile: "b6332ec1-7057-4abe-9331-3d72feddfe41",
  office: "e37fc753-ff3b-4958-9484-eaa9425c82bc",
};

/** Fixed id of the email method (a user has at most one). */
export const EMAIL_METHOD_ID = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f";

/** What makes an address usable for the email method the fixture names without an address. */
const USABLE_EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Fixed id of the password method. */
export const PASSWORD_METHOD_ID = "28c10230-6103-485e-b985-444c60001490";

/** The three phone types in the order Graph lists them. */
export const PHONE_TYPES: PhoneType[] = ["mobile", "alternateMobile", "office"];

/** A phone method held by a user. */
export interface PhoneRec {
  phoneNumber: string;
  smsSignInState: string;
}

/** A user in the emulator's state. */
export interface UserRec {
  /** Position in the user list (stable, used for paging). */
  index: number;
  id: string;
  userPrincipalName: string;
  displayName: string;
  mobilePhone: string | null;
  accountEnabled: boolean;
  userType: "Member" | "Guest";
  isAdmin: boolean;
  /** In a restricted management administrative unit: its methods cannot be written. */
  restrictedManagement: boolean;
  /** The registration report has no row for the user (yet). */
  notInReport: boolean;
  phones: Partial<Record<PhoneType, PhoneRec>>;
  /** Includes `email` exactly when `emailAddress` is set. */
  otherMethods: OtherMethod[];
  /** Address of the email authentication method, or null without one. */
  emailAddress: string | null;
  /** ISO 8601, never changes once the user exists. */
  createdDateTime: string;
  otherMails: string[];
  businessPhones: string[];
  /** Directory roles as the fixture gave them; undefined = none beyond what `isAdmin` implies. */
  directoryRoles: FixtureDirectoryRole[] | undefined;
  /** Phone types the report still shows while a change is within the report lag. */
  reportPhonesBefore?: PhoneType[];
  /** Other methods the report still shows while a change is within the report lag. */
  reportOtherBefore?: OtherMethod[];
  /** Real time of the last phone change, epoch ms (0 = never). */
  changedAtMs: number;
}

/** A group in the emulator's state. */
export interface GroupRec {
  id: string;
  displayName: string;
  members: string[];
  isAssignableToRole: boolean;
  directoryRoles: FixtureDirectoryRole[];
}

/** One membership change, kept so a lagging index can answer as of before it. */
interface MembershipChange {
  group: GroupRec;
  memberId: string;
  op: "add" | "remove";
  atMs: number;
}

/** A row of `userRegistrationDetails`. */
export interface ReportRow {
  id: string;
  userPrincipalName: string;
  userDisplayName: string;
  userType: "member" | "guest";
  isAdmin: boolean;
  isSsprRegistered: boolean;
  isSsprEnabled: boolean;
  isSsprCapable: boolean;
  isMfaRegistered: boolean;
  isMfaCapable: boolean;
  isPasswordlessCapable: boolean;
  methodsRegistered: string[];
  isSystemPreferredAuthenticationMethodEnabled: boolean;
  systemPreferredAuthenticationMethods: string[];
  userPreferredMethodForSecondaryAuthentication: string;
  lastUpdatedDateTime: string;
}

/** Result of a phone-method create. */
export interface CreateResult {
  method: PhoneRec;
  /** The SMS sign-in number is held by another user: answer 409 although the method exists. */
  notUnique: boolean;
}

const REPORT_NAMES: Record<PhoneType, string> = {
  mobile: "mobilePhone",
  alternateMobile: "alternateMobilePhone",
  office: "officePhone",
};

const NON_MFA: ReadonlySet<string> = new Set(["email", "temporaryAccessPass"]);
/**
 * Methods SSPR accepts besides the mobile and office phones (entra-docs "Authentication and
 * verification methods": Authenticator push and codes, software and hardware OATH, email); not
 * passkeys, Windows Hello, the Temporary Access Pass, nor an alternate mobile phone.
 */
const SSPR_OTHER: ReadonlySet<string> = new Set([
  "microsoftAuthenticatorPush",
  "softwareOneTimePasscode",
  "hardwareOneTimePasscode",
  "email",
]);
const PASSWORDLESS: ReadonlySet<string> = new Set([
  "fido2SecurityKey",
  "passKeyDeviceBound",
  "windowsHelloForBusiness",
]);

/** How long before the emulator started a fixture user without `createdDateTime` was created. */
const LONG_AGO_MS = 400 * 24 * 3600 * 1000;

/**
 * A date and time as Graph writes it: UTC, whole seconds, `Z`.
 *
 * @param ms - epoch milliseconds
 */
export function graphDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function normalizeNumber(n: string): string {
  return n.replace(/\s+/g, "").toLowerCase();
}

/** The mutable tenant. */
export class TenantStore {
  readonly tenantId: string;
  readonly domain: string;
  readonly premium: boolean;
  readonly smsSignInEnabled: boolean;
  /** Entra ID P2: PIM eligibility can be read. */
  readonly pim: boolean;
  /** Domains beside the initial one, as the fixture lists them. */
  readonly domains: readonly FixtureDomain[];
  /** The authentication methods policy's configurations the fixture sets (others: defaults). */
  readonly methodsPolicy: Readonly<
    Partial<Record<MethodConfigurationId, FixtureMethodConfiguration>>
  >;

  readonly users: UserRec[] = [];
  readonly groups: GroupRec[] = [];
  private readonly byId = new Map<string, UserRec>();
  private readonly byUpn = new Map<string, UserRec>();
  private readonly groupById = new Map<string, GroupRec>();
  private readonly transitiveCache = new Map<string, { users: UserRec[]; groups: GroupRec[] }>();
  /** Normalised number -> user holding it for SMS sign-in. */
  private readonly smsHolders = new Map<string, UserRec>();
  private readonly startedIso = new Date().toISOString();
  /** Bumped on every change of users or groups, so derived views know when to start over. */
  private changeCount = 0;
  /** Membership changes made through the admin API, oldest first. */
  private readonly membershipLog: MembershipChange[] = [];
  /** Who holds which directory role, derived from users and groups. */
  readonly roles = new RoleGrants(this);
  /** The directory audit log ("Update user" events). */
  readonly audits = new AuditLog();
  /** `createdDateTime` of users whose fixture leaves it out: long before any run. */
  readonly longAgoIso = graphDateTime(Date.parse(this.startedIso) - LONG_AGO_MS);

  /**
   * @param fixture - the tenant fixture (not kept; the store copies what it needs)
   */
  constructor(fixture: TenantFixture) {
    this.tenantId = fixture.tenant.id;
    this.domain = fixture.tenant.domain;
    this.premium = fixture.tenant.premium ?? true;
    this.smsSignInEnabled = fixture.tenant.smsSignInEnabled ?? true;
    this.pim = fixture.tenant.pim ?? true;
    this.domains = (fixture.tenant.domains ?? []).map((d) => ({ ...d }));
    this.methodsPolicy = structuredClone(fixture.authenticationMethodsPolicy ?? {});
    for (const u of fixture.users) {
      if (this.byId.has(u.id)) {
        throw new TypeError(`GraphEmulator: duplicate user id '${u.id}' in the tenant fixture.`);
      }
      const rec = this.buildUser(u, this.users.length);
      this.users.push(rec);
      this.byId.set(rec.id.toLowerCase(), rec);
      this.byUpn.set(rec.userPrincipalName.toLowerCase(), rec);
    }
    this.seedAuditEvents(fixture);
    for (const g of fixture.groups ?? []) {
      const rec: GroupRec = {
        id: g.id,
        displayName: g.displayName,
        members: [...g.members],
        isAssignableToRole: g.isAssignableToRole ?? false,
        directoryRoles: [...(g.directoryRoles ?? [])],
      };
      this.groups.push(rec);
      this.groupById.set(g.id.toLowerCase(), rec);
    }
  }

  /** The admin who made a change when nobody is named. */
  get defaultActor(): { userPrincipalName: string } {
    return { userPrincipalName: `admin@${this.domain}` };
  }

  private seedAuditEvents(fixture: TenantFixture): void {
    const startedMs = Date.parse(this.startedIso);
    for (const e of fixture.auditEvents ?? []) {
      const user = this.byId.get(e.userId.toLowerCase());
      if (!user) {
        continue;
      }
      const timeMs =
        e.activityDateTime !== undefined
          ? Date.parse(e.activityDateTime)
          : startedMs - (e.daysAgo ?? 0) * 24 * 3600 * 1000;
      const changes: AuditChange[] = (e.properties ?? ["MobilePhone"]).map((name) =>
        name === "MobilePhone"
          ? {
              name,
              oldValue: e.oldValue ?? null,
              newValue: e.newValue !== undefined ? e.newValue : user.mobilePhone,
            }
          : { name, oldValue: null, newValue: null },
      );
      this.audits.record(timeMs, user, changes, e.initiatedBy ?? this.defaultActor, true);
    }
  }

  private buildUser(u: FixtureUser, index: number): UserRec {
    const rec: UserRec = {
      index,
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName ?? u.userPrincipalName.split("@")[0] ?? u.userPrincipalName,
      mobilePhone: u.mobilePhone ?? null,
      accountEnabled: u.accountEnabled ?? true,
      userType: u.userType ?? "Member",
      isAdmin: u.isAdmin ?? false,
      restrictedManagement: u.restrictedManagement ?? false,
      notInReport: u.notInReport ?? false,
      phones: {},
      otherMethods: [...(u.otherMethods ?? [])],
      emailAddress: (u.otherMethods ?? []).includes("email") ? fixtureEmailAddress(u) : null,
      createdDateTime:
        u.createdDateTime === undefined
          ? this.longAgoIso
          : graphDateTime(Date.parse(u.createdDateTime)),
      otherMails: [...(u.otherMails ?? [])],
      businessPhones: [...(u.businessPhones ?? [])],
      directoryRoles: u.directoryRoles === undefined ? undefined : [...u.directoryRoles],
      changedAtMs: 0,
    };
    for (const p of u.phoneMethods ?? []) {
      let state = "notSupported";
      if (p.phoneType === "mobile") {
        state = !this.smsSignInEnabled
          ? "notAllowedByPolicy"
          : p.smsSignInNumber
            ? "ready"
            : "notEnabled";
      }
      rec.phones[p.phoneType] = { phoneNumber: p.phoneNumber, smsSignInState: state };
      if (p.smsSignInNumber) {
        this.smsHolders.set(normalizeNumber(p.phoneNumber), rec);
      }
    }
    return rec;
  }

  // ---- user changes (admin API; the delta feed in handlers/delta.ts records them) -------------

  /**
   * Creates a user, or replaces the directory properties of an existing one. Phone and other
   * methods are replaced only when the fixture user lists them.
   *
   * @param u - a validated fixture user
   * @returns the user record and whether it was created
   */
  upsertUser(u: FixtureUser): { user: UserRec; created: boolean } {
    const holder = this.byUpn.get(u.userPrincipalName.toLowerCase());
    if (holder && holder.id.toLowerCase() !== u.id.toLowerCase()) {
      throw new TypeError(
        `GraphEmulator: userPrincipalName '${u.userPrincipalName}' already belongs to user '${holder.id}'.`,
      );
    }
    // Membership caches hold user records, so any change of the user set starts them over.
    this.transitiveCache.clear();
    this.changeCount++;
    const existing = this.byId.get(u.id.toLowerCase());
    if (!existing) {
      const rec = this.buildUser(u, this.users.length);
      this.users.push(rec);
      this.byId.set(rec.id.toLowerCase(), rec);
      this.byUpn.set(rec.userPrincipalName.toLowerCase(), rec);
      return { user: rec, created: true };
    }
    const fresh = this.buildUser({ ...u, phoneMethods: [] }, existing.index);
    this.byUpn.delete(existing.userPrincipalName.toLowerCase());
    existing.userPrincipalName = fresh.userPrincipalName;
    existing.displayName = fresh.displayName;
    existing.mobilePhone = fresh.mobilePhone;
    existing.accountEnabled = fresh.accountEnabled;
    existing.userType = fresh.userType;
    existing.isAdmin = fresh.isAdmin;
    existing.restrictedManagement = fresh.restrictedManagement;
    existing.notInReport = fresh.notInReport;
    existing.otherMails = fresh.otherMails;
    existing.businessPhones = fresh.businessPhones;
    // Roles, like methods, are replaced only when the user lists them.
    if (u.directoryRoles !== undefined) {
      existing.directoryRoles = fresh.directoryRoles;
    }
    // A user's creation time does not change; an upsert may only state it.
    if (u.createdDateTime !== undefined) {
      existing.createdDateTime = fresh.createdDateTime;
    }
    this.byUpn.set(existing.userPrincipalName.toLowerCase(), existing);
    if (u.otherMethods !== undefined) {
      existing.otherMethods = [...u.otherMethods];
      existing.emailAddress = fresh.emailAddress;
    }
    if (u.phoneMethods !== undefined) {
      for (const t of PHONE_TYPES) {
        const m = existing.phones[t];
        if (m) {
          this.releaseSms(existing, m);
        }
      }
      const withPhones = this.buildUser(u, existing.index);
      existing.phones = withPhones.phones;
      for (const p of u.phoneMethods) {
        if (p.smsSignInNumber) {
          this.smsHolders.set(normalizeNumber(p.phoneNumber), existing);
        }
      }
    }
    return { user: existing, created: false };
  }

  /**
   * Removes a user from the directory (list, get, groups, report). Later users move up one
   * position, so `index` stays the position in `users`.
   *
   * @param id - user object id
   * @returns the removed record, or undefined when there is no such user
   */
  removeUser(id: string): UserRec | undefined {
    const rec = this.byId.get(id.toLowerCase());
    if (!rec) {
      return undefined;
    }
    this.users.splice(rec.index, 1);
    for (let i = rec.index; i < this.users.length; i++) {
      (this.users[i] as UserRec).index = i;
    }
    this.byId.delete(rec.id.toLowerCase());
    this.byUpn.delete(rec.userPrincipalName.toLowerCase());
    for (const t of PHONE_TYPES) {
      const m = rec.phones[t];
      if (m) {
        this.releaseSms(rec, m);
      }
    }
    this.transitiveCache.clear();
    this.changeCount++;
    return rec;
  }

  /**
   * Whether a user is an administrator: flagged `isAdmin`, or holding an active directory role
   * (directly or through a role-assignable group). The report's `isAdmin` and the delegated role
   * checks both ask this.
   *
   * @param user - the user
   */
  holdsAdminRole(user: UserRec): boolean {
    return user.isAdmin || this.roles.holdsActiveRole(user.id);
  }

  /** When the emulator started, ISO 8601. */
  get startedDateTime(): string {
    return this.startedIso;
  }

  /** A number that changes whenever a user or group changes (for caches of derived views). */
  get version(): number {
    return this.changeCount;
  }

  /**
   * Finds a user by object id or UPN (case-insensitive).
   *
   * @param idOrUpn - decoded path segment
   */
  findUser(idOrUpn: string): UserRec | undefined {
    const key = idOrUpn.toLowerCase();
    return this.byId.get(key) ?? this.byUpn.get(key);
  }

  /**
   * Finds a group by id.
   *
   * @param id - group object id
   */
  findGroup(id: string): GroupRec | undefined {
    return this.groupById.get(id.toLowerCase());
  }

  /**
   * Adds a direct member to a group (admin API).
   *
   * @param groupId - the group
   * @param memberId - a user or group id
   * @returns false when the member was already there
   * @throws TypeError naming what is wrong: no such member, or a group into a role-assignable one
   */
  addGroupMember(groupId: string, memberId: string): boolean {
    const group = this.groupOrThrow(groupId);
    const key = memberId.toLowerCase();
    const user = this.byId.get(key);
    const nested = this.groupById.get(key);
    if (!user && !nested) {
      throw new TypeError(`GraphEmulator: '${memberId}' is neither a user nor a group.`);
    }
    if (nested && group.isAssignableToRole) {
      throw new TypeError(
        `GraphEmulator: the group '${memberId}' cannot join the role-assignable group '${group.id}'; only users can.`,
      );
    }
    if (group.members.some((m) => m.toLowerCase() === key)) {
      return false;
    }
    group.members.push(user?.id ?? (nested as GroupRec).id);
    this.membershipChanged(group, user?.id ?? (nested as GroupRec).id, "add");
    return true;
  }

  /**
   * Removes a direct member from a group (admin API).
   *
   * @param groupId - the group
   * @param memberId - a user or group id
   * @returns false when it was not a direct member
   */
  removeGroupMember(groupId: string, memberId: string): boolean {
    const group = this.groupOrThrow(groupId);
    const at = group.members.findIndex((m) => m.toLowerCase() === memberId.toLowerCase());
    if (at === -1) {
      return false;
    }
    const [removed] = group.members.splice(at, 1);
    this.membershipChanged(group, removed as string, "remove");
    return true;
  }

  /**
   * Whether a membership change happened after a moment (then a view as of that moment differs).
   *
   * @param ms - epoch milliseconds
   */
  membershipChangedAfter(ms: number): boolean {
    const last = this.membershipLog[this.membershipLog.length - 1];
    return last !== undefined && last.atMs > ms;
  }

  private groupOrThrow(groupId: string): GroupRec {
    const group = this.groupById.get(groupId.toLowerCase());
    if (!group) {
      throw new RangeError(`GraphEmulator: no group '${groupId}'.`);
    }
    return group;
  }

  private membershipChanged(group: GroupRec, memberId: string, op: "add" | "remove"): void {
    this.membershipLog.push({ group, memberId, op, atMs: Date.now() });
    this.transitiveCache.clear();
    this.changeCount++;
  }

  /**
   * The direct members of every group as they were at a moment: later membership changes undone.
   *
   * @param ms - epoch milliseconds
   */
  private membersAsOf(ms: number): Map<GroupRec, string[]> {
    const view = new Map<GroupRec, string[]>();
    for (let i = this.membershipLog.length - 1; i >= 0; i--) {
      const change = this.membershipLog[i] as MembershipChange;
      if (change.atMs <= ms) {
        break;
      }
      let members = view.get(change.group);
      if (!members) {
        members = [...change.group.members];
        view.set(change.group, members);
      }
      if (change.op === "add") {
        const at = members.lastIndexOf(change.memberId);
        if (at !== -1) {
          members.splice(at, 1);
        }
      } else {
        members.push(change.memberId);
      }
    }
    return view;
  }

  /**
   * Transitive members of a group (nested groups resolved, cycles safe). The current view is
   * cached until membership or the user set changes; a view as of an earlier moment (what a
   * lagging index answers) is built each time.
   *
   * @param group - the group
   * @param asOfMs - the moment to answer for; the current membership when undefined
   * @returns users and nested groups, each once, in discovery order
   */
  transitiveMembers(group: GroupRec, asOfMs?: number): { users: UserRec[]; groups: GroupRec[] } {
    const past = asOfMs !== undefined && this.membershipChangedAfter(asOfMs);
    const cached = past ? undefined : this.transitiveCache.get(group.id);
    if (cached) {
      return cached;
    }
    const view = past ? this.membersAsOf(asOfMs) : undefined;
    const users: UserRec[] = [];
    const groups: GroupRec[] = [];
    const seenUsers = new Set<string>();
    const seenGroups = new Set<string>([group.id.toLowerCase()]);
    const stack: GroupRec[] = [group];
    while (stack.length > 0) {
      const g = stack.pop() as GroupRec;
      for (const memberId of view?.get(g) ?? g.members) {
        const key = memberId.toLowerCase();
        const nested = this.groupById.get(key);
        if (nested) {
          if (!seenGroups.has(key)) {
            seenGroups.add(key);
            groups.push(nested);
            stack.push(nested);
          }
          continue;
        }
        const user = this.byId.get(key);
        if (user && !seenUsers.has(key)) {
          seenUsers.add(key);
          users.push(user);
        }
      }
    }
    const result = { users, groups };
    if (!past) {
      this.transitiveCache.set(group.id, result);
    }
    return result;
  }

  /** Records the pre-change methods so the report can lag behind. */
  private markChanged(user: UserRec, lagMs: number): void {
    const now = Date.now();
    if (lagMs > 0 && now - user.changedAtMs >= lagMs) {
      user.reportPhonesBefore = PHONE_TYPES.filter((t) => user.phones[t]);
      user.reportOtherBefore = [...user.otherMethods];
    }
    user.changedAtMs = now;
  }

  /**
   * Creates the email method (at most one per user).
   *
   * @param user - the user
   * @param emailAddress - the address (already format-checked)
   * @param config - current config (the duplicate's error)
   * @param lagMs - report lag in real ms
   */
  createEmail(user: UserRec, emailAddress: string, config: EmulatorConfig, lagMs: number): void {
    if (user.emailAddress !== null) {
      throw configuredError(config.duplicateEmailMethodError);
    }
    this.markChanged(user, lagMs);
    user.emailAddress = emailAddress;
    user.otherMethods.push("email");
  }

  /**
   * Changes the address of the email method.
   *
   * @param user - the user
   * @param emailAddress - the new address (already format-checked)
   * @param lagMs - report lag in real ms
   */
  updateEmail(user: UserRec, emailAddress: string, lagMs: number): void {
    if (user.emailAddress === null) {
      throw methodNotFound();
    }
    this.markChanged(user, lagMs);
    user.emailAddress = emailAddress;
  }

  /**
   * Deletes the email method.
   *
   * @param user - the user
   * @param lagMs - report lag in real ms
   */
  deleteEmail(user: UserRec, lagMs: number): void {
    if (user.emailAddress === null) {
      throw methodNotFound();
    }
    this.markChanged(user, lagMs);
    user.emailAddress = null;
    user.otherMethods = user.otherMethods.filter((m) => m !== "email");
  }

  /**
   * Creates a phone method, enforcing the documented rules.
   *
   * @param user - the user
   * @param phoneType - type to create
   * @param phoneNumber - number (already format-checked)
   * @param config - current config (error shapes, SMS sign-in state)
   * @param lagMs - report lag in real ms
   */
  createPhone(
    user: UserRec,
    phoneType: PhoneType,
    phoneNumber: string,
    config: EmulatorConfig,
    lagMs: number,
  ): CreateResult {
    if (user.phones[phoneType]) {
      throw configuredError(config.duplicatePhoneTypeError);
    }
    if (phoneType === "alternateMobile" && !user.phones.mobile) {
      throw configuredError(config.alternateWithoutMobileError);
    }
    let state = "notSupported";
    let notUnique = false;
    if (phoneType === "mobile") {
      if (!this.smsSignInEnabled) {
        state = "notAllowedByPolicy";
      } else {
        const key = normalizeNumber(phoneNumber);
        const holder = this.smsHolders.get(key);
        if (holder && holder !== user) {
          state = "phoneNumberNotUnique";
          notUnique = true;
        } else {
          state = config.smsSignInStateForNewMobile;
          if (state === "ready") {
            this.smsHolders.set(key, user);
          }
        }
      }
    }
    this.markChanged(user, lagMs);
    const method = { phoneNumber, smsSignInState: state };
    user.phones[phoneType] = method;
    return { method, notUnique };
  }

  /**
   * Changes the number of an existing phone method.
   *
   * @param user - the user
   * @param phoneType - type to change
   * @param phoneNumber - new number (already format-checked)
   * @param lagMs - report lag in real ms
   */
  updatePhone(user: UserRec, phoneType: PhoneType, phoneNumber: string, lagMs: number): void {
    const method = user.phones[phoneType];
    if (!method) {
      throw methodNotFound();
    }
    this.releaseSms(user, method);
    if (phoneType === "mobile" && this.smsSignInEnabled && method.smsSignInState === "ready") {
      const key = normalizeNumber(phoneNumber);
      const holder = this.smsHolders.get(key);
      if (holder && holder !== user) {
        method.smsSignInState = "phoneNumberNotUnique";
      } else {
        this.smsHolders.set(key, user);
      }
    }
    this.markChanged(user, lagMs);
    method.phoneNumber = phoneNumber;
  }

  /**
   * Deletes a phone method.
   *
   * @param user - the user
   * @param phoneType - type to delete
   * @param config - current config
   * @param lagMs - report lag in real ms
   */
  deletePhone(user: UserRec, phoneType: PhoneType, config: EmulatorConfig, lagMs: number): void {
    const method = user.phones[phoneType];
    if (!method) {
      throw methodNotFound();
    }
    if (config.forbidDeleteDefault && phoneType === "mobile" && user.phones.alternateMobile) {
      throw configuredError(config.deleteDefaultError);
    }
    this.releaseSms(user, method);
    this.markChanged(user, lagMs);
    delete user.phones[phoneType];
  }

  private releaseSms(user: UserRec, method: PhoneRec): void {
    const key = normalizeNumber(method.phoneNumber);
    if (this.smsHolders.get(key) === user) {
      this.smsHolders.delete(key);
    }
  }

  /**
   * The report row of a user as the report currently sees it (changes within the lag hidden).
   *
   * @param user - an enabled user
   * @param lagMs - report lag in real ms
   * @param ssprMethodsRequired - how many methods SSPR asks for (1 or 2)
   */
  reportRow(user: UserRec, lagMs: number, ssprMethodsRequired = 1): ReportRow {
    const now = Date.now();
    const lagging = user.changedAtMs > 0 && now - user.changedAtMs < lagMs;
    const phoneTypes =
      lagging && user.reportPhonesBefore
        ? user.reportPhonesBefore
        : PHONE_TYPES.filter((t) => user.phones[t]);
    const others = lagging && user.reportOtherBefore ? user.reportOtherBefore : user.otherMethods;
    const methods = [...phoneTypes.map((t) => REPORT_NAMES[t]), ...others];
    const mfa = phoneTypes.length > 0 || others.some((m) => !NON_MFA.has(m));
    const ssprMethods =
      phoneTypes.filter((p) => p !== "alternateMobile").length +
      others.filter((m) => SSPR_OTHER.has(m)).length;
    const sspr = ssprMethods >= ssprMethodsRequired;
    let preferred = "none";
    if (others.includes("microsoftAuthenticatorPush")) {
      preferred = "push";
    } else if (phoneTypes.includes("mobile")) {
      preferred = "sms";
    } else if (phoneTypes.includes("alternateMobile")) {
      preferred = "voiceAlternateMobile";
    } else if (phoneTypes.includes("office")) {
      preferred = "voiceOffice";
    }
    let updated = this.startedIso;
    if (user.changedAtMs > 0 && !lagging) {
      updated = new Date(user.changedAtMs + lagMs).toISOString();
    }
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      userDisplayName: user.displayName,
      userType: user.userType === "Guest" ? "guest" : "member",
      isAdmin: this.holdsAdminRole(user),
      isSsprRegistered: sspr,
      isSsprEnabled: true,
      isSsprCapable: sspr,
      isMfaRegistered: mfa,
      isMfaCapable: mfa,
      isPasswordlessCapable: others.some((m) => PASSWORDLESS.has(m)),
      methodsRegistered: methods,
      isSystemPreferredAuthenticationMethodEnabled: true,
      systemPreferredAuthenticationMethods: [preferred],
      userPreferredMethodForSecondaryAuthentication: preferred,
      lastUpdatedDateTime: updated,
    };
  }
}

/**
 * The address of the email method a fixture user lists in `otherMethods` (the fixture has no field
 * for it): the first usable `otherMails` entry, else one at `personal.example`.
 */
function fixtureEmailAddress(u: FixtureUser): string {
  const usable = (u.otherMails ?? []).find((m) => USABLE_EMAIL.test(m));
  return usable ?? `${u.userPrincipalName.split(/#EXT#|@/)[0] ?? "user"}@personal.example`;
}
