/**
 * Credentials for Graph, chosen by the `GRAPH_AUTH` setting. Every credential here can be told to
 * drop its token ({@link GraphCredential.invalidate}), so a 401 from Graph is answered with one
 * fresh token instead of the cached one that Graph just refused.
 */
import https from "node:https";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import {
  AzureCliCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  DeviceCodeCredential,
  InteractiveBrowserCredential,
  type DeviceCodeCredentialOptions,
  type InteractiveBrowserCredentialNodeOptions,
} from "@azure/identity";
import { ManagedIdentityApplication } from "@azure/msal-node";
import { exposeManagedIdentityEndpoint } from "../settings/environment.js";
import type { Settings } from "../settings/index.js";
import { graphCloudOf, isLoopbackRoot, PUBLIC_GRAPH_ORIGIN } from "./clouds.js";
import { GRAPH_COMMAND_LINE_TOOLS_CLIENT_ID } from "./publicClients.js";

/** A token credential that can be told its token was refused. */
export interface GraphCredential extends TokenCredential {
  /** Forget the current token: the next `getToken` fetches a new one. */
  invalidate(): void;
}

/**
 * The token resource (audience) for a Graph base URL: its cloud's Graph, or the public cloud's
 * for a loopback emulator (which stands in for it).
 *
 * @param graphBaseUrl - the `GRAPH_BASE_URL` setting.
 */
export function graphResource(graphBaseUrl: string): string {
  const cloud = graphCloudOf(new URL(graphBaseUrl).origin);
  return cloud ? `https://${cloud.graphHost}` : PUBLIC_GRAPH_ORIGIN;
}

/**
 * The Entra ID authority that issues tokens for a Graph base URL's cloud; undefined for a
 * loopback emulator, whose credentials keep `@azure/identity`'s default (the public cloud).
 *
 * @param graphBaseUrl - the `GRAPH_BASE_URL` setting.
 */
export function graphAuthorityHost(graphBaseUrl: string): string | undefined {
  return graphCloudOf(new URL(graphBaseUrl).origin)?.authorityHost;
}

/** Refresh a token this long before it expires, so a request never carries one that dies in flight. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Keeps one token, refreshes it before expiry, and fetches a new one (bypassing any cache below)
 * after {@link GraphCredential.invalidate}.
 */
class RefreshingCredential implements GraphCredential {
  private current?: AccessToken;
  private pending?: Promise<AccessToken>;
  private forceNext = false;

  constructor(
    private readonly fetchToken: (
      forceRefresh: boolean,
      options?: GetTokenOptions,
    ) => Promise<AccessToken>,
    private readonly now: () => number = Date.now,
  ) {}

  async getToken(_scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    const current = this.current;
    if (current && !this.forceNext && current.expiresOnTimestamp - REFRESH_MARGIN_MS > this.now()) {
      return current;
    }
    // One fetch at a time: many requests in flight that all see an expired token share one refresh.
    if (!this.pending) {
      const force = this.forceNext;
      this.forceNext = false;
      this.pending = this.fetchToken(force, options)
        .then((token) => {
          this.current = token;
          return token;
        })
        .finally(() => {
          this.pending = undefined;
        });
    }
    return this.pending;
  }

  invalidate(): void {
    this.current = undefined;
    this.forceNext = true;
  }
}

/**
 * Managed identity through MSAL directly: `@azure/identity`'s ManagedIdentityCredential cannot
 * bypass MSAL's process-wide token cache, so after a 401 it would hand back the refused token.
 */
function managedIdentity(resource: string, clientId: string | undefined): GraphCredential {
  const app = new ManagedIdentityApplication(
    clientId ? { managedIdentityIdParams: { userAssignedClientId: clientId } } : {},
  );
  return new RefreshingCredential(async (forceRefresh) => {
    const result = await app.acquireToken({ resource, forceRefresh });
    return {
      token: result.accessToken,
      expiresOnTimestamp: (result.expiresOn ?? new Date(Date.now() + 3_600_000)).getTime(),
    };
  });
}

/**
 * Wraps an `@azure/identity` credential. Each such credential owns its MSAL cache, so a fresh
 * token after a 401 comes from a fresh instance.
 */
function fromIdentity(make: () => TokenCredential, scope: string): GraphCredential {
  let credential = make();
  return new RefreshingCredential(async (forceRefresh, options) => {
    if (forceRefresh) {
      credential = make();
    }
    const token = await credential.getToken(scope, options);
    if (!token) {
      throw new Error("GraphCredential: the credential returned no token.");
    }
    return token;
  });
}

/**
 * Wraps an administrator's sign-in (`deviceCode`, `interactive`). Unlike {@link fromIdentity}, a
 * refused token never replaces the instance: a fresh one would ask the administrator to sign in
 * again in the middle of a run nobody may be watching. The instance renews its token silently
 * with the refresh token MSAL holds, so a retry after a 401 gets what MSAL has now.
 */
function fromUserSignIn(credential: TokenCredential, scopes: string | string[]): GraphCredential {
  return new RefreshingCredential(async (_forceRefresh, options) => {
    const token = await credential.getToken(scopes, options);
    if (!token) {
      throw new Error("GraphCredential: the sign-in returned no token.");
    }
    return token;
  });
}

/** Options for {@link createGraphCredential}. */
export interface CredentialOptions {
  /** Where device-code instructions go (default stderr). */
  onDeviceCode?: (message: string) => void;
  /** The extra CA of a loopback emulator (`GRAPH_CA_FILE`), for a user sign-in at its Entra endpoints. */
  caPem?: string;
  /**
   * The delegated scopes an administrator's sign-in asks for, by name (`User.Read.All`): the CLI
   * passes exactly those its run needs. Without them the sign-in asks for `.default`, every scope
   * consented to the client.
   */
  userScopes?: readonly string[];
}

/** The settings a credential is built from. */
export type CredentialSettings = Pick<
  Settings,
  | "graphAuth"
  | "graphBaseUrl"
  | "tenantId"
  | "clientId"
  | "clientSecret"
  | "clientCertificatePath"
  | "identityEndpoint"
  | "identityHeader"
>;

/**
 * The scopes a user sign-in asks for, named for the cloud's Graph
 * (`https://graph.microsoft.us/User.Read.All`); `.default` when none are named.
 *
 * @param graphBaseUrl - the `GRAPH_BASE_URL` setting.
 * @param names - scope names, as {@link CredentialOptions.userScopes}.
 */
export function userSignInScopes(
  graphBaseUrl: string,
  names?: readonly string[],
): string | string[] {
  const resource = graphResource(graphBaseUrl);
  return names === undefined || names.length === 0
    ? `${resource}/.default`
    : names.map((scope) => `${resource}/${scope}`);
}

/**
 * The client a user sign-in uses: `AZURE_CLIENT_ID` (the tenant's own app registration), else the
 * Microsoft Graph Command Line Tools, a public client an admin can consent Graph scopes to.
 *
 * @param settings - the settings.
 */
export function userSignInClientId(settings: Pick<Settings, "clientId">): string {
  return settings.clientId ?? GRAPH_COMMAND_LINE_TOOLS_CLIENT_ID;
}

/**
 * The options `DeviceCodeCredential` and `InteractiveBrowserCredential` share: tenant, client,
 * and the authority. A cloud's Graph signs in at that cloud's Entra ID. A loopback emulator plays
 * Entra ID itself (its device-code and token endpoints, trusted through `GRAPH_CA_FILE`), so no
 * real administrator's token ever goes to a local process.
 */
function userSignInOptions(
  settings: CredentialSettings,
  caPem: string | undefined,
): DeviceCodeCredentialOptions & InteractiveBrowserCredentialNodeOptions {
  const root = new URL(settings.graphBaseUrl).origin;
  const common = {
    clientId: userSignInClientId(settings),
    ...(settings.tenantId ? { tenantId: settings.tenantId } : {}),
  };
  if (!isLoopbackRoot(root)) {
    const authorityHost = graphAuthorityHost(settings.graphBaseUrl);
    return { ...common, ...(authorityHost === undefined ? {} : { authorityHost }) };
  }
  const agent = caPem === undefined ? undefined : new https.Agent({ ca: caPem });
  return {
    ...common,
    authorityHost: root,
    disableInstanceDiscovery: true,
    additionalPolicies: agent
      ? [
          {
            position: "perCall",
            policy: {
              name: "graphEmulatorCa",
              sendRequest: (request, next) => {
                request.agent = agent;
                return next(request);
              },
            },
          },
        ]
      : [],
  };
}

/**
 * Creates the credential that `GRAPH_AUTH` asks for.
 *
 * @param settings - validated settings (auth mode, tenant, client id, secret or certificate path,
 *   and the managed-identity endpoint when the settings name one).
 * @param options - device-code prompt sink, an emulator's CA, and a user sign-in's scopes.
 */
export function createGraphCredential(
  settings: CredentialSettings,
  options: CredentialOptions = {},
): GraphCredential {
  const resource = graphResource(settings.graphBaseUrl);
  const scope = `${resource}/.default`;
  const { tenantId, clientId } = settings;
  // App registrations sign in at their own cloud's authority; the Azure CLI keeps its own cloud.
  const authorityHost = graphAuthorityHost(settings.graphBaseUrl);
  const authority = authorityHost === undefined ? {} : { authorityHost };
  switch (settings.graphAuth) {
    case "managedIdentity":
      if (settings.identityEndpoint !== undefined && settings.identityHeader !== undefined) {
        exposeManagedIdentityEndpoint(settings.identityEndpoint, settings.identityHeader);
      }
      return managedIdentity(resource, clientId);
    case "clientSecret":
      return fromIdentity(
        () =>
          new ClientSecretCredential(
            tenantId ?? "",
            clientId ?? "",
            settings.clientSecret ?? "",
            authority,
          ),
        scope,
      );
    case "clientCertificate":
      return fromIdentity(
        () =>
          new ClientCertificateCredential(
            tenantId ?? "",
            clientId ?? "",
            {
              certificatePath: settings.clientCertificatePath ?? "",
            },
            authority,
          ),
        scope,
      );
    case "azureCli":
      return fromIdentity(() => new AzureCliCredential(tenantId ? { tenantId } : {}), scope);
    case "deviceCode": {
      const onDeviceCode = options.onDeviceCode ?? ((m: string) => process.stderr.write(`${m}\n`));
      return fromUserSignIn(
        new DeviceCodeCredential({
          ...userSignInOptions(settings, options.caPem),
          userPromptCallback: (info) => onDeviceCode(info.message),
        }),
        userSignInScopes(settings.graphBaseUrl, options.userScopes),
      );
    }
    case "interactive":
      return fromUserSignIn(
        new InteractiveBrowserCredential(userSignInOptions(settings, options.caPem)),
        userSignInScopes(settings.graphBaseUrl, options.userScopes),
      );
  }
}

/** Internal, exported for tests of the refresh rules. */
export const __test = { RefreshingCredential };
