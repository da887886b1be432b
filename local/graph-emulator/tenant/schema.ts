/**
 * The tenant fixture JSON Schema, embedded as a constant so the validator works the same from the
 * sources (tsx, vitest) and from `dist/`, where `tsc` does not copy JSON files. It is a verbatim
 * copy of `tenant-fixture.schema.json` beside this file (the contract); a test asserts the two are
 * equal, so a contract change without a matching change here fails the suite.
 */
export const TENANT_FIXTURE_SCHEMA: Readonly<Record<string, unknown>> = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Graph emulator tenant fixture",
  description:
    "A tenant for the offline Graph emulator: users, groups, and the authentication methods each user already has. The registration report is derived from it: isMfaRegistered is true when the user has any phone method or any MFA-capable entry in otherMethods; methodsRegistered lists mobilePhone / alternateMobilePhone / officePhone for phone methods plus otherMethods; disabled users are absent from the report, as in Graph.",
  type: "object",
  required: ["tenant", "users"],
  additionalProperties: false,
  properties: {
    tenant: {
      type: "object",
      required: ["id", "domain"],
      additionalProperties: false,
      properties: {
        id: {
          type: "string",
          description: "tenant id (GUID)",
        },
        domain: {
          type: "string",
          description: "initial domain, e.g. contoso.example",
        },
        premium: {
          type: "boolean",
          default: true,
          description:
            "Entra ID P1/P2: without it the registration report answers 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        },
        smsSignInEnabled: {
          type: "boolean",
          default: true,
          description:
            "when true, creating a mobile method also registers it for SMS sign-in; a number already held by another user for SMS sign-in yields 409 phoneNumberNotUnique while the method is still created",
        },
      },
    },
    groups: {
      type: "array",
      items: {
        type: "object",
        required: ["id", "displayName", "members"],
        additionalProperties: false,
        properties: {
          id: {
            type: "string",
          },
          displayName: {
            type: "string",
          },
          members: {
            type: "array",
            items: {
              type: "string",
            },
            description:
              "ids of users or of other groups (nested groups count for transitive membership)",
          },
        },
      },
    },
    users: {
      type: "array",
      items: {
        type: "object",
        required: ["id", "userPrincipalName"],
        additionalProperties: false,
        properties: {
          id: {
            type: "string",
          },
          userPrincipalName: {
            type: "string",
          },
          displayName: {
            type: "string",
          },
          mobilePhone: {
            type: ["string", "null"],
            description: "the directory attribute, free text as HR typed it",
          },
          accountEnabled: {
            type: "boolean",
            default: true,
          },
          userType: {
            enum: ["Member", "Guest"],
            default: "Member",
          },
          isAdmin: {
            type: "boolean",
            default: false,
          },
          restrictedManagement: {
            type: "boolean",
            default: false,
            description:
              "the user is a member of a restricted management administrative unit: applications (and tenant-wide admins) cannot change its authentication methods, so every write to them answers 403 for this user alone while reads still work",
          },
          phoneMethods: {
            type: "array",
            maxItems: 3,
            items: {
              type: "object",
              required: ["phoneType", "phoneNumber"],
              additionalProperties: false,
              properties: {
                phoneType: {
                  enum: ["mobile", "alternateMobile", "office"],
                },
                phoneNumber: {
                  type: "string",
                },
                smsSignInNumber: {
                  type: "boolean",
                  default: false,
                  description: "this user holds the number for SMS sign-in",
                },
              },
            },
          },
          otherMethods: {
            type: "array",
            items: {
              enum: [
                "microsoftAuthenticatorPush",
                "softwareOneTimePasscode",
                "hardwareOneTimePasscode",
                "fido2SecurityKey",
                "passKeyDeviceBound",
                "windowsHelloForBusiness",
                "email",
                "temporaryAccessPass",
              ],
            },
            description:
              "methods other than phones; email and temporaryAccessPass do not make a user MFA-registered",
          },
        },
      },
    },
  },
};
