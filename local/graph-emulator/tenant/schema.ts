// One directory role a user or a group holds; the contract spells it out in both places.
const DIRECTORY_ROLE = {
  type: "object",
  required: ["role"],
  additionalProperties: false,
  properties: {
    role: {
      type: "string",
      minLength: 1,
      description:
        "a built-in role's display name (e.g. Global Administrator) or a role definition id",
    },
    eligible: {
      type: "boolean",
      default: false,
      description:
        "true: PIM-eligible (roleEligibilityScheduleInstances); false: active (roleAssignments)",
    },
  },
};

/**
 * The tenant fixture JSON Schema, embedded as a constant so the validator works the same from the
 * sources (tsx, vitest) and from `dist/`, where `tsc` does not copy JSON files. It is equal in value
 * to `tenant-fixture.schema.json` beside this file (the contract); a test asserts the two are
 * equal, so a contract change without a matching change here fails the suite.
 */
export const TENANT_FIXTURE_SCHEMA: Readonly<Record<string, unknown>> = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "Graph emulator tenant fixture",
  description:
    "A tenant for the offline Graph emulator: users, groups, and the authentication methods each user already has. The registration report is derived from it: isMfaRegistered is true when the user has any phone method or any MFA-capable entry in otherMethods; methodsRegistered lists mobilePhone / alternateMobilePhone / officePhone for phone methods plus otherMethods; disabled users are absent from the report, as in Graph. Compatibility rule: every field added to this format is optional, and a fixture that leaves it out describes the plain case: a user without createdDateTime was created long ago (more than a year before the run), a user or group without role fields holds no directory role beyond what isAdmin says, a tenant without audit events has had no recent attribute change, and a user without otherMails/businessPhones has none. Fixtures written for an older version of this format must keep producing the same runs.",
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
        pim: {
          type: "boolean",
          default: true,
          description:
            "Entra ID P2 (Privileged Identity Management): without it roleEligibilityScheduleInstances answers the configured pimLicenceError while roleAssignments still answers",
        },
        domains: {
          type: "array",
          description:
            "domains beside the initial one (tenant.domain, always verified); absent: none",
          items: {
            type: "object",
            required: ["id"],
            additionalProperties: false,
            properties: {
              id: {
                type: "string",
                minLength: 1,
                description: "the domain name, e.g. contoso.com",
              },
              isVerified: {
                type: "boolean",
                default: true,
              },
              isDefault: {
                type: "boolean",
                default: false,
                description: "at most one domain is the default; without one the initial domain is",
              },
              authenticationType: {
                enum: ["Managed", "Federated"],
                default: "Managed",
              },
            },
          },
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
          isAssignableToRole: {
            type: "boolean",
            default: false,
            description:
              "a role-assignable group: it may hold directoryRoles, and only users may be its members",
          },
          directoryRoles: {
            type: "array",
            items: DIRECTORY_ROLE,
            description:
              "directory roles held at tenant scope; only on role-assignable groups; every member holds them",
          },
        },
      },
    },
    authenticationMethodsPolicy: {
      type: "object",
      additionalProperties: false,
      description:
        "the authentication methods policy, per method configuration (Graph's ids); a method left out keeps its default: Sms, Voice and Email enabled for all_users, the others disabled; absent: all defaults",
      properties: {
        Fido2: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        MicrosoftAuthenticator: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        Sms: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        Voice: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        Email: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        TemporaryAccessPass: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        SoftwareOath: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        HardwareOath: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
        X509Certificate: {
          $ref: "#/$defs/authenticationMethodConfiguration",
        },
      },
    },
    auditEvents: {
      type: "array",
      description:
        'past "Update user" events of the directory audit log; absent: no recent attribute change',
      items: {
        type: "object",
        required: ["userId"],
        additionalProperties: false,
        properties: {
          activityDateTime: {
            type: "string",
            format: "date-time",
            description: "when the change happened (not in the future); give this or daysAgo",
          },
          daysAgo: {
            type: "number",
            minimum: 0,
            description:
              "when the change happened, in days before the emulator started; give this or activityDateTime",
          },
          userId: {
            type: "string",
            description: "id of the user changed",
          },
          properties: {
            type: "array",
            minItems: 1,
            items: {
              type: "string",
              minLength: 1,
            },
            default: ["MobilePhone"],
            description: "names of the changed properties as the log writes them, e.g. MobilePhone",
          },
          initiatedBy: {
            type: "object",
            additionalProperties: false,
            minProperties: 1,
            maxProperties: 1,
            properties: {
              userPrincipalName: {
                type: "string",
              },
              app: {
                type: "string",
                description: "display name of the application",
              },
            },
            description:
              "who made the change: a user (by UPN) or an application; default the user admin@{tenant domain}",
          },
          oldValue: {
            type: ["string", "null"],
            description: "the MobilePhone value before the change; default none",
          },
          newValue: {
            type: ["string", "null"],
            description: "the MobilePhone value after the change; default the user's mobilePhone",
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
          notInReport: {
            type: "boolean",
            default: false,
            description:
              "the registration report has no row for the user yet, as for an account created or enabled since the report's last refresh; Graph itself still lists the user",
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
          createdDateTime: {
            type: "string",
            format: "date-time",
            description:
              "when the user was created; absent: long ago (the emulator uses 400 days before it started)",
          },
          otherMails: {
            type: "array",
            items: {
              type: "string",
            },
            description: "directory alternate emails, free text as typed; absent: none",
          },
          businessPhones: {
            type: "array",
            items: {
              type: "string",
            },
            description:
              "directory office numbers, free text as typed (Graph keeps at most one); absent: none",
          },
          directoryRoles: {
            type: "array",
            items: DIRECTORY_ROLE,
            description:
              "directory roles held at tenant scope; absent: none beyond what isAdmin implies (an isAdmin user without this field holds an active User Administrator assignment)",
          },
        },
      },
    },
  },
  $defs: {
    authenticationMethodConfiguration: {
      type: "object",
      required: ["state"],
      additionalProperties: false,
      properties: {
        state: {
          enum: ["enabled", "disabled"],
        },
        includeTargets: {
          type: "array",
          items: {
            type: "object",
            required: ["id"],
            additionalProperties: false,
            properties: {
              id: {
                type: "string",
                description: "all_users or a group id of the fixture",
              },
              isRegistrationRequired: {
                type: "boolean",
                default: false,
              },
            },
          },
          description: "default [{ id: all_users }]",
        },
        excludeTargets: {
          type: "array",
          items: {
            type: "object",
            required: ["id"],
            additionalProperties: false,
            properties: {
              id: {
                type: "string",
                description: "a group id of the fixture",
              },
            },
          },
          description: "default none",
        },
        isOfficePhoneAllowed: {
          type: "boolean",
          default: false,
          description: "Voice only: whether users may register office phones",
        },
      },
    },
  },
};
