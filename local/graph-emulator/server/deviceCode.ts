/**
 * Entra ID's device authorization grant (learn: "OAuth 2.0 device authorization grant"), for
 * `DeviceCodeCredential` with authorityHost = graphBaseUrl and `disableInstanceDiscovery`:
 * `POST /{tenant}/oauth2/v2.0/devicecode` hands out a device code and a user code; the token
 * endpoint answers `authorization_pending` until the code is approved (admin API, or
 * `deviceCodeAutoApprove`), then a delegated token for Graph whose `scp` holds the requested scopes
 * the public client carries, with the user's `oid`, `upn` and role template ids (`wids`), plus an
 * id token, client info and a refresh token as MSAL expects them.
 */
import { randomBytes } from "node:crypto";
import type { EmulatorConfig, PublicClient } from "../config.js";
import type { TenantStore, UserRec } from "../store.js";
import { roleDefinitionIdOf } from "../tenant/roles.js";
import {
  answeredScope,
  grantedScopes,
  oauthError,
  parseScopes,
  type OAuthAnswer,
  type RequestedScopes,
} from "./oauth.js";
import type { TokenIssuer } from "./tokenIssuer.js";

/** What the flow needs from the emulator. */
export interface DeviceCodeContext {
  store: TenantStore;
  issuer: TokenIssuer;
  config: () => EmulatorConfig;
  /** Absolute https root, known once the server listens. */
  baseUrl: () => string;
}

/** Where a device code stands. */
export type DeviceCodeState = "pending" | "approved" | "declined" | "redeemed" | "expired";

/** A device code as `GET {adminUrl}/device-codes` shows it. */
export interface DeviceCodeSummary {
  userCode: string;
  clientId: string;
  /** The delegated scopes its token will carry. */
  scopes: string[];
  state: DeviceCodeState;
  /** Token polls so far. */
  polls: number;
  /** UPN of the approving user, once approved. */
  user?: string;
}

/** Why an admin action on a device code was refused: HTTP status and message. */
export interface Refusal {
  status: number;
  message: string;
}

/** A signed-in user and the template ids of the user's directory roles. */
interface SignIn {
  user: UserRec;
  wids: string[];
}

interface DeviceCodeGrant {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  requested: RequestedScopes;
  expiresAtMs: number;
  polls: number;
  state: "pending" | "approved" | "declined" | "redeemed";
  signIn?: SignIn;
}

/** What a refresh token stands for. */
interface RefreshGrant {
  clientId: string;
  signIn: SignIn;
}

/** Letters and digits of user codes, without look-alikes. */
const USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const VERIFICATION_URI = "https://microsoft.com/devicelogin";

function userCode(): string {
  return [...randomBytes(9)].map((b) => USER_CODE_ALPHABET[b % 32]).join("");
}

/** The device-code flow's codes, sign-ins and refresh tokens. */
export class DeviceCodeFlow {
  private readonly byDeviceCode = new Map<string, DeviceCodeGrant>();
  private readonly byUserCode = new Map<string, DeviceCodeGrant>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();

  /** @param ctx - tenant, issuer, config and base URL */
  constructor(private readonly ctx: DeviceCodeContext) {}

  private client(clientId: string): PublicClient | OAuthAnswer {
    const clients = this.ctx.config().publicClients;
    const client = Object.hasOwn(clients, clientId) ? clients[clientId] : undefined;
    return (
      client ??
      oauthError(
        400,
        "unauthorized_client",
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${this.ctx.store.domain}'.`,
      )
    );
  }

  // The scopes a request for a public client names, and those of them it gets; or the refusal of
  // an unknown client or a malformed scope.
  private askedScopes(
    clientId: string,
    form: URLSearchParams,
  ): { requested: RequestedScopes; scopes: string[] } | OAuthAnswer {
    const client = this.client(clientId);
    if ("status" in client) {
      return client;
    }
    const requested = parseScopes(form.get("scope") ?? "");
    if ("status" in requested) {
      return requested;
    }
    return { requested, scopes: grantedScopes(requested, client.scopes) };
  }

  /**
   * `POST /{tenant}/oauth2/v2.0/devicecode` (`client_id`, `scope`).
   *
   * @param form - the form body
   */
  authorize(form: URLSearchParams): OAuthAnswer {
    const clientId = (form.get("client_id") ?? "").toLowerCase();
    const asked = this.askedScopes(clientId, form);
    if ("status" in asked) {
      return asked;
    }
    const config = this.ctx.config();
    const lifetimeS = config.deviceCodeLifetimeSeconds * config.timeScale;
    const grant: DeviceCodeGrant = {
      deviceCode: randomBytes(48).toString("base64url"),
      userCode: userCode(),
      clientId,
      scopes: asked.scopes,
      requested: asked.requested,
      expiresAtMs: Date.now() + lifetimeS * 1000,
      polls: 0,
      state: "pending",
    };
    this.byDeviceCode.set(grant.deviceCode, grant);
    this.byUserCode.set(grant.userCode, grant);
    return {
      status: 200,
      body: {
        user_code: grant.userCode,
        device_code: grant.deviceCode,
        verification_uri: VERIFICATION_URI,
        expires_in: Math.max(1, Math.round(lifetimeS)),
        // Fractional when time is scaled (MSAL waits interval x 1000 ms); Entra sends 5.
        interval: config.deviceCodeIntervalSeconds * config.timeScale,
        message: `To sign in, use a web browser to open the page ${VERIFICATION_URI} and enter the code ${grant.userCode} to authenticate.`,
      },
    };
  }

  /**
   * The token endpoint's `urn:ietf:params:oauth:grant-type:device_code` grant.
   *
   * @param form - the form body (`client_id`, `device_code`, `client_info`)
   */
  redeem(form: URLSearchParams): OAuthAnswer {
    const grant = this.byDeviceCode.get(form.get("device_code") ?? "");
    if (!grant || grant.clientId !== (form.get("client_id") ?? "").toLowerCase()) {
      return oauthError(
        400,
        "bad_verification_code",
        "The device_code sent to the token endpoint wasn't recognized.",
      );
    }
    grant.polls++;
    if (grant.state === "redeemed") {
      return oauthError(
        400,
        "invalid_grant",
        "The provided value for the input parameter 'device_code' is not valid. It has already been redeemed.",
      );
    }
    if (grant.state === "declined") {
      return oauthError(
        400,
        "authorization_declined",
        "The end user denied the authorization request.",
      );
    }
    if (this.stateOf(grant) === "expired") {
      return oauthError(
        400,
        "expired_token",
        "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
      );
    }
    const auto = this.autoApprove(grant);
    if (auto) {
      return auto;
    }
    if (grant.state !== "approved" || !grant.signIn) {
      return oauthError(
        400,
        "authorization_pending",
        "AADSTS70016: The provided request has not yet been authorized by the user. The user must input their code.",
      );
    }
    grant.state = "redeemed";
    return this.tokens(grant.clientId, grant.scopes, grant.requested, grant.signIn, form);
  }

  /** Approves a pending code as `deviceCodeAutoApprove` says; an error answer if it cannot. */
  private autoApprove(grant: DeviceCodeGrant): OAuthAnswer | undefined {
    const auto = this.ctx.config().deviceCodeAutoApprove;
    if (grant.state !== "pending" || !auto.enabled || grant.polls <= auto.pendingPolls) {
      return undefined;
    }
    const signIn = this.signIn(auto.user, auto.roles);
    if (typeof signIn === "string") {
      return oauthError(400, "invalid_grant", `GraphEmulator: deviceCodeAutoApprove: ${signIn}`);
    }
    grant.signIn = signIn;
    grant.state = "approved";
    return undefined;
  }

  /**
   * The token endpoint's `refresh_token` grant (MSAL's silent renewal).
   *
   * @param form - the form body (`client_id`, `refresh_token`, `scope`, `client_info`)
   */
  refresh(form: URLSearchParams): OAuthAnswer {
    const held = this.refreshTokens.get(form.get("refresh_token") ?? "");
    const clientId = (form.get("client_id") ?? "").toLowerCase();
    if (!held || held.clientId !== clientId) {
      return oauthError(
        400,
        "invalid_grant",
        "AADSTS9002313: Invalid request. Request is malformed or invalid.",
      );
    }
    const asked = this.askedScopes(clientId, form);
    if ("status" in asked) {
      return asked;
    }
    return this.tokens(clientId, asked.scopes, asked.requested, held.signIn, form);
  }

  /** The successful token answer: access token, and id token, client info, refresh token. */
  private tokens(
    clientId: string,
    scopes: string[],
    requested: RequestedScopes,
    signIn: SignIn,
    form: URLSearchParams,
  ): OAuthAnswer {
    const oidc = requested.oidc;
    const { user, wids } = signIn;
    const delegated = { scopes, oid: user.id, upn: user.userPrincipalName, wids };
    const { token, expiresIn } = this.ctx.issuer.issueDelegated(clientId, delegated);
    const tenantId = this.ctx.store.tenantId;
    const body: Record<string, unknown> = {
      token_type: "Bearer",
      scope: answeredScope(requested, scopes),
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: token,
    };
    if (oidc.includes("openid")) {
      const issuer = `${this.ctx.baseUrl()}/${tenantId}/v2.0`;
      body.id_token = this.ctx.issuer.idToken(clientId, issuer, user);
    }
    if (oidc.includes("offline_access")) {
      const refreshToken = randomBytes(48).toString("base64url");
      this.refreshTokens.set(refreshToken, { clientId, signIn });
      body.refresh_token = refreshToken;
    }
    if (form.get("client_info") === "1") {
      body.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: tenantId })).toString(
        "base64url",
      );
    }
    return { status: 200, body };
  }

  /**
   * The user and role template ids of a sign-in, or why there is none. Without `roles` the user
   * has the active roles the tenant gives it, as Entra's `wids` would carry them.
   */
  private signIn(userRef: string, roles: readonly string[] | undefined): SignIn | string {
    const user = this.ctx.store.findUser(userRef);
    if (!user) {
      return `no user '${userRef}' in the tenant.`;
    }
    if (roles === undefined) {
      return { user, wids: this.ctx.store.roles.activeRoleIds(user.id) };
    }
    const wids: string[] = [];
    for (const role of roles) {
      const id = roleDefinitionIdOf(String(role));
      if (id === undefined) {
        return `unknown directory role '${String(role)}' (give a built-in role's display name or template id).`;
      }
      wids.push(id);
    }
    return { user, wids };
  }

  /**
   * Approves a pending code as a user with directory roles (`POST {adminUrl}/device-codes/{code}/approve`).
   *
   * @param code - the user code
   * @param userRef - UPN or object id of the user who signs in
   * @param roles - the user's directory roles: display names or template ids; undefined: those the
   *   tenant gives the user
   * @returns the code's summary, or the status and message of the refusal
   */
  approve(
    code: string,
    userRef: string,
    roles: readonly string[] | undefined,
  ): DeviceCodeSummary | Refusal {
    const grant = this.pendingGrant(code);
    if ("message" in grant) {
      return grant;
    }
    const signIn = this.signIn(userRef, roles);
    if (typeof signIn === "string") {
      return {
        status: signIn.startsWith("no user") ? 404 : 400,
        message: `GraphEmulator: ${signIn}`,
      };
    }
    grant.signIn = signIn;
    grant.state = "approved";
    return this.summary(grant);
  }

  /**
   * Declines a pending code: the next poll gets `authorization_declined`.
   *
   * @param code - the user code
   * @returns the code's summary, or the refusal
   */
  decline(code: string): DeviceCodeSummary | Refusal {
    const grant = this.pendingGrant(code);
    if ("message" in grant) {
      return grant;
    }
    grant.state = "declined";
    return this.summary(grant);
  }

  // The pending code an admin action names, or why there is none to act on.
  private pendingGrant(code: string): DeviceCodeGrant | Refusal {
    const grant = this.byUserCode.get(code.toUpperCase());
    if (!grant) {
      return { status: 404, message: `GraphEmulator: no device code with user code '${code}'.` };
    }
    if (this.stateOf(grant) !== "pending") {
      return {
        status: 409,
        message: `GraphEmulator: device code '${code}' is ${this.stateOf(grant)}, not pending.`,
      };
    }
    return grant;
  }

  /** Every device code handed out, oldest first. */
  list(): DeviceCodeSummary[] {
    return [...this.byUserCode.values()].map((g) => this.summary(g));
  }

  private stateOf(grant: DeviceCodeGrant): DeviceCodeState {
    return grant.state === "pending" && Date.now() >= grant.expiresAtMs ? "expired" : grant.state;
  }

  private summary(grant: DeviceCodeGrant): DeviceCodeSummary {
    return {
      userCode: grant.userCode,
      clientId: grant.clientId,
      scopes: [...grant.scopes],
      state: this.stateOf(grant),
      polls: grant.polls,
      ...(grant.signIn ? { user: grant.signIn.user.userPrincipalName } : {}),
    };
  }
}
