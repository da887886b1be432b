import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectedMobiles,
  fixtureUserId as id,
  outputOf,
  startWorld,
  targetingTenant,
  type World,
} from "./world.js";

describe("REPLACE_EXISTING with TARGET=noMobileMethod (targeting fixture)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant: await targetingTenant(),
      settings: {
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
        TARGET: "noMobileMethod",
        REPLACE_EXISTING: "true",
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("reads existing mobile methods, replaces a different number and leaves an equal one", async () => {
    const output = outputOf(await world.run());
    const expected = expectedMobiles();
    // No mobile method before: written under noMobileMethod.
    expected.set(id(25), "+45 30123457");
    expected.set(id(26), "+45 31123457");
    // A different mobile number: replaced by the directory's.
    expected.set(id(24), "+45 29123456");
    expect(world.mobiles()).toEqual(expected);
    expect(output.counts.replaced).toBe(1);
    expect(output.counts.created).toBe(25);
    expect(output.plan.alreadyPresent).toBe(2);
    // 25 creates and one PATCH; the equal numbers were only read.
    expect(world.emulator.metrics().writes).toBe(26);
  });
});
