/**
 * The pre-flight of the authentication methods policy end to end: SMS turned off for the targeted
 * group (and voice off for everyone) stops a mobile run before any write, with one sentence
 * naming the policy and the setting; where the policy covers part of the planned users, the run
 * goes on and reports the coverage in numbers.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRunStatus } from "../../shared/run/index.js";
import { validateTenant } from "../../local/graph-emulator/tenant/fixture.js";
import type { FixtureUser } from "../../local/graph-emulator/tenant/types.js";
import { outputOf, startWorld, type World } from "./world.js";

const id = (n: number): string => `50000000-0000-4000-8000-0000000000${String(n).padStart(2, "0")}`;
const PILOT = "a5000000-0000-4000-8000-000000000001";

const user = (n: number): FixtureUser => ({
  id: id(n),
  userPrincipalName: `user${n}@contoso.example`,
  mobilePhone: `+45 20 12 35 ${String(n).padStart(2, "0")}`,
});

const tenant = validateTenant({
  tenant: { id: "6f1c2f5e-0000-4000-8000-0000000000c3", domain: "contoso.example" },
  groups: [{ id: PILOT, displayName: "Phone Pilot", members: [id(1), id(2), id(3)] }],
  authenticationMethodsPolicy: {
    Sms: {
      state: "enabled",
      includeTargets: [{ id: "all_users" }],
      excludeTargets: [{ id: PILOT }],
    },
    Voice: { state: "disabled" },
  },
  users: [user(1), user(2), user(3), user(4), user(5)],
});

describe("the authentication methods policy pre-flight (policy fixture)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({ tenant, settings: { DEFAULT_REGION: "DK", METHODS: "mobile" } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("stops a mobile run for a group SMS is turned off for before any write, in one sentence naming the policy", async () => {
    const status = await world.run({ settings: { STAGING_GROUP: "Phone Pilot" } });
    expect(status.runtimeStatus).toBe("Failed");
    expect(world.emulator.metrics().writes).toBe(0);
    expect(world.mobiles().size).toBe(0);
    const custom = readRunStatus(status.customStatus);
    expect(custom.chunks?.done).toBe(0);
    const message = custom.message ?? "";
    expect(message).toContain("the authentication methods policy");
    expect(message).toContain("SMS: enabled, but not for them");
    expect(message).toContain("Voice call: disabled");
    expect(message).toContain("METHODS");
    // One sentence: a single full stop, at the end.
    expect(message.match(/\.(\s|$)/g)).toHaveLength(1);
    expect(custom.preflight).toEqual([{ method: "mobile", planned: 3, covered: 0, notCovered: 3 }]);
  });

  it("goes on where the policy covers part of the planned users, and reports the coverage", async () => {
    const output = outputOf(await world.run({ dryRun: true }));
    expect(output.counts.planned).toBe(5);
    const report = JSON.parse(
      await readFile(join(world.runsDir, output.reportKeys.json), "utf8"),
    ) as { preflight: { methods: { method: string; covered: number; notCovered: number }[] } };
    expect(report.preflight.methods).toMatchObject([
      { method: "mobile", covered: 2, notCovered: 3 },
    ]);
  });
});
