/**
 * Email addresses for the email authentication method (SSPR only): the first `otherMails` address
 * made comparable and checked, whether it lies in one of the tenant's own verified domains (a user
 * locked out of the account cannot read a mailbox there), and masking for logs and reports.
 */
import { z } from "zod";
import { isPlaceholderText } from "../phone/text.js";

/** The longest address SMTP carries (RFC 5321 path limit less the brackets). */
const MAX_LENGTH = 254;

/** Why an address cannot be used. */
export type AddressFailureCode = "empty" | "placeholder" | "malformed";

/** An address in the form the run writes and compares, or why there is none. */
export type AddressResult =
  { ok: true; emailAddress: string } | { ok: false; code: AddressFailureCode; reason: string };

/**
 * The address as the run writes and compares it: trimmed, a `mailto:` or angle brackets taken
 * off, lower case (mail systems treat addresses case-insensitively, and Graph keeps one per user),
 * and checked against zod's email pattern (ASCII, one `@`, a dotted domain).
 *
 * @param raw - one `otherMails` entry as the directory holds it.
 */
export function normalizeEmailAddress(raw: string | null | undefined): AddressResult {
  const text = String(raw ?? "")
    .normalize("NFKC")
    .trim();
  if (text === "") {
    return { ok: false, code: "empty", reason: "The user has no alternate email address." };
  }
  if (isPlaceholderText(text)) {
    return {
      ok: false,
      code: "placeholder",
      reason: "The alternate email address is a placeholder, not an address.",
    };
  }
  const address = text
    .replace(/^mailto:/i, "")
    .replace(/^<(.*)>$/, "$1")
    .trim()
    .toLowerCase();
  if (address.length > MAX_LENGTH || !z.email().safeParse(address).success) {
    return {
      ok: false,
      code: "malformed",
      reason:
        "The alternate email address is not a well-formed address (one @, a dotted domain, no spaces).",
    };
  }
  return { ok: true, emailAddress: address };
}

/**
 * The first non-blank entry of a directory list (`otherMails`, `businessPhones`): the one value a
 * method is made from.
 *
 * @param values - the list as Graph returned it.
 */
export function firstEntry(values: readonly (string | null)[] | null | undefined): string | null {
  return (values ?? []).find((v) => typeof v === "string" && v.trim() !== "") ?? null;
}

/**
 * The verified domain of the tenant an address lies in (the domain itself or a subdomain of it),
 * or undefined when it lies outside them all.
 *
 * @param emailAddress - a normalised address.
 * @param domains - the tenant's verified domains, lower case.
 */
export function tenantDomainOf(
  emailAddress: string,
  domains: Iterable<string>,
): string | undefined {
  const host = emailAddress.slice(emailAddress.lastIndexOf("@") + 1);
  for (const domain of domains) {
    if (host === domain || host.endsWith(`.${domain}`)) {
      return domain;
    }
  }
  return undefined;
}

/**
 * Masks an address for logs and reports: the first letter of the local part and the domain stay
 * (`a***@example.org`), enough to tell a personal address from a shared one, not to write to it.
 *
 * @param emailAddress - an address, or any text.
 * @returns the masked text. Never throws.
 */
export function maskEmailAddress(emailAddress: string): string {
  const text = String(emailAddress ?? "");
  const at = text.lastIndexOf("@");
  if (at <= 0) {
    return "***";
  }
  return `${text.slice(0, 1)}***${text.slice(at)}`;
}
