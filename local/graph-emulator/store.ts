/**
 * The emulator's tenant state: users indexed by id and lower-cased UPN, groups with cached
 * transitive membership, phone methods with their fixed ids, SMS sign-in numbers, and the
 * registration report derived on the fly (with a configurable lag).
 */
import type { FixtureUser, OtherMethod, PhoneType, TenantFixture } from "./tenant/types.js";
import type { EmulatorConfig } from "./config.js";
import { GraphHttpError } from "./response.js";

/** Fixed phone-method ids per type (identical in every tenant). */
export const PHONE_METHOD_IDS: Record<PhoneType, string> = {
  mobile: "3179e48a-750b-4051-897c-87b9720928f7",
  alternateMobile: "b6332ec1-7057-4abe-9331-3d72feddfe41",
  office: "e37fc753-ff3b-4958-9484-eaa9425c82bc",
};

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
  phones: Partial<Record<PhoneType, PhoneRec>>;
  otherMethods: OtherMethod[];
  /** Phone types the report still shows while a change is within the report lag. */
  reportPhonesBefore?: PhoneType[];
  /** Real time of the last phone change, epoch ms (0 = never). */
  changedAtMs: number;
}

/** A group in the emulator's state. */
export interface GroupRec {
  id: string;
  displayName: string;
  members: string[];
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
const PASSWORDLESS: ReadonlySet<string> = new Set([
  "fido2SecurityKey",
  "passKeyDeviceBound",
  "windowsHelloForBusiness",
]);

function normalizeNumber(n: string): string {
  return n.replace(/\s+/g, "").toLowerCase();
}

/** The mutable tenant. */
export class TenantStore {
  readonly tenantId: string;
  readonly domain: string;
  readonly premium: boolean;
  readonly smsSignInEnabled: boolean;
  readonly users: UserRec[] = [];
  readonly groups: GroupRec[] = [];
  private readonly byId = new Map<string, UserRec>();
  private readonly byUpn = new Map<string, UserRec>();
  private readonly groupById = new Map<string, GroupRec>();
  private readonly transitiveCache = new Map<string, { users: UserRec[]; groups: GroupRec[] }>();
  /** Normalised number -> user holding it for SMS sign-in. */
  private readonly smsHolders = new Map<string, UserRec>();
  private readonly startedIso = new Date().toISOString();

  /**
   * @param fixture - the tenant fixture (not kept; the store copies what it needs)
   */
  constructor(fixture: TenantFixture) {
    this.tenantId = fixture.tenant.id;
    this.domain = fixture.tenant.domain;
    this.premium = fixture.tenant.premium ?? true;
    this.smsSignInEnabled = fixture.tenant.smsSignInEnabled ?? true;
    for (const u of fixture.users) {
      if (this.byId.has(u.id)) {
        throw new TypeError(`GraphEmulator: duplicate user id '${u.id}' in the tenant fixture.`);
      }
      const rec = this.buildUser(u, this.users.length);
      this.users.push(rec);
      this.byId.set(rec.id.toLowerCase(), rec);
      this.byUpn.set(rec.userPrincipalName.toLowerCase(), rec);
    }
    for (const g of fixture.groups ?? []) {
      const rec: GroupRec = { id: g.id, displayName: g.displayName, members: [...g.members] };
      this.groups.push(rec);
      this.groupById.set(g.id.toLowerCase(), rec);
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
      phones: {},
      otherMethods: [...(u.otherMethods ?? [])],
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
    this.byUpn.set(existing.userPrincipalName.toLowerCase(), existing);
    if (u.otherMethods !== undefined) {
      existing.otherMethods = [...u.otherMethods];
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
    return rec;
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
   * Transitive members of a group (nested groups resolved, cycles safe), cached because the
   * emulator never changes membership.
   *
   * @param group - the group
   * @returns users and nested groups, each once, in discovery order
   */
  transitiveMembers(group: GroupRec): { users: UserRec[]; groups: GroupRec[] } {
    const cached = this.transitiveCache.get(group.id);
    if (cached) {
      return cached;
    }
    const users: UserRec[] = [];
    const groups: GroupRec[] = [];
    const seenUsers = new Set<string>();
    const seenGroups = new Set<string>([group.id.toLowerCase()]);
    const stack: GroupRec[] = [group];
    while (stack.length > 0) {
      const g = stack.pop() as GroupRec;
      for (const memberId of g.members) {
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
    this.transitiveCache.set(group.id, result);
    return result;
  }

  /** Records the pre-change phone types so the report can lag behind. */
  private markChanged(user: UserRec, lagMs: number): void {
    const now = Date.now();
    if (lagMs > 0 && now - user.changedAtMs >= lagMs) {
      user.reportPhonesBefore = PHONE_TYPES.filter((t) => user.phones[t]);
    }
    user.changedAtMs = now;
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
      throw notFound();
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
      throw notFound();
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
   */
  reportRow(user: UserRec, lagMs: number): ReportRow {
    const now = Date.now();
    const lagging = user.changedAtMs > 0 && now - user.changedAtMs < lagMs;
    const phoneTypes =
      lagging && user.reportPhonesBefore
        ? user.reportPhonesBefore
        : PHONE_TYPES.filter((t) => user.phones[t]);
    const methods = [...phoneTypes.map((t) => REPORT_NAMES[t]), ...user.otherMethods];
    const mfa = phoneTypes.length > 0 || user.otherMethods.some((m) => !NON_MFA.has(m));
    const sspr = mfa || user.otherMethods.includes("email");
    let preferred = "none";
    if (user.otherMethods.includes("microsoftAuthenticatorPush")) {
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
      isAdmin: user.isAdmin,
      isSsprRegistered: sspr,
      isSsprEnabled: true,
      isSsprCapable: sspr,
      isMfaRegistered: mfa,
      isMfaCapable: mfa,
      isPasswordlessCapable: user.otherMethods.some((m) => PASSWORDLESS.has(m)),
      methodsRegistered: methods,
      isSystemPreferredAuthenticationMethodEnabled: true,
      systemPreferredAuthenticationMethods: [preferred],
      userPreferredMethodForSecondaryAuthentication: preferred,
      lastUpdatedDateTime: updated,
    };
  }
}

function configuredError(e: { status: number; code: string; message: string }): GraphHttpError {
  return new GraphHttpError(e.status, e.code, e.message);
}

function notFound(): GraphHttpError {
  return new GraphHttpError(
    404,
    "itemNotFound",
    "The requested authentication method was not found for the user.",
  );
}
