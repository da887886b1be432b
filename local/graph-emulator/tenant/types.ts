/**
 * Types of the emulator's tenant fixture, mirroring `tenant-fixture.schema.json` beside this file
 * (the contract in `shared/contracts/`). Optional fields take the schema's defaults.
 */

/** The three phone types Graph knows, each with a fixed method id. */
export type PhoneType = "mobile" | "alternateMobile" | "office";

/** Methods other than phones. Email and temporaryAccessPass do not make a user MFA-registered. */
export type OtherMethod =
  | "microsoftAuthenticatorPush"
  | "softwareOneTimePasscode"
  | "hardwareOneTimePasscode"
  | "fido2SecurityKey"
  | "passKeyDeviceBound"
  | "windowsHelloForBusiness"
  | "email"
  | "temporaryAccessPass";

/** A phone method a user already has. */
export interface FixturePhoneMethod {
  phoneType: PhoneType;
  phoneNumber: string;
  /** This user holds the number for SMS sign-in (default false). */
  smsSignInNumber?: boolean;
}

/** A directory role held at tenant scope, by a user or a role-assignable group. */
export interface FixtureDirectoryRole {
  /** A built-in role's display name (see `roles.ts`) or a role definition id. */
  role: string;
  /** PIM-eligible rather than active (default false). */
  eligible?: boolean;
}

/** A user of the fixture. */
export interface FixtureUser {
  id: string;
  userPrincipalName: string;
  displayName?: string;
  /** The directory attribute, free text as HR typed it. */
  mobilePhone?: string | null;
  /** Default true. */
  accountEnabled?: boolean;
  /** Default "Member". */
  userType?: "Member" | "Guest";
  /** Default false. */
  isAdmin?: boolean;
  /**
   * Member of a restricted management administrative unit (default false): writes to the user's
   * authentication methods answer 403 for this user alone; reads still work.
   */
  restrictedManagement?: boolean;
  /**
   * The registration report has no row for the user yet (default false), as for an account
   * created or enabled since the report's last refresh; the directory still lists the user.
   */
  notInReport?: boolean;
  phoneMethods?: FixturePhoneMethod[];
  otherMethods?: OtherMethod[];
  /** ISO 8601 with an offset; absent: long ago (400 days before the emulator started). */
  createdDateTime?: string;
  /** Directory alternate email addresses, free text; absent: none. */
  otherMails?: string[];
  /** Directory office numbers, free text (Graph keeps at most one); absent: none. */
  businessPhones?: string[];
  /**
   * Directory roles; absent: none beyond what `isAdmin` implies (an active User Administrator
   * assignment).
   */
  directoryRoles?: FixtureDirectoryRole[];
}

/** A group; members are ids of users or of other groups (nested). */
export interface FixtureGroup {
  id: string;
  displayName: string;
  members: string[];
  /** A role-assignable group (default false): it may hold roles, and only users are members. */
  isAssignableToRole?: boolean;
  /** Roles every member holds; only on a role-assignable group. */
  directoryRoles?: FixtureDirectoryRole[];
}

/** A past "Update user" event of the directory audit log. */
export interface FixtureAuditEvent {
  /** When the change happened; give this or `daysAgo`. */
  activityDateTime?: string;
  /** When the change happened, in days before the emulator started; give this or `activityDateTime`. */
  daysAgo?: number;
  /** The user changed. */
  userId: string;
  /** Changed properties as the log names them (default `["MobilePhone"]`). */
  properties?: string[];
  /** Who changed it (default the user `admin@{tenant domain}`). */
  initiatedBy?: { userPrincipalName: string } | { app: string };
  /** The MobilePhone value before (default none). */
  oldValue?: string | null;
  /** The MobilePhone value after (default the user's `mobilePhone`). */
  newValue?: string | null;
}

/** A domain of the tenant beside its initial one. */
export interface FixtureDomain {
  id: string;
  /** Default true. */
  isVerified?: boolean;
  /** Default false; at most one domain is the default (else the initial domain is). */
  isDefault?: boolean;
  /** Default "Managed". */
  authenticationType?: "Managed" | "Federated";
}

/** Ids of the authentication methods policy's method configurations, as Graph spells them. */
export type MethodConfigurationId =
  | "Fido2"
  | "MicrosoftAuthenticator"
  | "Sms"
  | "Voice"
  | "Email"
  | "TemporaryAccessPass"
  | "SoftwareOath"
  | "HardwareOath"
  | "X509Certificate";

/** One method configuration of the authentication methods policy. */
export interface FixtureMethodConfiguration {
  state: "enabled" | "disabled";
  /** Default `[{ id: "all_users" }]`; ids are `all_users` or group ids. */
  includeTargets?: { id: string; isRegistrationRequired?: boolean }[];
  /** Default none; group ids. */
  excludeTargets?: { id: string }[];
  /** Voice only (default false): whether users may register office phones. */
  isOfficePhoneAllowed?: boolean;
}

/** A whole tenant fixture. */
export interface TenantFixture {
  tenant: {
    id: string;
    domain: string;
    /** Entra ID P1/P2 (default true); without it the registration report answers 403. */
    premium?: boolean;
    /** Default true: creating a mobile method also registers it for SMS sign-in. */
    smsSignInEnabled?: boolean;
    /** Entra ID P2 (default true); without it PIM eligibility answers `pimLicenceError`. */
    pim?: boolean;
    /** Domains beside the initial one (`domain`, always verified). */
    domains?: FixtureDomain[];
  };
  groups?: FixtureGroup[];
  /**
   * The authentication methods policy by method configuration; a method left out keeps its
   * default (Sms, Voice and Email enabled for all users, the others disabled).
   */
  authenticationMethodsPolicy?: Partial<Record<MethodConfigurationId, FixtureMethodConfiguration>>;
  /** Past directory audit events; absent: no recent attribute change. */
  auditEvents?: FixtureAuditEvent[];
  users: FixtureUser[];
}
