import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import {
  expectedMobiles,
  expectedWrites,
  fixtureUserId as id,
  outputOf,
  startWorld,
  targetingTenant,
  type World,
} from "./world.js";

describe("REPLACE_EXISTING with TARGET=noMobileMethod (targeting fixture)", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
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
    // No mobile method before: written under noMobileMethod, on top of the baseline's creates.
    const newlyTargeted = new Map([
      [id(25), "+45 30123457"],
      [id(26), "+45 31123457"],
    ]);
    // A different mobile number: replaced by the directory's.
    const replaced = new Map([[id(24), "+45 29123456"]]);
    const expected = new Map([...expectedMobiles(), ...newlyTargeted, ...replaced]);
    expect(world.mobiles()).toEqual(expected);
    // A mobile method that already holds the directory's number is left as it is.
    const digits = (text: string | null | undefined): string => (text ?? "").replace(/\D/g, "");
    const equal = tenant.users.filter((u) =>
      (u.phoneMethods ?? []).some(
        (m) => m.phoneType === "mobile" && digits(m.phoneNumber) === digits(u.mobilePhone),
      ),
    );
    const created = expectedWrites(tenant) + newlyTargeted.size;
    expect(output.counts.replaced).toBe(replaced.size);
    expect(output.counts.created).toBe(created);
    expect(output.plan.alreadyPresent).toBe(equal.length);
    // The creates and one PATCH per replaced number; the equal numbers were only read.
    expect(world.emulator.metrics().writes).toBe(created + replaced.size);
    // The census and planning share one read of the methods: one per user the report lists with
    // a phone registered (planning used to read those users again).
    const withPhone = tenant.users.filter((u) => (u.phoneMethods ?? []).length > 0);
    expect(world.emulator.metrics().byRoute["phoneMethods.list"]?.requests).toBe(withPhone.length);
  });
});
