/**
 * Access tokens: JWT-looking strings whose payload is signed with the emulator's own HMAC key.
 * Clients treat them as opaque; the server reads roles and the honoured expiry from them.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The claims of a token issued to a signed-in user (delegated), absent on app-only tokens. */
export interface DelegatedClaims {
  /** Delegated scopes granted (`scp`), e.g. `UserAuthenticationMethod.ReadWrite.All`. */
  scopes: string[];
  /** Object id of the signed-in user. */
  oid: string;
  /** UPN of the signed-in user. */
  upn: string;
  /** Template ids of the user's directory roles (`wids`). */
  wids: string[];
}

/** What the server knows about a valid token. */
export interface TokenClaims {
  appId: string;
  tenantId: string;
  /** Application roles (app-only tokens); empty on delegated tokens. */
  roles: string[];
  /** Set on delegated tokens: Graph then checks `scp` (and the user's roles) instead of `roles`. */
  delegated?: DelegatedClaims;
  /** Advertised expiry, epoch seconds. */
  exp: number;
  /** Expiry the server honours, epoch milliseconds. */
  realExpMs: number;
  /** Issue sequence number, used for revocation. */
  seq: number;
}

/** Why a token was refused. */
export type TokenFailure = "missing" | "malformed" | "expired" | "revoked";

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Issues and verifies the emulator's tokens. */
export class TokenAuthority {
  private readonly key = randomBytes(32);
  private seq = 0;
  private minValidSeq = 0;

  /**
   * @param tenantId - tenant the tokens are for
   */
  constructor(readonly tenantId: string) {}

  /**
   * Issues a token.
   *
   * @param appId - client id of the application
   * @param roles - application roles
   * @param realLifetimeMs - lifetime the server honours, real milliseconds
   * @param advertisedLifetimeMs - lifetime claimed in `exp`, real milliseconds
   * @param delegated - the signed-in user and granted scopes, for a delegated token
   * @returns the token and its claims
   */
  issue(
    appId: string,
    roles: string[],
    realLifetimeMs: number,
    advertisedLifetimeMs: number,
    delegated?: DelegatedClaims,
  ): { token: string; claims: TokenClaims } {
    const now = Date.now();
    const claims: TokenClaims = {
      appId,
      tenantId: this.tenantId,
      roles: [...roles],
      exp: Math.floor((now + advertisedLifetimeMs) / 1000),
      realExpMs: now + realLifetimeMs,
      seq: ++this.seq,
    };
    // As Entra's tokens: `scp` is one space-separated string, `wids` the role template ids.
    const user = delegated
      ? {
          idtyp: "user",
          scp: delegated.scopes.join(" "),
          oid: delegated.oid,
          upn: delegated.upn,
          wids: [...delegated.wids],
        }
      : { idtyp: "app", roles: claims.roles };
    if (delegated) {
      claims.delegated = { ...delegated, scopes: [...delegated.scopes], wids: [...delegated.wids] };
    }
    const token = this.signJwt({
      aud: "https://graph.microsoft.com",
      iss: `https://sts.windows.net/${this.tenantId}/`,
      iat: Math.floor(now / 1000),
      nbf: Math.floor(now / 1000),
      exp: claims.exp,
      appid: appId,
      tid: this.tenantId,
      ...user,
      xrx: claims.realExpMs,
      seq: claims.seq,
    });
    return { token, claims };
  }

  /**
   * A JWT of the given claims signed with the emulator's key (id tokens; clients only decode them).
   *
   * @param payload - the claims
   */
  signJwt(payload: Record<string, unknown>): string {
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "HS256", kid: "graph-emulator" }));
    const body = b64url(JSON.stringify(payload));
    return `${header}.${body}.${this.sign(`${header}.${body}`)}`;
  }

  /** Makes every token issued so far invalid. */
  revokeAll(): void {
    this.minValidSeq = this.seq + 1;
  }

  /**
   * Verifies a bearer token.
   *
   * @param token - the token, without the `Bearer ` prefix
   * @param expiryGraceMs - how long after its expiry a token still passes (clock-skew tolerance;
   *   see {@link isExpired} for who checks strictly afterwards)
   * @returns the claims, or the reason for refusal
   */
  verify(token: string | undefined, expiryGraceMs = 0): TokenClaims | TokenFailure {
    if (!token) {
      return "missing";
    }
    const parts = token.split(".");
    if (parts.length !== 3) {
      return "malformed";
    }
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2] ?? "");
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return "malformed";
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8")) as Record<
        string,
        unknown
      >;
    } catch {
      return "malformed";
    }
    const claims: TokenClaims = {
      appId: String(payload.appid),
      tenantId: String(payload.tid),
      roles: Array.isArray(payload.roles) ? payload.roles.map(String) : [],
      exp: Number(payload.exp),
      realExpMs: Number(payload.xrx),
      seq: Number(payload.seq),
    };
    if (payload.idtyp === "user") {
      claims.delegated = {
        scopes: String(payload.scp ?? "")
          .split(" ")
          .filter((sc) => sc !== ""),
        oid: String(payload.oid),
        upn: String(payload.upn),
        wids: Array.isArray(payload.wids) ? payload.wids.map(String) : [],
      };
    }
    if (claims.seq < this.minValidSeq) {
      return "revoked";
    }
    if (isExpired(claims, Date.now() - expiryGraceMs)) {
      return "expired";
    }
    return claims;
  }

  private sign(data: string): string {
    return createHmac("sha256", this.key).update(data).digest("base64url");
  }
}

/**
 * Whether a token's honoured or advertised expiry, whichever comes first, has passed.
 *
 * @param claims - the token's claims
 * @param nowMs - the time to check at, epoch milliseconds (default: now)
 */
export function isExpired(claims: TokenClaims, nowMs: number = Date.now()): boolean {
  return nowMs >= Math.min(claims.realExpMs, claims.exp * 1000);
}
