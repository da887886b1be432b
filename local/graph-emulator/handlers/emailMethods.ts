/**
 * `/users/{id}/authentication/emailMethods[/{method id}]`: the email authentication method (SSPR
 * only), at most one per user under its fixed id: list, get, create, update and delete, with the
 * address checked against `emailAddressPattern` and the configurable answers Microsoft leaves
 * undocumented.
 */
import type { EmulatorConfig } from "../config.js";
import type { GraphRequest } from "../request.js";
import { ODATA_JSON, configuredError, methodNotFound } from "../response.js";
import { EMAIL_METHOD_ID, type UserRec } from "../store.js";
import { findUserOr404, ok, reportLagMs, type Handler } from "./context.js";
import {
  ConfiguredPattern,
  bodyObject,
  checkBodyProperties,
  requiredString,
} from "./methodBody.js";

/**
 * The email method as Graph returns it.
 *
 * @param u - a user holding one
 */
export function emailObject(u: UserRec): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.emailAuthenticationMethod",
    id: EMAIL_METHOD_ID,
    emailAddress: u.emailAddress,
  };
}

/** The user's email method named by the path, or the 404 of a wrong id or a missing method. */
function heldEmail(u: UserRec, methodId: string): UserRec {
  if (methodId.toLowerCase() !== EMAIL_METHOD_ID || u.emailAddress === null) {
    throw methodNotFound();
  }
  return u;
}

const EMAIL_PATTERN = new ConfiguredPattern();

function readEmailBody(req: GraphRequest, config: EmulatorConfig): string {
  const b = bodyObject(req);
  checkBodyProperties(b, "microsoft.graph.emailAuthenticationMethod", ["emailAddress"]);
  const emailAddress = requiredString(b, "emailAddress");
  if (!EMAIL_PATTERN.test(config.emailAddressPattern, emailAddress)) {
    throw configuredError(config.invalidEmailAddressError);
  }
  return emailAddress;
}

/** `GET .../emailMethods`. */
export const listEmails: Handler = (ctx, _req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  return ok({
    "@odata.context": `${ctx.root}/$metadata#users('${u.id}')/authentication/emailMethods`,
    value: u.emailAddress === null ? [] : [emailObject(u)],
  });
};

/** `GET .../emailMethods/{method id}`. */
export const getEmail: Handler = (ctx, _req, params) => {
  const u = heldEmail(findUserOr404(ctx, params.user ?? ""), params.method ?? "");
  return ok({
    "@odata.context": `${ctx.root}/$metadata#users('${u.id}')/authentication/emailMethods/$entity`,
    ...emailObject(u),
  });
};

/** `POST .../emailMethods`: 201 with the method, or the configured answer to a second one. */
export const createEmail: Handler = (ctx, req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  const emailAddress = readEmailBody(req, ctx.config);
  ctx.store.createEmail(u, emailAddress, ctx.config, reportLagMs(ctx.config));
  const path = `users/${encodeURIComponent(u.id)}/authentication/emailMethods/${EMAIL_METHOD_ID}`;
  return {
    response: {
      status: 201,
      headers: { "Content-Type": ODATA_JSON, Location: `${ctx.root}/${path}` },
      body: {
        "@odata.context": `${ctx.root}/$metadata#users('${u.id}')/authentication/emailMethods/$entity`,
        ...emailObject(u),
      },
    },
    write: true,
  };
};

/** `PATCH .../emailMethods/{method id}`: a new address. */
export const updateEmail: Handler = (ctx, req, params) => {
  const u = heldEmail(findUserOr404(ctx, params.user ?? ""), params.method ?? "");
  ctx.store.updateEmail(u, readEmailBody(req, ctx.config), reportLagMs(ctx.config));
  return { response: { status: 204, headers: {} }, write: true };
};

/** `DELETE .../emailMethods/{method id}`. */
export const deleteEmail: Handler = (ctx, _req, params) => {
  const u = heldEmail(findUserOr404(ctx, params.user ?? ""), params.method ?? "");
  ctx.store.deleteEmail(u, reportLagMs(ctx.config));
  return { response: { status: 204, headers: {} }, write: true };
};
