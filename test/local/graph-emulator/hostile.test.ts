import { describe, expect, it } from "vitest";
import { startEmulator } from "../../../local/graph-emulator/index.js";
import { GraphTestClient, smallTenant } from "./helpers.js";

describe("hostile profile", () => {
  it("produces throttling storms, 5xx, resets and mid-run token expiry behind a long advertised expiry", async () => {
    // 1,000 times faster: storms every 0.3 s, real token lifetime 0.6 s, advertised 4.5 s.
    const emu = await startEmulator({
      tenant: smallTenant(),
      profile: "hostile",
      // Longer storms than the profile's so a loaded test machine cannot step over them.
      config: { timeScale: 0.001, seed: 5, storm: { periodSeconds: 300, durationSeconds: 100 } },
    });
    const client = new GraphTestClient(emu);
    const tokenRes = await fetch(
      `${emu.identityEndpoint}?resource=https://graph.microsoft.com&api-version=2019-08-01`,
      {
        headers: { "X-IDENTITY-HEADER": emu.identityHeader },
      },
    );
    const { access_token: token, expires_on: expiresOn } = (await tokenRes.json()) as Record<
      string,
      string
    >;
    expect(Number(expiresOn) * 1000 - Date.now()).toBeGreaterThan(3000);
    const statuses = new Map<number | string, number>();
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < 1500) {
      let key: number | string;
      // Alternates the managed-identity token with fresh ones, so storms stay visible after the
      // first token has died.
      const t = n++ % 2 === 0 ? token : emu.issueToken();
      try {
        key = (await client.call("GET", "/v1.0/users/u1/authentication/phoneMethods", { token: t }))
          .status;
      } catch {
        key = "reset";
      }
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(401)).toBeGreaterThan(0);
    expect(statuses.get(429)).toBeGreaterThan(0);
    await client.close();
    await emu.close();
  });
});
