import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import {
  fixtureUserId as id,
  outputOf,
  startWorld,
  targetingTenant,
  transitiveMembers,
  type World,
} from "./world.js";

describe("staging group and TARGET=noMobileMethod with real writes (targeting fixture)", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
      settings: {
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
        STAGING_GROUP: "MFA Pilot",
        TARGET: "noMobileMethod",
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("writes only for staging members without a mobile method, nested groups included", async () => {
    const output = outputOf(await world.run());
    const written = new Map([
      // Staging members (two levels of nesting) who need a method under noMobileMethod.
      [id(1), "+45 20123456"],
      [id(4), "+46 701234567"],
      [id(19), "+353 850123456"],
      [id(20), "+45 26123456"],
      [id(21), "+45 27123456"],
      // Registered with the authenticator app but no mobile phone: noMobileMethod writes it.
      [id(25), "+45 30123457"],
      [id(45), "+47 41234567"],
    ]);
    // Existing methods, untouched.
    const untouched = new Map([
      [id(22), "+45 27123456"],
      [id(23), "+45 28123456"],
      [id(24), "+45 31123456"],
    ]);
    expect(world.mobiles()).toEqual(new Map([...written, ...untouched]));
    const members = transitiveMembers(tenant, "MFA Pilot");
    const membersWithMobile = tenant.users.filter(
      (u) => members.has(u.id) && (u.phoneMethods ?? []).some((m) => m.phoneType === "mobile"),
    );
    expect(output.counts.candidates).toBe(members.size);
    expect(output.counts.created).toBe(written.size);
    expect(output.plan["skip:hasMobileMethod"]).toBe(membersWithMobile.length);
    expect(world.emulator.metrics().writes).toBe(written.size);
  });
});
