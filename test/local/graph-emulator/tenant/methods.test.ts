import { describe, expect, it } from "vitest";
import { isMfaRegistered } from "../../../../local/graph-emulator/tenant/methods.js";

const base = { id: "u1", userPrincipalName: "a@contoso.example" };

describe("isMfaRegistered", () => {
  it("is false for a user with no methods, or only email and a Temporary Access Pass", () => {
    expect(isMfaRegistered(base)).toBe(false);
    expect(isMfaRegistered({ ...base, otherMethods: ["email", "temporaryAccessPass"] })).toBe(
      false,
    );
  });

  it("is true for any phone method, an office phone included", () => {
    expect(
      isMfaRegistered({
        ...base,
        phoneMethods: [{ phoneType: "office", phoneNumber: "+45 33123456" }],
      }),
    ).toBe(true);
  });

  it("is true for an MFA-capable other method beside email", () => {
    expect(isMfaRegistered({ ...base, otherMethods: ["email", "fido2SecurityKey"] })).toBe(true);
  });
});
