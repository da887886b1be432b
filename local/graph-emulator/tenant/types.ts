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
  phoneMethods?: FixturePhoneMethod[];
  otherMethods?: OtherMethod[];
}

/** A group; members are ids of users or of other groups (nested). */
export interface FixtureGroup {
  id: string;
  displayName: string;
  members: string[];
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
  };
  groups?: FixtureGroup[];
  users: FixtureUser[];
}
