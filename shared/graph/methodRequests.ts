/**
 * The requests the writer sends per kind of authentication method, and how it reads a user's
 * method of that kind back: the mobile and office phones (`phoneMethods`, fixed ids per type) and
 * the email method (`emailMethods`, one fixed id). The writer's batching, limiter and reconcile
 * path are the same for every kind; only these differ.
 */
import { phoneNumberKey } from "../phone/index.js";
import type { WriteAction } from "../run/index.js";
import type { BatchRequest } from "./client.js";
import { EMAIL_METHOD_ID, PHONE_METHOD_IDS, emailMethodsPath, phoneMethodsPath } from "./paths.js";

/** Which method a write makes. */
export type MethodKind = "mobile" | "office" | "email";

/** One write to make: a phone number for a phone, an address for the email method. */
export type MethodWrite = { userId: string; action: WriteAction } & (
  | {
      /** `create` POSTs a new method of this phone type; `replace` PATCHes the existing one. Default `mobile`. */
      kind?: "mobile" | "office";
      /** In Graph's format, `+45 20123456`. */
      phoneNumber: string;
      emailAddress?: undefined;
    }
  | { kind: "email"; emailAddress: string; phoneNumber?: undefined }
);

/**
 * The write request of one item.
 *
 * @param id - the batch item's id.
 * @param w - the write.
 */
export function writeRequest(id: string, w: MethodWrite): BatchRequest {
  if (w.kind === "email") {
    const body = { emailAddress: w.emailAddress };
    return w.action === "create"
      ? { id, method: "POST", url: emailMethodsPath(w.userId), body }
      : { id, method: "PATCH", url: `${emailMethodsPath(w.userId)}/${EMAIL_METHOD_ID}`, body };
  }
  const phoneType = w.kind ?? "mobile";
  const body = { phoneNumber: w.phoneNumber, phoneType };
  return w.action === "create"
    ? { id, method: "POST", url: phoneMethodsPath(w.userId), body }
    : {
        id,
        method: "PATCH",
        url: `${phoneMethodsPath(w.userId)}/${PHONE_METHOD_IDS[phoneType]}`,
        body,
      };
}

/**
 * The read that reconciles one item: the user's methods of the write's collection.
 *
 * @param id - the batch item's id.
 * @param w - the write.
 */
export function readRequest(id: string, w: MethodWrite): BatchRequest {
  const url = w.kind === "email" ? emailMethodsPath(w.userId) : phoneMethodsPath(w.userId);
  return { id, method: "GET", url };
}

/** A method as a list of phone or email methods returns it (the fields used here). */
interface ListedMethod {
  id?: string;
  phoneType?: string;
  phoneNumber?: string;
  emailAddress?: string;
}

/**
 * The user's method of the write's kind in a read's body: undefined when the user has none, else
 * its value (undefined when Graph gave none).
 *
 * @param w - the write.
 * @param body - the body of the read ({@link readRequest}).
 */
export function heldMethod(w: MethodWrite, body: unknown): { value?: string } | undefined {
  const listed = (body as { value?: ListedMethod[] } | undefined)?.value ?? [];
  if (w.kind === "email") {
    const email = listed.find((m) => m.id === EMAIL_METHOD_ID || m.emailAddress !== undefined);
    return email ? { value: email.emailAddress } : undefined;
  }
  const phoneType = w.kind ?? "mobile";
  const phone = listed.find(
    (m) => m.phoneType === phoneType || m.id === PHONE_METHOD_IDS[phoneType],
  );
  return phone ? { value: phone.phoneNumber } : undefined;
}

/**
 * Whether a held value is the one the write makes: numbers compared in normalised form, addresses
 * without regard to case.
 *
 * @param w - the write.
 * @param held - the value read back.
 */
export function sameValue(w: MethodWrite, held: string | undefined): boolean {
  if (held === undefined) {
    return false;
  }
  return w.kind === "email"
    ? held.trim().toLowerCase() === w.emailAddress.toLowerCase()
    : phoneNumberKey(held) === phoneNumberKey(w.phoneNumber);
}
