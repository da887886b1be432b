import { describe, expect, it } from "vitest";
import {
  firstEntry,
  maskEmailAddress,
  normalizeEmailAddress,
  tenantDomainOf,
} from "../../../shared/email/index.js";

describe("normalizeEmailAddress", () => {
  it("makes the forms people type into otherMails one comparable address", () => {
    for (const raw of [
      "ada@gmail.example",
      " ada@gmail.example ",
      "ADA@GMAIL.EXAMPLE",
      "mailto:ada@gmail.example",
      "<ada@gmail.example>",
      "ａｄａ＠ｇｍａｉｌ．ｅｘａｍｐｌｅ",
    ]) {
      expect(normalizeEmailAddress(raw), raw).toEqual({
        ok: true,
        emailAddress: "ada@gmail.example",
      });
    }
  });

  it("tells a missing address and a placeholder from a malformed one, with a reason each", () => {
    expect(normalizeEmailAddress(null)).toMatchObject({ ok: false, code: "empty" });
    expect(normalizeEmailAddress("  ")).toMatchObject({ ok: false, code: "empty" });
    expect(normalizeEmailAddress("n/a")).toMatchObject({ ok: false, code: "placeholder" });
    for (const raw of [
      "ada@",
      "ada@@gmail.example",
      "ada at gmail.example",
      "ada@gmail",
      "a b@x.example",
    ]) {
      const result = normalizeEmailAddress(raw);
      expect(result, raw).toMatchObject({ ok: false, code: "malformed" });
      expect(result.ok ? "" : result.reason).toMatch(/not a well-formed address/);
    }
  });

  it("refuses an address longer than mail can carry", () => {
    const long = `${"a".repeat(250)}@x.example`;
    expect(normalizeEmailAddress(long)).toMatchObject({ ok: false, code: "malformed" });
  });
});

describe("firstEntry", () => {
  it("takes the first entry that is not blank", () => {
    expect(firstEntry([" ", "", "b@x.example", "c@x.example"])).toBe("b@x.example");
    expect(firstEntry([])).toBeNull();
    expect(firstEntry(undefined)).toBeNull();
  });
});

describe("tenantDomainOf", () => {
  const domains = ["contoso.example", "contoso.onmicrosoft.example"];
  it("finds an address in a verified domain or one of its subdomains", () => {
    expect(tenantDomainOf("ada@contoso.example", domains)).toBe("contoso.example");
    expect(tenantDomainOf("ada@mail.contoso.example", domains)).toBe("contoso.example");
    expect(tenantDomainOf("ada@contoso.onmicrosoft.example", domains)).toBe(
      "contoso.onmicrosoft.example",
    );
  });

  it("leaves a domain that only ends in the same letters outside", () => {
    expect(tenantDomainOf("ada@notcontoso.example", domains)).toBeUndefined();
    expect(tenantDomainOf("ada@gmail.example", domains)).toBeUndefined();
  });
});

describe("maskEmailAddress", () => {
  it("keeps the first letter and the domain, nothing else of the local part", () => {
    expect(maskEmailAddress("ada.jensen@gmail.example")).toBe("a***@gmail.example");
    expect(maskEmailAddress("no address")).toBe("***");
  });
});
