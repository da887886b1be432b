/**
 * Issues the access tokens every identity endpoint hands out (managed identity, client
 * credentials, device code, admin API, the handle's `issueToken`), counting them in the metrics.
 */
import type { EmulatorConfig } from "../config.js";
import type { MetricsCollector } from "../metrics.js";
import type { DelegatedClaims, TokenAuthority } from "../tokens.js";

/** The resource (or scope) names under which a token for Microsoft Graph is requested. */
export const GRAPH_RESOURCES = new Set([
  "https://graph.microsoft.com",
  "https://graph.microsoft.com/",
  "https://graph.microsoft.com/.default",
]);

/** Issues tokens for the emulator's one application. */
export class TokenIssuer {
  /**
   * @param tokens - the authority that signs and later verifies them
   * @param metrics - counts issued tokens
   * @param appId - client id of the emulator's application (the managed identity)
   * @param config - the current config (roles, lifetimes, timeScale)
   */
  constructor(
    private readonly tokens: TokenAuthority,
    private readonly metrics: MetricsCollector,
    readonly appId: string,
    private readonly config: () => EmulatorConfig,
  ) {}

  /**
   * Issues a token with explicit lifetimes.
   *
   * @param roles - application roles
   * @param realMs - lifetime the server honours, real ms
   * @param advertisedMs - lifetime announced in the token, real ms
   */
  issue(roles: string[], realMs: number, advertisedMs: number): string {
    this.metrics.recordToken();
    return this.tokens.issue(this.appId, roles, realMs, advertisedMs).token;
  }

  /**
   * A token for a test: the given roles and real lifetime, or the configured ones.
   *
   * @param opts - roles (default: `grantedRoles`) and lifetime in real seconds (default: the
   *   configured, scaled real and advertised lifetimes)
   */
  issueForTest(opts: { roles?: string[]; lifetimeSeconds?: number }): string {
    const config = this.config();
    const roles = opts.roles ?? config.grantedRoles;
    if (opts.lifetimeSeconds !== undefined) {
      const ms = opts.lifetimeSeconds * 1000;
      return this.issue(roles, ms, ms);
    }
    const scale = config.timeScale * 1000;
    const real = config.tokenLifetimeSeconds * scale;
    return this.issue(roles, real, config.advertisedTokenLifetimeSeconds * scale);
  }

  /**
   * A delegated token for a signed-in user of a public client, with the configured lifetimes.
   *
   * @param clientId - the public client (the token's `appid`)
   * @param delegated - granted scopes, the user's `oid`/`upn` and role template ids
   */
  issueDelegated(
    clientId: string,
    delegated: DelegatedClaims,
  ): { token: string; expiresOn: number; expiresIn: number } {
    const config = this.config();
    const scale = config.timeScale * 1000;
    const advertised = config.advertisedTokenLifetimeSeconds * scale;
    this.metrics.recordToken();
    const { token } = this.tokens.issue(
      clientId,
      [],
      config.tokenLifetimeSeconds * scale,
      advertised,
      delegated,
    );
    const expiresOn = Math.floor((Date.now() + advertised) / 1000);
    return { token, expiresOn, expiresIn: Math.max(1, Math.round(advertised / 1000)) };
  }

  /**
   * An id token for a signed-in user (clients decode it for the account; nobody verifies it).
   *
   * @param clientId - the audience
   * @param issuerUrl - `iss`, the authority's issuer
   * @param user - the signed-in user
   */
  idToken(
    clientId: string,
    issuerUrl: string,
    user: { id: string; userPrincipalName: string; displayName: string },
  ): string {
    const now = Math.floor(Date.now() / 1000);
    return this.tokens.signJwt({
      aud: clientId,
      iss: issuerUrl,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: user.displayName,
      oid: user.id,
      preferred_username: user.userPrincipalName,
      sub: user.id,
      tid: this.tokens.tenantId,
      ver: "2.0",
    });
  }

  /** A token as the identity endpoints issue it: granted roles, configured scaled lifetimes. */
  issueConfigured(): { token: string; expiresOn: number } {
    const config = this.config();
    const scale = config.timeScale * 1000;
    const advertised = config.advertisedTokenLifetimeSeconds * scale;
    const token = this.issue(config.grantedRoles, config.tokenLifetimeSeconds * scale, advertised);
    return { token, expiresOn: Math.floor((Date.now() + advertised) / 1000) };
  }
}
