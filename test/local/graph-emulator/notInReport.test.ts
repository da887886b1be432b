/**
 * Fixture `notInReport`: the registration report has no row for a user it has not caught up with
 * (an account created or enabled since its last refresh), while the directory lists the user.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const REPORT = "/v1.0/reports/authenticationMethods/userRegistrationDetails";

describe("a user the registration report has not caught up with", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    const tenant = smallTenant();
    tenant.users = tenant.users.map((u) => (u.id === "u5" ? { ...u, notInReport: true } : u));
    emu = await startEmulator({ tenant, config: { reportsQuota: 1000 } });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("has no row in the report list, with or without a filter, nor by id", async () => {
    const all = await client.call("GET", REPORT);
    expect(all.status).toBe(200);
    expect(all.body.value.map((r: { id: string }) => r.id)).toEqual(["u1", "u2", "u4", "u6"]);
    const admins = await client.call(
      "GET",
      `${REPORT}?$filter=${encodeURIComponent("isAdmin eq true")}`,
    );
    expect(admins.body.value).toEqual([]);
    expectEnvelope(await client.call("GET", `${REPORT}/u5`), 404, "Request_ResourceNotFound");
  });

  it("is still a user of the directory", async () => {
    const user = await client.call("GET", "/v1.0/users/u5?$select=id,accountEnabled");
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({ id: "u5", accountEnabled: true });
  });

  it("gets its row once an upsert no longer says notInReport", async () => {
    const u5 = smallTenant().users.find((u) => u.id === "u5")!;
    emu.upsertUser(u5);
    const row = await client.call("GET", `${REPORT}/u5`);
    expect(row.status).toBe(200);
    expect(row.body).toMatchObject({ id: "u5", isAdmin: true });
  });
});
