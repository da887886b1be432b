import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { Prng } from "../../../local/graph-emulator/policies/random.js";
import { GraphTestClient, smallTenant } from "./helpers.js";

describe("bad input", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: smallTenant() });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("answers /users/$count as text only with ConsistencyLevel eventual", async () => {
    const without = await client.call("GET", "/v1.0/users/$count");
    expect(without.status).toBe(400);
    expect(without.body.error.code).toBe("Request_BadRequest");
    const res = await fetch(
      `${emu.graphBaseUrl}/v1.0/users/$count?$filter=accountEnabled%20eq%20true`,
      {
        headers: { authorization: `Bearer ${emu.issueToken()}`, ConsistencyLevel: "eventual" },
        // @ts-expect-error -- Node 20's fetch takes an undici dispatcher; the DOM types do not know it.
        dispatcher: client.agent,
      },
    );
    expect(await res.text()).toBe("5");
  });

  it("answers every garbled request with a Graph envelope and a request-id, and keeps serving", async () => {
    const prng = new Prng(99);
    const pick = <T>(xs: T[]): T => xs[Math.floor(prng.next() * xs.length)] as T;
    const paths = [
      "/v1.0/users",
      "/v1.0/users/u1",
      "/v1.0/users/u1/authentication/phoneMethods",
      "/v1.0/users/u1/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7",
      "/v1.0/groups",
      "/v1.0/groups/g-staging/transitiveMembers/microsoft.graph.user",
      "/v1.0/reports/authenticationMethods/userRegistrationDetails",
      "/v1.0/$batch",
      "/v1.0",
      "/v1.0/users/%",
      "/v1.0//users",
      "/beta/users/u1/authentication/methods/x",
      "/v1.0/users/u1/authentication/phoneMethods/%ZZ",
    ];
    const queries = [
      "",
      "?$top=",
      "?$top=1e3",
      "?$filter=",
      "?$filter=%27",
      "?$filter=not",
      "?$filter=a%20eq%20b%20eq%20c",
      "?$filter=methodsRegistered/any(m:n%20eq%201)",
      "?$select=,,",
      "?$skiptoken=%00",
      "?$count=maybe",
      "?$filter=startsWith(displayName,1)",
    ];
    const bodies: (string | undefined)[] = [
      undefined,
      "",
      "null",
      "[]",
      "42",
      '"x"',
      "{",
      '{"requests":null}',
      '{"requests":[null]}',
      '{"requests":[{"id":"1","method":"GET","url":"/users","headers":[]}]}',
      '{"requests":[{"id":"1","method":"GET","url":"/users","dependsOn":"x"}]}',
      '{"phoneNumber":null,"phoneType":"mobile"}',
      '{"phoneNumber":"+1 2","phoneType":{}}',
    ];
    const methods = ["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"];
    for (let i = 0; i < 150; i++) {
      const method = pick(methods);
      const body = method === "GET" ? undefined : pick(bodies);
      const r = await client.call(method, pick(paths) + pick(queries), {
        body,
        token: prng.next() < 0.1 ? "x.y.z" : undefined,
      });
      expect(r.headers.get("request-id")).toBeTruthy();
      if (r.status >= 400) {
        expect(r.body.error.innerError["request-id"]).toBeTruthy();
        expect(r.status).toBeLessThan(500);
      }
    }
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
  });

  it("answers bad admin and identity requests without falling over", async () => {
    const granted = [...emu.config.grantedRoles];
    for (const body of [
      '{"latency": 5}',
      '{"grantedRoles": "x"}',
      '{"storm": null}',
      '{"defaultLatency": {"meanMs": "slow"}}',
      "[]",
    ]) {
      expect((await fetch(`${emu.adminUrl}/config`, { method: "POST", body })).status).toBe(400);
    }
    expect(emu.config.grantedRoles).toEqual(granted);
    const weird = await fetch(`${emu.identityEndpoint}?resource=%ZZ`, {
      headers: { "X-IDENTITY-HEADER": emu.identityHeader },
    });
    expect(weird.status).toBe(400);
    expect((await client.admin("GET", "/metrics")).status).toBe(200);
  });
});
