import { describe, expect, it } from "vitest";

import type { UserContext } from "../../../shared/targeting/decide.js";
import { createPlanner, type PlannerSettings } from "../../../shared/targeting/planner.js";

const base: PlannerSettings = {
  target: "noMobileMethod",
  skipAdmins: true,
  allowLandline: false,
  replaceExisting: true,
  defaultRegion: "DK",
  stagingGroupSet: false,
  maxWritesPerRun: 0,
};

function user(
  n: number,
  extra: Partial<UserContext> = {},
  mobilePhone: string | null = `+45 2${1 + (n % 5)}12345${n % 10}`,
): UserContext {
  return {
    user: {
      id: `u${n}`,
      userPrincipalName: `user${n}@contoso.example`,
      mobilePhone,
      accountEnabled: true,
      userType: "Member",
    },
    report: { id: `u${n}`, isMfaRegistered: false, methodsRegistered: [] },
    inStagingGroup: false,
    inExcludedGroup: false,
    ...extra,
  };
}

describe("createPlanner", () => {
  it("plans every write when there is no cap", () => {
    const planner = createPlanner(base);
    const decisions = [1, 2, 3, 4, 5].map((n) => planner.decide(user(n)));
    expect(decisions.every((d) => d.action === "create")).toBe(true);
    expect(planner.writes).toBe(5);
  });

  it("defers writes past MAX_WRITES_PER_RUN and says why", () => {
    // Arrange
    const planner = createPlanner({ ...base, maxWritesPerRun: 2 });

    // Act
    const decisions = [1, 2, 3].map((n) => planner.decide(user(n)));

    // Assert
    expect(decisions.map((d) => d.action)).toEqual(["create", "create", "skip"]);
    expect(decisions[2]).toEqual({
      action: "skip",
      reason: "deferred",
      detail:
        "The run reached its cap of 2 writes (MAX_WRITES_PER_RUN); the user is left for a later run.",
    });
    expect(planner.writes).toBe(2);
  });

  it("counts replacements as writes but not skips or numbers already present", () => {
    const planner = createPlanner({ ...base, maxWritesPerRun: 2 });
    const replace = user(1, {
      existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 40123456" }],
    });
    const present = user(
      2,
      { existingPhoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 22123452" }] },
      "+45 22123452",
    );
    const guest = user(3);
    guest.user.userType = "Guest";

    expect(planner.decide(present).action).toBe("alreadyPresent");
    expect(planner.decide(guest).action).toBe("skip");
    expect(planner.decide(replace).action).toBe("replace");
    expect(planner.decide(user(4)).action).toBe("create");
    expect(planner.decide(user(5))).toMatchObject({ reason: "deferred" });
    expect(planner.decide(present).action).toBe("alreadyPresent");
  });

  it("counts decisions per action and per skip reason", () => {
    const planner = createPlanner({ ...base, maxWritesPerRun: 1 });
    planner.decide(user(1));
    planner.decide(user(2));
    planner.decide(user(3, {}, null));
    planner.decide(user(4, {}, "+45 2012345"));
    planner.decide(user(5, { inExcludedGroup: true }));

    const counts = planner.counts();
    expect(counts).toMatchObject({
      decided: 5,
      create: 1,
      replace: 0,
      alreadyPresent: 0,
      skipped: 4,
    });
    expect(counts.skip).toMatchObject({
      deferred: 1,
      noNumber: 1,
      invalidNumber: 1,
      excludedGroup: 1,
      guest: 0,
    });
  });

  it("hands out a copy of the counts", () => {
    const planner = createPlanner(base);
    const before = planner.counts();
    planner.decide(user(1, { inExcludedGroup: true }));
    expect(before.skip.excludedGroup).toBe(0);
    expect(planner.counts().skip.excludedGroup).toBe(1);
  });

  it("treats a cap of 0 as no cap", () => {
    const planner = createPlanner({ ...base, maxWritesPerRun: 0 });
    for (let n = 0; n < 50; n += 1) {
      planner.decide(user(n));
    }
    expect(planner.counts().create).toBe(50);
  });
});
