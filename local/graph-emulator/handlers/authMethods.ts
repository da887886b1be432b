/**
 * `/users/{id}/authentication/methods`: every method of a user (password, phones, the email method
 * under its fixed id, and the other methods of the fixture under stable ids).
 */
import { PASSWORD_METHOD_ID, PHONE_TYPES } from "../store.js";
import { findUserOr404, ok, stableGuid, type Handler } from "./context.js";
import { emailObject } from "./emailMethods.js";
import { phoneObject } from "./phoneMethods.js";

/** Graph resource type of each fixture method that is not a phone. */
const OTHER_METHOD_TYPES: Record<string, string> = {
  microsoftAuthenticatorPush: "microsoftAuthenticatorAuthenticationMethod",
  softwareOneTimePasscode: "softwareOathAuthenticationMethod",
  hardwareOneTimePasscode: "hardwareOathAuthenticationMethod",
  fido2SecurityKey: "fido2AuthenticationMethod",
  passKeyDeviceBound: "fido2AuthenticationMethod",
  windowsHelloForBusiness: "windowsHelloForBusinessAuthenticationMethod",
  temporaryAccessPass: "temporaryAccessPassAuthenticationMethod",
};

/** `GET .../authentication/methods`. */
export const listAuthMethods: Handler = (ctx, _req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  const value: Record<string, unknown>[] = [
    {
      "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
      id: PASSWORD_METHOD_ID,
      password: null,
      createdDateTime: null,
    },
    ...PHONE_TYPES.filter((t) => u.phones[t]).map((t) => phoneObject(t, u)),
    ...u.otherMethods.map((m) =>
      m === "email"
        ? emailObject(u)
        : {
            "@odata.type": `#microsoft.graph.${OTHER_METHOD_TYPES[m] ?? "authenticationMethod"}`,
            id: stableGuid(`${u.id}:${m}`),
          },
    ),
  ];
  return ok({
    "@odata.context": `${ctx.root}/$metadata#users('${u.id}')/authentication/methods`,
    value,
  });
};
