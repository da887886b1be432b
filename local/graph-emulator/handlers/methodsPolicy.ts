/**
 * `/policies/authenticationMethodsPolicy` and its `authenticationMethodConfigurations[/{id}]`: the
 * tenant-wide policy in the documented shape, each method configuration with its `@odata.type`,
 * `state`, `includeTargets` and `excludeTargets`, from the fixture's `authenticationMethodsPolicy`
 * over the defaults (Sms, Voice and Email enabled for all users, the others disabled).
 */
import { GraphHttpError } from "../response.js";
import type { TenantStore } from "../store.js";
import type { FixtureMethodConfiguration, MethodConfigurationId } from "../tenant/types.js";
import { ok, type Handler } from "./context.js";

const POLICY_PATH = "policies/authenticationMethodsPolicy";

/** Every method configuration Graph lists, in its order, with its resource type and extras. */
const CONFIGURATIONS: readonly {
  id: MethodConfigurationId;
  type: string;
  enabledByDefault: boolean;
  /** Properties of the configuration beside state and targets (the documented defaults). */
  extra: (c: FixtureMethodConfiguration | undefined) => Record<string, unknown>;
  /** Properties each include target carries beside id, targetType and isRegistrationRequired. */
  targetExtra?: Record<string, unknown>;
}[] = [
  {
    id: "Fido2",
    type: "fido2AuthenticationMethodConfiguration",
    enabledByDefault: false,
    extra: () => ({
      isSelfServiceRegistrationAllowed: true,
      isAttestationEnforced: false,
      keyRestrictions: { isEnforced: false, enforcementType: "block", aaGuids: [] },
    }),
  },
  {
    id: "MicrosoftAuthenticator",
    type: "microsoftAuthenticatorAuthenticationMethodConfiguration",
    enabledByDefault: false,
    extra: () => ({ isSoftwareOathEnabled: false }),
    targetExtra: { authenticationMode: "any" },
  },
  {
    id: "Sms",
    type: "smsAuthenticationMethodConfiguration",
    enabledByDefault: true,
    extra: () => ({}),
    targetExtra: { isUsableForSignIn: true },
  },
  {
    id: "TemporaryAccessPass",
    type: "temporaryAccessPassAuthenticationMethodConfiguration",
    enabledByDefault: false,
    extra: () => ({
      defaultLifetimeInMinutes: 60,
      defaultLength: 8,
      minimumLifetimeInMinutes: 60,
      maximumLifetimeInMinutes: 480,
      isUsableOnce: false,
    }),
  },
  {
    id: "SoftwareOath",
    type: "softwareOathAuthenticationMethodConfiguration",
    enabledByDefault: false,
    extra: () => ({}),
  },
  {
    id: "HardwareOath",
    type: "hardwareOathAuthenticationMethodConfiguration",
    enabledByDefault: false,
    extra: () => ({}),
  },
  {
    id: "Email",
    type: "emailAuthenticationMethodConfiguration",
    enabledByDefault: true,
    extra: () => ({ allowExternalIdToUseEmailOtp: "default" }),
  },
  {
    id: "Voice",
    type: "voiceAuthenticationMethodConfiguration",
    enabledByDefault: true,
    extra: (c) => ({ isOfficePhoneAllowed: c?.isOfficePhoneAllowed ?? false }),
  },
  {
    id: "X509Certificate",
    type: "x509CertificateAuthenticationMethodConfiguration",
    enabledByDefault: false,
    extra: () => ({}),
  },
];

function configurationObject(
  store: TenantStore,
  def: (typeof CONFIGURATIONS)[number],
): Record<string, unknown> {
  const set = store.methodsPolicy[def.id];
  const state = set?.state ?? (def.enabledByDefault ? "enabled" : "disabled");
  const include = set?.includeTargets ?? [{ id: "all_users" }];
  return {
    "@odata.type": `#microsoft.graph.${def.type}`,
    id: def.id,
    state,
    excludeTargets: (set?.excludeTargets ?? []).map((t) => ({ targetType: "group", id: t.id })),
    ...def.extra(set),
    includeTargets: include.map((t) => ({
      targetType: "group",
      id: t.id,
      isRegistrationRequired: t.isRegistrationRequired ?? false,
      ...(def.targetExtra ?? {}),
    })),
  };
}

/** `GET /policies/authenticationMethodsPolicy`: the policy with every configuration expanded. */
export const getMethodsPolicy: Handler = (ctx) =>
  ok({
    "@odata.context": `${ctx.root}/$metadata#authenticationMethodsPolicy`,
    id: "authenticationMethodsPolicy",
    displayName: "Authentication Methods Policy",
    description:
      "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
    lastModifiedDateTime: ctx.store.startedDateTime,
    policyVersion: "1.5",
    policyMigrationState: "migrationComplete",
    registrationEnforcement: {
      authenticationMethodsRegistrationCampaign: {
        snoozeDurationInDays: 1,
        state: "default",
        excludeTargets: [],
        includeTargets: [
          {
            id: "all_users",
            targetType: "group",
            targetedAuthenticationMethod: "microsoftAuthenticator",
          },
        ],
      },
    },
    authenticationMethodConfigurations: CONFIGURATIONS.map((def) =>
      configurationObject(ctx.store, def),
    ),
  });

/** `GET .../authenticationMethodConfigurations`. */
export const listMethodConfigurations: Handler = (ctx) =>
  ok({
    "@odata.context": `${ctx.root}/$metadata#${POLICY_PATH}/authenticationMethodConfigurations`,
    value: CONFIGURATIONS.map((def) => configurationObject(ctx.store, def)),
  });

/** `GET .../authenticationMethodConfigurations/{id}` (`sms`, `Voice`, ...: any case). */
export const getMethodConfiguration: Handler = (ctx, _req, params) => {
  const id = params.configuration ?? "";
  const def = CONFIGURATIONS.find((c) => c.id.toLowerCase() === id.toLowerCase());
  if (!def) {
    throw new GraphHttpError(
      404,
      "itemNotFound",
      `The authentication method configuration '${id}' does not exist.`,
    );
  }
  return ok({
    "@odata.context": `${ctx.root}/$metadata#${POLICY_PATH}/authenticationMethodConfigurations/$entity`,
    ...configurationObject(ctx.store, def),
  });
};
