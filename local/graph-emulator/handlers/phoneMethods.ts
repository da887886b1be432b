/**
 * `/users/{id}/authentication/phoneMethods[/{method id}]`: list, get, create, update and delete
 * phone methods under their three fixed ids, with the body and number-format checks and the
 * configurable answers Microsoft leaves undocumented.
 */
import type { EmulatorConfig } from "../config.js";
import type { GraphRequest } from "../request.js";
import { GraphHttpError, ODATA_JSON } from "../response.js";
import { PHONE_METHOD_IDS, PHONE_TYPES, type UserRec } from "../store.js";
import type { PhoneType } from "../tenant/types.js";
import {
  bodyObject,
  findUserOr404,
  ok,
  reportLagMs,
  type Handler,
  type Outcome,
} from "./context.js";

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

function methodNotFound(): GraphHttpError {
  return new GraphHttpError(
    404,
    "itemNotFound",
    "The requested authentication method was not found for the user.",
  );
}

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

/** The compiled `phoneNumberPattern`, kept while the pattern stays the same. */
let phonePattern: RegExp | undefined;

function readPhoneBody(
  req: GraphRequest,
  requireType: boolean,
  config: EmulatorConfig,
): { phoneNumber: string; phoneType?: PhoneType } {
  const b = bodyObject(req);
  for (const key of Object.keys(b)) {
    if (key === "smsSignInState") {
      throw new GraphHttpError(
        400,
        "badRequest",
        "Property 'smsSignInState' is read-only and cannot be set.",
      );
    }
    if (!["phoneNumber", "phoneType", "@odata.type"].includes(key)) {
      throw new GraphHttpError(
        400,
        "badRequest",
        `Property '${key}' does not exist on type 'microsoft.graph.phoneAuthenticationMethod'.`,
      );
    }
  }
  if (typeof b.phoneNumber !== "string" || b.phoneNumber === "") {
    throw new GraphHttpError(400, "badRequest", "The property 'phoneNumber' is required.");
  }
  const phoneType = readPhoneType(b.phoneType, requireType);
  if (phonePattern?.source !== config.phoneNumberPattern) {
    phonePattern = new RegExp(config.phoneNumberPattern);
  }
  if (!phonePattern.test(b.phoneNumber)) {
    const e = config.invalidPhoneNumberError;
    throw new GraphHttpError(e.status, e.code, e.message);
  }
  return phoneType ? { phoneNumber: b.phoneNumber, phoneType } : { phoneNumber: b.phoneNumber };
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
