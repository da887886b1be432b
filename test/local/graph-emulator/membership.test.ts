/**
 * Group membership changes through the admin API (issue 11): plain member reads see them at once,
 * advanced queries (ConsistencyLevel eventual and/or $count) only after `advancedQueryLagMs`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PROFILES,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, TENANT_ID, type Answer } from "./helpers.js";

const EVENTUAL = { ConsistencyLevel: "eventual" };
const PLAIN = "/v1.0/groups/g-break-glass/transitiveMembers?$select=id&$top=999";
const ADVANCED =
  "/v1.0/groups/g-break-glass/transitiveMembers/microsoft.graph.user?$select=id&$count=true";

function tenant(): TenantFixture {
  return {
    tenant: { id: TENANT_ID, domain: "contoso.example" },
    groups: [
      { id: "g-break-glass", displayName: "Break Glass Accounts", members: ["bg1", "g-nested"] },
      { id: "g-nested", displayName: "Nested", members: ["bg2"] },
      {
        id: "g-admins",
        displayName: "Helpdesk",
        isAssignableToRole: true,
        members: [],
        directoryRoles: [{ role: "Helpdesk Administrator" }],
      },
    ],
    users: [
      { id: "bg1", userPrincipalName: "bg1@contoso.example" },
      { id: "bg2", userPrincipalName: "bg2@contoso.example" },
      { id: "late", userPrincipalName: "late@contoso.example" },
    ],
  };
}

const ids = (a: Answer): string[] => a.body.value.map((m: { id: string }) => m.id).sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("group membership changes", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: tenant() });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("lists members of every type with @odata.type on a plain read without a cast", async () => {
    const r = await client.call("GET", PLAIN);
    expect(r.status).toBe(200);
    expect(r.body.value).toEqual([
      { "@odata.type": "#microsoft.graph.user", id: "bg1" },
      { "@odata.type": "#microsoft.graph.user", id: "bg2" },
      { "@odata.type": "#microsoft.graph.group", id: "g-nested" },
    ]);
  });

  it("has no lag in the fast profile and a lag of a few seconds in realistic and hostile", () => {
    expect(PROFILES.fast.advancedQueryLagMs).toBe(0);
    for (const lag of [
      PROFILES.realistic.advancedQueryLagMs,
      PROFILES.hostile.advancedQueryLagMs,
    ]) {
      expect(lag).toBeGreaterThanOrEqual(1000);
      expect(lag).toBeLessThanOrEqual(60_000);
    }
  });

  it("adds and removes members through the admin API, seen at once without a lag", async () => {
    const added = await client.admin("POST", "/groups/g-break-glass/members", { id: "late" });
    expect(added.status).toBe(204);
    expect(ids(await client.call("GET", PLAIN))).toEqual(["bg1", "bg2", "g-nested", "late"]);
    expect(ids(await client.call("GET", ADVANCED, { headers: EVENTUAL }))).toEqual(["bg1", "bg2", "late"]);
    const again = await client.admin("POST", "/groups/g-break-glass/members", { id: "late" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ changed: false });
    expect((await client.admin("DELETE", "/groups/g-break-glass/members/late")).status).toBe(204);
    expect(ids(await client.call("GET", PLAIN))).toEqual(["bg1", "bg2", "g-nested"]);
    expect((await client.admin("DELETE", "/groups/g-break-glass/members/late")).body).toEqual({ changed: false });
  }); // prettier-ignore

  it("refuses an unknown group, an unknown member and a group inside a role-assignable group", async () => {
    expect((await client.admin("POST", "/groups/nope/members", { id: "late" })).status).toBe(404);
    expect((await client.admin("POST", "/groups/g-nested/members", { id: "ghost" })).status).toBe(400);
    expect((await client.admin("POST", "/groups/g-nested/members", {})).status).toBe(400);
    const nested = await client.admin("POST", "/groups/g-admins/members", { id: "g-nested" });
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toContain("role-assignable");
    expect(() => emu.addGroupMember("nope", "late")).toThrow(RangeError);
  }); // prettier-ignore

  it("makes a new member of a role-assignable group an admin in the role data and the report", async () => {
    expect(emu.addGroupMember("g-admins", "late")).toBe(true);
    const report = await client.call(
      "GET",
      "/v1.0/reports/authenticationMethods/userRegistrationDetails/late?$select=isAdmin",
    );
    expect(report.body.isAdmin).toBe(true);
    expect(emu.removeGroupMember("g-admins", "late")).toBe(true);
  });
});

describe("the advanced-query lag", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    // 2,000 ms of lag at half speed: 1,000 real ms.
    emu = await startEmulator({
      tenant: tenant(),
      config: { advancedQueryLagMs: 2000, timeScale: 0.5 },
    });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("hides a new member from advanced queries until the lag has passed, not from plain reads", async () => {
    const before = await client.call("GET", ADVANCED, { headers: EVENTUAL });
    expect(before.body["@odata.count"]).toBe(2);
    emu.addGroupMember("g-break-glass", "late");
    expect(ids(await client.call("GET", PLAIN))).toContain("late");
    const lagging = await client.call("GET", ADVANCED, { headers: EVENTUAL });
    expect(ids(lagging)).toEqual(["bg1", "bg2"]);
    expect(lagging.body["@odata.count"]).toBe(2);
    // ConsistencyLevel alone makes the query advanced too.
    expect(ids(await client.call("GET", PLAIN, { headers: EVENTUAL }))).not.toContain("late");
    await sleep(1100);
    const caughtUp = await client.call("GET", ADVANCED, { headers: EVENTUAL });
    expect(ids(caughtUp)).toEqual(["bg1", "bg2", "late"]);
    expect(caughtUp.body["@odata.count"]).toBe(3);
  });

  it("keeps showing a removed member to advanced queries during the lag", async () => {
    // A lag longer than the test: the index still shows membership from before either change.
    emu.setConfig({ advancedQueryLagMs: 600_000 });
    emu.removeGroupMember("g-nested", "bg2");
    expect(ids(await client.call("GET", PLAIN))).toEqual(["bg1", "g-nested", "late"]);
    expect(ids(await client.call("GET", ADVANCED, { headers: EVENTUAL }))).toEqual(["bg1", "bg2"]);
    // Once the index has caught up (no lag left), advanced queries agree with plain reads.
    emu.setConfig({ advancedQueryLagMs: 0 });
    expect(ids(await client.call("GET", ADVANCED, { headers: EVENTUAL }))).toEqual(["bg1", "late"]);
  }); // prettier-ignore
});
