/**
 * Shared fixtures for the emulator tests: a small tenant and an https client that trusts the
 * emulator's CA.
 */
import { Agent, fetch } from "undici";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import type { EmulatorHandle } from "../../../local/graph-emulator/index.js";

export const TENANT_ID = "11111111-2222-3333-4444-555555555555";

/** A tenant covering the cases the tests need (ids are stable, numbers are fake). */
export function smallTenant(overrides: Partial<TenantFixture["tenant"]> = {}): TenantFixture {
  return {
    tenant: { id: TENANT_ID, domain: "contoso.example", ...overrides },
    groups: [
      { id: "g-staging", displayName: "Staging", members: ["u1", "u2", "g-nested"] },
      { id: "g-nested", displayName: "Nested", members: ["u3", "g-staging", "u1"] },
      { id: "g-quote", displayName: "O'Brien's team", members: ["u4"] },
      { id: "g-empty", displayName: "Empty", members: [] },
    ],
    users: [
      {
        id: "u1",
        userPrincipalName: "alice@contoso.example",
        displayName: "Alice",
        mobilePhone: "+45 20123456",
      },
      {
        id: "u2",
        userPrincipalName: "bob@contoso.example",
        mobilePhone: null,
        phoneMethods: [
          { phoneType: "mobile", phoneNumber: "+1 2065550100", smsSignInNumber: true },
        ],
      },
      {
        id: "u3",
        userPrincipalName: "carol@contoso.example",
        accountEnabled: false,
        mobilePhone: "555 0101",
      },
      {
        id: "u4",
        userPrincipalName: "o'brien@contoso.example",
        userType: "Guest",
        otherMethods: ["email"],
      },
      {
        id: "u5",
        userPrincipalName: "zoë.ünïcode@contoso.example",
        isAdmin: true,
        mobilePhone: "+44 7700900123",
        otherMethods: ["microsoftAuthenticatorPush"],
      },
      {
        id: "u6",
        userPrincipalName: "dave@contoso.example",
        phoneMethods: [
          { phoneType: "mobile", phoneNumber: "+1 2065550111" },
          { phoneType: "alternateMobile", phoneNumber: "+1 2065550112" },
        ],
      },
    ],
  };
}

/** A tenant of `n` plain users, for paging and throughput. */
export function bigTenant(n: number): TenantFixture {
  const users = [];
  for (let i = 0; i < n; i++) {
    users.push({
      id: `user-${i}`,
      userPrincipalName: `user${i}@big.example`,
      mobilePhone: i % 2 === 0 ? `+45 2${String(i).padStart(7, "0")}` : null,
      accountEnabled: i % 10 !== 9,
    });
  }
  return { tenant: { id: TENANT_ID, domain: "big.example" }, users };
}

/** A JSON answer. */
export interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field.
  body: any;
}

/** An https client bound to one emulator. */
export class GraphTestClient {
  readonly agent: Agent;
  constructor(readonly emu: EmulatorHandle) {
    this.agent = new Agent({ connect: { ca: emu.caCertPem } });
  }

  /**
   * Sends a request to the Graph server.
   *
   * @param method - HTTP method
   * @param path - path after the base URL, e.g. `/v1.0/users`
   * @param opts - token (null for none), headers, body (object = JSON, string = raw)
   */
  async call(
    method: string,
    path: string,
    opts: { token?: string | null; headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? this.emu.issueToken() : opts.token;
    if (token !== null) {
      headers.authorization = `Bearer ${token}`;
    }
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(`${this.emu.graphBaseUrl}${path}`, {
      method,
      headers,
      body,
      dispatcher: this.agent,
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers as unknown as Headers,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  /** GET on the admin API. */
  async admin(method: string, sub: string, body?: unknown): Promise<Answer> {
    const res = await fetch(`${this.emu.adminUrl}${sub}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers as unknown as Headers,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The Graph error envelope every failure must carry. */
export function expectEnvelope(a: Answer, status: number, code: string): void {
  if (a.status !== status || a.body?.error?.code !== code) {
    throw new Error(`Expected ${status} ${code}, got ${a.status} ${JSON.stringify(a.body)}`);
  }
  const inner = a.body.error.innerError;
  if (
    !inner ||
    typeof inner.date !== "string" ||
    typeof inner["request-id"] !== "string" ||
    typeof inner["client-request-id"] !== "string"
  ) {
    throw new Error(`Error envelope lacks innerError fields: ${JSON.stringify(a.body)}`);
  }
  if (!a.headers.get("request-id")) {
    throw new Error("Error answer lacks the request-id header.");
  }
}
