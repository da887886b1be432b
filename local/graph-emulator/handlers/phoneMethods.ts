/**
 * `/users/{id}/authentication/phoneMethods[/{method id}]`: list, get, create, update and delete
 * phone methods under their three fixed ids, with the body and number-format checks and the
 * configurable answers Microsoft leaves undocumented.
 */
import type { EmulatorConfig } from "../config.js";
import type { GraphRequest } from "../request.js";
import { GraphHttpError, ODATA_JSON, configuredError, methodNotFound } from "../response.js";
import { PHONE_METHOD_IDS, PHONE_TYPES, type UserRec } from "../store.js";
import type { PhoneType } from "../tenant/types.js";
import { findUserOr404, ok, reportLagMs, type Handler, type Outcome } from "./context.js";
import {
  ConfiguredPattern,
  bodyObject,
  checkBodyProperties,
  requiredString,
} from "./methodBody.js";

/**
 * A phone method as Graph returns it.
 *
 * @param type - the phone type
 * @param u - the user holding it
 */
export function phoneObject(type: PhoneType, u: UserRec): Record<string, unknown> {
  const p = u.phones[type];
  return {
    "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
    id: PHONE_METHOD_IDS[type],
    phoneNumber: p?.phoneNumber ?? null,
    phoneType: type,
    smsSignInState: p?.smsSignInState ?? "notSupported",
  };
}

/** `GET .../phoneMethods`. */
export const listPhones: Handler = (ctx, _req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  return ok({
    "@odata.context": `${ctx.root}/$metadata#users('${u.id}')/authentication/phoneMethods`,
    value: PHONE_TYPES.filter((t) => u.phones[t]).map((t) => phoneObject(t, u)),
  });
};

/** `GET .../phoneMethods/{method id}`. */
export const getPhone: Handler = (ctx, _req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  const type = phoneTypeOf(params.method ?? "");
  if (!u.phones[type]) {
    throw methodNotFound();
  }
  return ok({
    "@odata.context": `${ctx.root}/$metadata#users('${u.id}')/authentication/phoneMethods/$entity`,
    ...phoneObject(type, u),
  });
};

/** `POST .../phoneMethods`: 201 (or the configured 200), or 409 when SMS sign-in clashes. */
export const createPhone: Handler = (ctx, req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  const { phoneNumber, phoneType } = readPhoneBody(req, true, ctx.config);
  const type = phoneType as PhoneType;
  const result = ctx.store.createPhone(u, type, phoneNumber, ctx.config, reportLagMs(ctx.config));
  if (result.notUnique) {
    return notUniqueOutcome();
  }
  const path = `users/${encodeURIComponent(u.id)}/authentication/phoneMethods/${PHONE_METHOD_IDS[type]}`;
  return {
    response: {
      status: ctx.config.createStatus,
      headers: { "Content-Type": ODATA_JSON, Location: `${ctx.root}/${path}` },
      body: {
        "@odata.context": `${ctx.root}/$metadata#users('${u.id}')/authentication/phoneMethods/$entity`,
        ...phoneObject(type, u),
      },
    },
    write: true,
  };
};

/** `PATCH .../phoneMethods/{method id}`: a new number; the type cannot change. */
export const updatePhone: Handler = (ctx, req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  const type = phoneTypeOf(params.method ?? "");
  const { phoneNumber, phoneType } = readPhoneBody(req, false, ctx.config);
  if (phoneType !== undefined && phoneType !== type) {
    throw new GraphHttpError(
      400,
      "badRequest",
      "The phone type of an existing method cannot be changed. Add a method of the new type and delete the old one.",
    );
  }
  ctx.store.updatePhone(u, type, phoneNumber, reportLagMs(ctx.config));
  return { response: { status: 204, headers: {} }, write: true };
};

/** `DELETE .../phoneMethods/{method id}`. */
export const deletePhone: Handler = (ctx, _req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  const type = phoneTypeOf(params.method ?? "");
  ctx.store.deletePhone(u, type, ctx.config, reportLagMs(ctx.config));
  return { response: { status: 204, headers: {} }, write: true };
};

function phoneTypeOf(methodId: string): PhoneType {
  const type = PHONE_TYPES.find((t) => PHONE_METHOD_IDS[t] === methodId.toLowerCase());
  if (!type) {
    throw methodNotFound();
  }
  return type;
}

/** The 409 of a mobile number another user holds for SMS sign-in: the method was still added. */
function notUniqueOutcome(): Outcome {
  return {
    response: {
      status: 409,
      headers: { "Content-Type": "application/json" },
      body: {
        error: {
          code: "phoneNumberNotUnique",
          message:
            "The phone number is already registered for SMS sign-in by another user. The phone method was added without SMS sign-in.",
          innerError: { date: new Date().toISOString().replace(/\.\d{3}Z$/, "") },
        },
      },
    },
    write: true,
  };
}

const PHONE_PATTERN = new ConfiguredPattern();

function readPhoneBody(
  req: GraphRequest,
  requireType: boolean,
  config: EmulatorConfig,
): { phoneNumber: string; phoneType?: PhoneType } {
  const b = bodyObject(req);
  checkBodyProperties(
    b,
    "microsoft.graph.phoneAuthenticationMethod",
    ["phoneNumber", "phoneType"],
    ["smsSignInState"],
  );
  const phoneNumber = requiredString(b, "phoneNumber");
  const phoneType = readPhoneType(b.phoneType, requireType);
  if (!PHONE_PATTERN.test(config.phoneNumberPattern, phoneNumber)) {
    throw configuredError(config.invalidPhoneNumberError);
  }
  return phoneType ? { phoneNumber, phoneType } : { phoneNumber };
}

function readPhoneType(raw: unknown, required: boolean): PhoneType | undefined {
  if (raw === undefined) {
    if (required) {
      throw new GraphHttpError(400, "badRequest", "The property 'phoneType' is required.");
    }
    return undefined;
  }
  if (typeof raw !== "string" || !(PHONE_TYPES as string[]).includes(raw)) {
    throw new GraphHttpError(
      400,
      "badRequest",
      "The property 'phoneType' must be 'mobile', 'alternateMobile' or 'office'.",
    );
  }
  return raw as PhoneType;
}
