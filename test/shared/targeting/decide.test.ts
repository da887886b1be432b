import { describe, expect, it } from "vitest";

import { SKIP_PRECEDENCE } from "../../../shared/run/index.js";
import {
  decideMethod,
  decideUser,
  type TargetingSettings,
  type UserContext,
} from "../../../shared/targeting/decide.js";

const settings: TargetingSettings = {
  target: "mfaUnregistered",
  skipAdmins: true,
  allowLandline: false,
  replaceExisting: false,
  defaultRegion: "DK",
  stagingGroupSet: false,
};

function context(overrides: Partial<UserContext> = {}): UserContext {
  return {
    user: {
      id: "u1",
      userPrincipalName: "ada@contoso.example",
      mobilePhone: "+45 20 12 34 56",
      accountEnabled: true,
      userType: "Member",
    },
    report: {
      id: "u1",
      isAdmin: false,
      isMfaRegistered: false,
      methodsRegistered: [],
      userType: "member",
    },
    inStagingGroup: false,
    inExcludedGroup: false,
    ...overrides,
  };
}

function withUser(
  user: Partial<UserContext["user"]>,
  rest: Partial<UserContext> = {},
): UserContext {
  const base = context(rest);
  return { ...base, user: { ...base.user, ...user } };
}

function withReport(
  report: Partial<NonNullable<UserContext["report"]>>,
  rest: Partial<UserContext> = {},
): UserContext {
  const base = context(rest);
  return { ...base, report: { ...(base.report as NonNullable<UserContext["report"]>), ...report } };
}

const noMobileMethod: TargetingSettings = { ...settings, target: "noMobileMethod" };
const replacing: TargetingSettings = { ...noMobileMethod, replaceExisting: true };

describe("decideUser", () => {
  describe("who is eligible", () => {
    it("creates the normalised number for an enabled member the report says is not registered", () => {
      expect(decideUser(context(), settings)).toEqual({
        action: "create",
        phoneNumber: "+45 20123456",
      });
    });

    it("uses the default region for a number written without a country code", () => {
      expect(decideUser(withUser({ mobilePhone: "20 12 34 56" }), settings)).toEqual({
        action: "create",
        phoneNumber: "+45 20123456",
      });
    });

    it("skips a guest by the directory's userType", () => {
      expect(decideUser(withUser({ userType: "Guest" }), settings)).toEqual({
        action: "skip",
        reason: "guest",
      });
    });

    it("skips a guest by the report's userType when the directory did not say", () => {
      const ctx = withReport({ userType: "guest" });
      ctx.user.userType = null;
      expect(decideUser(ctx, settings)).toEqual({ action: "skip", reason: "guest" });
    });

    it("skips a disabled account", () => {
      expect(decideUser(withUser({ accountEnabled: false }), settings)).toEqual({
        action: "skip",
        reason: "disabled",
      });
    });

    it("skips a user whose record does not say whether the account is enabled, never taking it for enabled", () => {
      const ctx = context();
      delete ctx.user.accountEnabled;
      expect(decideUser(ctx, settings)).toEqual({
        action: "skip",
        reason: "incompleteRecord",
        detail: "The directory did not say whether the account is enabled (accountEnabled).",
      });
    });

    it("skips a user whose member or guest status no record gives", () => {
      const ctx = withUser({ userType: null }, { report: undefined });
      expect(decideUser(ctx, settings)).toMatchObject({
        action: "skip",
        reason: "incompleteRecord",
      });
    });

    it("skips a member of an exclusion group", () => {
      expect(decideUser(context({ inExcludedGroup: true }), settings)).toEqual({
        action: "skip",
        reason: "excludedGroup",
      });
    });

    it("skips a user outside the staging group when one is set", () => {
      expect(
        decideUser(context({ inStagingGroup: false }), { ...settings, stagingGroupSet: true }),
      ).toEqual({
        action: "skip",
        reason: "outsideStagingGroup",
      });
    });

    it("creates for a member of the staging group when one is set", () => {
      expect(
        decideUser(context({ inStagingGroup: true }), { ...settings, stagingGroupSet: true }),
      ).toMatchObject({
        action: "create",
      });
    });

    it("ignores staging membership when no staging group is set", () => {
      expect(decideUser(context({ inStagingGroup: false }), settings)).toMatchObject({
        action: "create",
      });
    });

    it("skips an admin by default", () => {
      expect(decideUser(withReport({ isAdmin: true }), settings)).toEqual({
        action: "skip",
        reason: "admin",
      });
    });

    it("creates for an admin when skipAdmins is off", () => {
      expect(
        decideUser(withReport({ isAdmin: true }), { ...settings, skipAdmins: false }),
      ).toMatchObject({
        action: "create",
      });
    });

    it("skips a user whose report row leaves isAdmin unknown, never taking it for 'not an admin'", () => {
      expect(decideUser(withReport({ isAdmin: null }), settings)).toEqual({
        action: "skip",
        reason: "incompleteRecord",
        detail:
          "The registration report's row does not say whether the user is an admin (isAdmin).",
      });
    });

    it("does not ask about isAdmin when admins are not skipped", () => {
      expect(
        decideUser(withReport({ isAdmin: null }), { ...settings, skipAdmins: false }),
      ).toMatchObject({ action: "create" });
    });

    it("skips a holder of a directory role whatever the report says or omits", () => {
      expect(decideUser(context({ holdsDirectoryRole: true }), settings)).toEqual({
        action: "skip",
        reason: "admin",
      });
      expect(
        decideUser(context({ holdsDirectoryRole: true, report: undefined }), settings),
      ).toEqual({ action: "skip", reason: "admin" });
    });
  });

  describe("target mfaUnregistered", () => {
    it("skips a user the report says is MFA-registered", () => {
      expect(
        decideUser(
          withReport({ isMfaRegistered: true, methodsRegistered: ["microsoftAuthenticatorPush"] }),
          settings,
        ),
      ).toEqual({
        action: "skip",
        reason: "alreadyMfaRegistered",
      });
    });

    it("decides a user without a report row from the directory, as not registered", () => {
      expect(decideUser(context({ report: undefined }), settings)).toEqual({
        action: "create",
        phoneNumber: "+45 20123456",
      });
    });

    it("does not count email or a Temporary Access Pass as MFA registration", () => {
      const ctx = withReport({
        isMfaRegistered: false,
        methodsRegistered: ["email", "temporaryAccessPass"],
      });
      expect(decideUser(ctx, settings)).toMatchObject({ action: "create" });
    });

    it("skips a user whose known phone methods already hold a mobile, though the report lags", () => {
      const ctx = context({
        existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 30123456" }],
      });
      expect(decideUser(ctx, settings)).toEqual({ action: "skip", reason: "hasMobileMethod" });
    });

    it("replaces a known different mobile number when replaceExisting is on", () => {
      const ctx = context({
        existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 30123456" }],
      });
      expect(decideUser(ctx, { ...settings, replaceExisting: true })).toEqual({
        action: "replace",
        phoneNumber: "+45 20123456",
      });
    });
  });

  describe("target noMobileMethod", () => {
    it("creates for a registered user who has no mobile phone method", () => {
      const ctx = withReport({
        isMfaRegistered: true,
        methodsRegistered: ["microsoftAuthenticatorPush"],
      });
      expect(decideUser(ctx, noMobileMethod)).toEqual({
        action: "create",
        phoneNumber: "+45 20123456",
      });
    });

    it("skips a user whose report lists a mobile phone method", () => {
      const ctx = withReport({ isMfaRegistered: true, methodsRegistered: ["mobilePhone"] });
      expect(decideUser(ctx, noMobileMethod)).toEqual({
        action: "skip",
        reason: "hasMobileMethod",
      });
    });

    it("trusts the known phone methods over the report", () => {
      const ctx = withReport(
        { isMfaRegistered: true, methodsRegistered: ["mobilePhone"] },
        { existingPhoneMethods: [] },
      );
      expect(decideUser(ctx, noMobileMethod)).toMatchObject({ action: "create" });
    });

    it("creates when the user has only office and alternate mobile phones", () => {
      const ctx = context({
        existingPhoneMethods: [
          { phoneType: "office", phoneNumber: "+45 33123456" },
          { phoneType: "alternateMobile", phoneNumber: "+45 30123456" },
        ],
      });
      expect(decideUser(ctx, noMobileMethod)).toMatchObject({ action: "create" });
    });

    it("skips a user with a known mobile method when replaceExisting is off, even with the same number", () => {
      const ctx = context({
        existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 20123456" }],
      });
      expect(decideUser(ctx, noMobileMethod)).toEqual({
        action: "skip",
        reason: "hasMobileMethod",
      });
    });

    it("replaces a different mobile number when replaceExisting is on", () => {
      const ctx = context({
        existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 30123456" }],
      });
      expect(decideUser(ctx, replacing)).toEqual({
        action: "replace",
        phoneNumber: "+45 20123456",
      });
    });

    it("reports alreadyPresent when the existing number equals the directory number in normalised form", () => {
      const ctx = context({
        existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+4520123456" }],
      });
      expect(decideUser(ctx, replacing)).toEqual({
        action: "alreadyPresent",
        phoneNumber: "+45 20123456",
      });
    });

    it("does not replace a mobile whose number only the report knows exists", () => {
      const ctx = withReport({ methodsRegistered: ["mobilePhone"] });
      expect(decideUser(ctx, replacing)).toMatchObject({
        action: "skip",
        reason: "hasMobileMethod",
        detail: expect.stringContaining("not known"),
      });
    });

    it("does not replace a mobile whose number Graph returned masked", () => {
      const ctx = context({
        existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 XXXXXX56" }],
      });
      expect(decideUser(ctx, replacing)).toMatchObject({
        action: "skip",
        reason: "hasMobileMethod",
      });
    });

    it("does not replace an existing mobile with an invalid directory number", () => {
      const ctx = withUser(
        { mobilePhone: "+45 2012345" },
        { existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 30123456" }] },
      );
      expect(decideUser(ctx, replacing)).toMatchObject({ action: "skip", reason: "invalidNumber" });
    });
  });

  describe("the number", () => {
    it.each([null, undefined, "", "   "])("skips %j as noNumber", (mobilePhone) => {
      expect(decideUser(withUser({ mobilePhone }), settings)).toEqual({
        action: "skip",
        reason: "noNumber",
      });
    });

    it("skips a placeholder as noNumber and says why", () => {
      expect(decideUser(withUser({ mobilePhone: "N/A" }), settings)).toEqual({
        action: "skip",
        reason: "noNumber",
        detail: "The field holds a placeholder such as 'N/A' or '-', not a phone number.",
      });
    });

    it("skips an invalid number with the normaliser's reason as detail", () => {
      expect(decideUser(withUser({ mobilePhone: "+45 2012345" }), settings)).toEqual({
        action: "skip",
        reason: "invalidNumber",
        detail: "The number is too short for its country ('DK', +45).",
      });
    });

    it("skips a field with two numbers rather than writing either", () => {
      expect(decideUser(withUser({ mobilePhone: "20123456 / 30123456" }), settings)).toMatchObject({
        action: "skip",
        reason: "invalidNumber",
      });
    });

    it("skips a landline unless allowLandline is on", () => {
      const ctx = withUser({ mobilePhone: "+44 20 7946 0958" });
      expect(decideUser(ctx, settings)).toMatchObject({ action: "skip", reason: "invalidNumber" });
      expect(decideUser(ctx, { ...settings, allowLandline: true })).toEqual({
        action: "create",
        phoneNumber: "+44 2079460958",
      });
    });

    it("skips a national number when no default region is set", () => {
      const ctx = withUser({ mobilePhone: "20123456" });
      expect(decideUser(ctx, { ...settings, defaultRegion: undefined })).toMatchObject({
        action: "skip",
        reason: "invalidNumber",
        detail: expect.stringContaining("DEFAULT_REGION"),
      });
    });
  });

  describe("precedence", () => {
    it("lists every skip reason once, deferred last", () => {
      expect(new Set(SKIP_PRECEDENCE).size).toBe(SKIP_PRECEDENCE.length);
      expect(SKIP_PRECEDENCE.at(-1)).toBe("deferred");
    });

    it("reports the first applying reason, in the documented order, as conditions are lifted one by one", () => {
      // Arrange: a user for whom every skip reason applies at once.
      const ctx: UserContext = {
        user: {
          id: "u9",
          userPrincipalName: "eve@contoso.example",
          mobilePhone: "N/A",
          accountEnabled: false,
          userType: "Guest",
        },
        report: {
          id: "u9",
          isAdmin: true,
          isMfaRegistered: true,
          methodsRegistered: ["mobilePhone"],
          userType: "guest",
        },
        inStagingGroup: false,
        inExcludedGroup: true,
        holdsDirectoryRole: true,
        numberSharedBy: 30,
        numberUnsettled: {
          since: "2026-12-01T01:00:00.000Z",
          until: "2026-12-04T01:00:00.000Z",
          why: "changed",
        },
      };
      const staged = { ...settings, stagingGroupSet: true };
      const lifts: [string, () => void][] = [
        [
          "guest",
          () => {
            ctx.user.userType = "Member";
            (ctx.report as { userType?: string }).userType = "member";
          },
        ],
        ["disabled", () => delete ctx.user.accountEnabled],
        ["incompleteRecord", () => (ctx.user.accountEnabled = true)],
        ["excludedGroup", () => (ctx.inExcludedGroup = false)],
        ["outsideStagingGroup", () => (ctx.inStagingGroup = true)],
        [
          "admin",
          () => {
            (ctx.report as { isAdmin: boolean }).isAdmin = false;
            ctx.holdsDirectoryRole = false;
          },
        ],
        [
          "alreadyMfaRegistered",
          () => {
            (ctx.report as { isMfaRegistered: boolean }).isMfaRegistered = false;
            ctx.existingPhoneMethods = [{ phoneType: "mobile", phoneNumber: "+45 30123456" }];
          },
        ],
        ["hasMobileMethod", () => (ctx.existingPhoneMethods = [])],
        ["noNumber", () => (ctx.user.mobilePhone = "+45 2012345")],
        ["invalidNumber", () => (ctx.user.mobilePhone = "+45 20123456")],
        ["sharedNumber", () => delete ctx.numberSharedBy],
        ["numberNotSettled", () => delete ctx.numberUnsettled],
      ];

      // Act and assert
      const seen: string[] = [];
      for (const [expected, lift] of lifts) {
        const decision = decideUser(ctx, staged);
        expect(decision).toMatchObject({ action: "skip", reason: expected });
        seen.push(expected);
        lift();
      }
      expect(decideUser(ctx, staged)).toEqual({ action: "create", phoneNumber: "+45 20123456" });
      // The reasons of the other methods and of TARGET=ssprUnregistered have their own tests.
      const elsewhere = new Set([
        "alreadySsprRegistered",
        "hasOfficeMethod",
        "hasEmailMethod",
        "noAddress",
        "invalidAddress",
        "internalDomain",
        "sharedAddress",
        "addressNotSettled",
      ]);
      expect(seen).toEqual(SKIP_PRECEDENCE.slice(0, -1).filter((r) => !elsewhere.has(r)));
    });

    it("checks groups before admin status and admin status before registration", () => {
      const ctx = withReport({ isAdmin: true, isMfaRegistered: true }, { inExcludedGroup: true });
      expect(decideUser(ctx, settings)).toMatchObject({ reason: "excludedGroup" });
      ctx.inExcludedGroup = false;
      expect(decideUser(ctx, settings)).toMatchObject({ reason: "admin" });
    });
  });
});

describe("decideUser: number guards", () => {
  it("writes for none of the users who share a number, and says how many hold it", () => {
    expect(decideUser(context({ numberSharedBy: 30 }), settings)).toEqual({
      action: "skip",
      reason: "sharedNumber",
      detail:
        "The number is held by 30 users; it is registered for none of them until each has a number of their own.",
      phoneNumber: "+45 20123456",
    });
  });

  it("waits for a number that changed recently, naming who changed it and when it settles", () => {
    const ctx = context({
      numberUnsettled: {
        since: "2026-12-01T01:00:00.000Z",
        until: "2026-12-04T01:00:00.000Z",
        why: "changed",
        by: "helpdesk@contoso.example",
      },
    });
    expect(decideUser(ctx, settings)).toEqual({
      action: "skip",
      reason: "numberNotSettled",
      detail:
        "The number changed 2026-12-01T01:00:00.000Z by helpdesk@contoso.example; it is registered from 2026-12-04T01:00:00.000Z if it stays.",
      phoneNumber: "+45 20123456",
    });
  });

  it("waits for a new account's number", () => {
    const ctx = context({
      numberUnsettled: {
        since: "2026-11-30T08:00:00.000Z",
        until: "2026-12-03T08:00:00.000Z",
        why: "createdRecently",
      },
    });
    expect(decideUser(ctx, settings)).toMatchObject({
      reason: "numberNotSettled",
      detail:
        "The account was created 2026-11-30T08:00:00.000Z; it is registered from 2026-12-03T08:00:00.000Z if it stays.",
    });
  });

  it("guards replacements as it guards creations", () => {
    const ctx = context({
      existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 30123456" }],
      numberSharedBy: 2,
    });
    expect(decideUser(ctx, replacing)).toMatchObject({ reason: "sharedNumber" });
  });

  it("leaves a mobile method without a number alone even when replacing", () => {
    const ctx = context({
      existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "" }],
    });
    expect(decideUser(ctx, replacing)).toMatchObject({
      action: "skip",
      reason: "hasMobileMethod",
    });
  });
});

describe("decideMethod: TARGET=ssprUnregistered", () => {
  const sspr: TargetingSettings = { ...settings, target: "ssprUnregistered" };

  it("targets a user the report calls not SSPR-registered, though MFA-registered", () => {
    const ctx = withReport({
      isMfaRegistered: true,
      isSsprRegistered: false,
      methodsRegistered: ["microsoftAuthenticatorPush"],
    });
    expect(decideMethod("mobile", ctx, sspr)).toEqual({
      action: "create",
      phoneNumber: "+45 20123456",
    });
  });

  it("skips a user the report calls SSPR-registered, for every method", () => {
    const ctx = withReport(
      { isSsprRegistered: true, methodsRegistered: [] },
      {
        user: {
          ...context().user,
          otherMails: ["ada@gmail.example"],
          businessPhones: ["+45 33 12 34 56"],
        },
      },
    );
    for (const method of ["mobile", "email", "office"] as const) {
      expect(decideMethod(method, ctx, sspr)).toEqual({
        action: "skip",
        reason: "alreadySsprRegistered",
      });
    }
  });

  it("keeps a mobile method the report lists for a user SSPR still misses a second method for", () => {
    const ctx = withReport({ isSsprRegistered: false, methodsRegistered: ["mobilePhone"] });
    expect(decideMethod("mobile", ctx, sspr)).toEqual({
      action: "skip",
      reason: "hasMobileMethod",
    });
  });
});

describe("decideMethod: office", () => {
  const office = (businessPhones: string[], rest: Partial<UserContext> = {}): UserContext =>
    withUser({ businessPhones }, rest);

  it("writes the first office number, landline and extension kept", () => {
    expect(
      decideMethod("office", office(["+45 33 12 34 56 ext. 204", "+45 70 10 20 30"]), settings),
    ).toEqual({
      action: "create",
      phoneNumber: "+45 33123456x204",
    });
  });

  it("keeps an existing office method, from the report or a read of the methods", () => {
    expect(
      decideMethod("office", withReport({ methodsRegistered: ["officePhone"] }), settings),
    ).toEqual({ action: "skip", reason: "hasOfficeMethod" });
    expect(
      decideMethod(
        "office",
        office(["+45 33123456"], {
          existingPhoneMethods: [{ phoneType: "office", phoneNumber: "+45 33123456" }],
        }),
        settings,
      ),
    ).toEqual({ action: "skip", reason: "hasOfficeMethod" });
  });

  it("says noNumber without a number and invalidNumber for one that cannot be used", () => {
    expect(decideMethod("office", office([]), settings)).toEqual({
      action: "skip",
      reason: "noNumber",
    });
    expect(decideMethod("office", office(["see reception"]), settings)).toMatchObject({
      action: "skip",
      reason: "noNumber",
      detail: "The field holds words but no phone number.",
    });
    expect(decideMethod("office", office(["ext. 4411"]), settings)).toMatchObject({
      action: "skip",
      reason: "invalidNumber",
    });
  });

  it("meets the value guards as a mobile number does", () => {
    expect(
      decideMethod("office", office(["+45 70102030"], { numberSharedBy: 40 }), settings),
    ).toEqual({
      action: "skip",
      reason: "sharedNumber",
      detail:
        "The number is held by 40 users; it is registered for none of them until each has a number of their own.",
      phoneNumber: "+45 70102030",
    });
  });

  it("leaves the office phone of a user an earlier rule skips alone", () => {
    expect(
      decideMethod("office", office(["+45 33123456"], { inExcludedGroup: true }), settings),
    ).toEqual({
      action: "skip",
      reason: "excludedGroup",
    });
  });
});

describe("decideMethod: email", () => {
  const domains: TargetingSettings = {
    ...settings,
    verifiedDomains: new Set(["contoso.example", "contoso.onmicrosoft.example"]),
  };
  const email = (otherMails: string[], rest: Partial<UserContext> = {}): UserContext =>
    withUser({ otherMails }, rest);

  it("writes the first alternate address, made comparable", () => {
    expect(
      decideMethod("email", email([" Ada.Jensen@Gmail.example ", "x@y.example"]), domains),
    ).toEqual({
      action: "create",
      emailAddress: "ada.jensen@gmail.example",
    });
  });

  it("refuses an address in the tenant's own domains, or in a subdomain of one", () => {
    for (const address of ["ada@contoso.example", "ada@mail.contoso.example"]) {
      expect(decideMethod("email", email([address]), domains)).toEqual({
        action: "skip",
        reason: "internalDomain",
        detail:
          "The address is in the tenant's own domain 'contoso.example': a user locked out of the account cannot read that mailbox.",
        emailAddress: address,
      });
    }
  });

  it("refuses every address while the tenant's domains are not known", () => {
    expect(decideMethod("email", email(["ada@gmail.example"]), settings)).toMatchObject({
      action: "skip",
      reason: "internalDomain",
    });
  });

  it("says noAddress, or invalidAddress with the reason, for an address that cannot be used", () => {
    expect(decideMethod("email", email([]), domains)).toEqual({
      action: "skip",
      reason: "noAddress",
    });
    expect(decideMethod("email", email(["n/a"]), domains)).toMatchObject({
      action: "skip",
      reason: "noAddress",
    });
    expect(decideMethod("email", email(["ada at gmail.example"]), domains)).toMatchObject({
      action: "skip",
      reason: "invalidAddress",
      detail: expect.stringContaining("not a well-formed address"),
    });
  });

  it("never touches an existing email method, even with REPLACE_EXISTING", () => {
    const ctx = withReport(
      { methodsRegistered: ["email"] },
      { user: { ...context().user, otherMails: ["ada@gmail.example"] } },
    );
    expect(decideMethod("email", ctx, { ...domains, replaceExisting: true })).toEqual({
      action: "skip",
      reason: "hasEmailMethod",
    });
  });

  it("writes a shared address for none of its holders, and waits for a changed one", () => {
    expect(
      decideMethod("email", email(["it-support@partner.example"], { numberSharedBy: 3 }), domains),
    ).toEqual({
      action: "skip",
      reason: "sharedAddress",
      detail:
        "The address is held by 3 users; it is registered for none of them until each has an address of their own.",
      emailAddress: "it-support@partner.example",
    });
    const unsettled = email(["ada@gmail.example"], {
      numberUnsettled: {
        why: "auditChange",
        since: "2026-12-01T10:00:00.000Z",
        until: "2026-12-04T10:00:00.000Z",
        by: "helpdesk@contoso.example",
      },
    });
    expect(decideMethod("email", unsettled, domains)).toEqual({
      action: "skip",
      reason: "addressNotSettled",
      detail:
        "The address changed 2026-12-01T10:00:00.000Z by helpdesk@contoso.example; it is registered from 2026-12-04T10:00:00.000Z if it stays.",
      emailAddress: "ada@gmail.example",
    });
  });

  it("reports the first applying reason, in SKIP_PRECEDENCE order, as conditions are lifted one by one", () => {
    // Arrange: a user for whom every email reason applies at once.
    const ctx = withReport(
      { methodsRegistered: ["email"] },
      {
        numberSharedBy: 2,
        numberUnsettled: {
          why: "changed",
          since: "2026-12-01T01:00:00.000Z",
          until: "2026-12-04T01:00:00.000Z",
        },
      },
    );
    ctx.user.otherMails = [];
    const lifts: [string, () => void][] = [
      [
        "hasEmailMethod",
        () => ((ctx.report as { methodsRegistered: string[] }).methodsRegistered = []),
      ],
      ["noAddress", () => (ctx.user.otherMails = ["ada@@gmail.example"])],
      ["invalidAddress", () => (ctx.user.otherMails = ["ada@contoso.example"])],
      ["internalDomain", () => (ctx.user.otherMails = ["ada@gmail.example"])],
      ["sharedAddress", () => delete ctx.numberSharedBy],
      ["addressNotSettled", () => delete ctx.numberUnsettled],
    ];

    // Act and assert
    const seen: string[] = [];
    for (const [expected, lift] of lifts) {
      expect(decideMethod("email", ctx, domains)).toMatchObject({
        action: "skip",
        reason: expected,
      });
      seen.push(expected);
      lift();
    }
    expect(decideMethod("email", ctx, domains)).toEqual({
      action: "create",
      emailAddress: "ada@gmail.example",
    });
    expect(seen).toEqual(SKIP_PRECEDENCE.filter((r) => lifts.some(([l]) => l === r)));
  });
});
