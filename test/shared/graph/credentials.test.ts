import { describe, expect, it } from "vitest";
import { __test, createGraphCredential, graphResource } from "../../../shared/graph/credentials.js";

const { RefreshingCredential } = __test;

describe("graphResource", () => {
  it("uses a national cloud's own origin and the public cloud for anything else", () => {
    expect(graphResource("https://graph.microsoft.us")).toBe("https://graph.microsoft.us");
    expect(graphResource("https://graph.microsoft.com")).toBe("https://graph.microsoft.com");
    expect(graphResource("https://127.0.0.1:8443")).toBe("https://graph.microsoft.com");
  });
});

describe("RefreshingCredential", () => {
  it("reuses a token until five minutes before expiry, then fetches a new one", async () => {
    let now = 0;
    let fetched = 0;
    const cred = new RefreshingCredential(
      async () => ({ token: `t${++fetched}`, expiresOnTimestamp: now + 3_600_000 }),
      () => now,
    );
    expect((await cred.getToken("s"))?.token).toBe("t1");
    now = 3_600_000 - 301_000;
    expect((await cred.getToken("s"))?.token).toBe("t1");
    now = 3_600_000 - 299_000;
    expect((await cred.getToken("s"))?.token).toBe("t2");
  });

  it("fetches once for many concurrent callers and forces a refresh after invalidate", async () => {
    const forced: boolean[] = [];
    const cred = new RefreshingCredential(async (force) => {
      forced.push(force);
      await new Promise((r) => setTimeout(r, 5));
      return { token: `t${forced.length}`, expiresOnTimestamp: Date.now() + 3_600_000 };
    });
    const tokens = await Promise.all(Array.from({ length: 10 }, () => cred.getToken("s")));
    expect(new Set(tokens.map((t) => t?.token))).toEqual(new Set(["t1"]));
    cred.invalidate();
    expect((await cred.getToken("s"))?.token).toBe("t2");
    expect(forced).toEqual([false, true]);
  });
});

describe("createGraphCredential", () => {
  it("builds every documented auth mode without contacting anything", () => {
    for (const graphAuth of [
      "managedIdentity",
      "clientSecret",
      "clientCertificate",
      "azureCli",
      "deviceCode",
    ] as const) {
      const cred = createGraphCredential({
        graphAuth,
        graphBaseUrl: "https://graph.microsoft.com",
        tenantId: "00000000-0000-4000-8000-000000000001",
        clientId: "00000000-0000-4000-8000-000000000002",
        clientSecret: "x",
        clientCertificatePath: "/nonexistent.pem",
      });
      expect(typeof cred.getToken).toBe("function");
      expect(typeof cred.invalidate).toBe("function");
    }
  });
});
