/**
 * Fresh at write time, for a rerun: a run's chunk fails before it writes anything, and in the two
 * days before an operator reruns it four of its users change (a new number, a disabled account,
 * a member of the exclusion group, a directory role). The rerun re-reads every user it would
 * write, writes none of the four (`changedSincePlan`, with the reason in the report) and writes
 * the others. The rerun runs on a host whose clock starts two days later on the same state.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { normalizePhoneNumber } from "../../shared/phone/index.js";
import { RUN_ORCHESTRATIONS, runKeys } from "../../shared/run/index.js";
import {
  addMember,
  attackUser,
  attacksTenant,
  changeMobilePhone,
  groupId,
  readReportLines,
  usersDeciding,
} from "./attacksFixture.js";
import { outputOf, SMALL_TUNING, startWorld, type World } from "./world.js";

const DAY_MS = 86_400_000;

describe("a rerun two days later of a run whose users changed", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await attacksTenant();
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("writes none of the users who changed since the plan, names why, and writes the others", async () => {
    const creates = usersDeciding(tenant, "create");
    const runId = "test-rerun-changed";
    // One chunk holds every planned write; a folder where its "writing" marker goes makes the
    // chunk fail on every attempt before its first write.
    const tuning = { ...SMALL_TUNING, chunkSize: creates.length };
    const blocked = join(world.runsDir, runKeys.runningChunk(runId, 0));
    await mkdir(blocked, { recursive: true });
    const first = outputOf(await world.run({ runId, tuning }));
    expect(first.failedChunks).toEqual([0]);
    expect(first.counts.failed).toBe(creates.length);
    expect(world.emulator.metrics().writes).toBe(0);
    await rm(blocked, { recursive: true });

    // In the two days before the rerun, four of the planned users change.
    const [renumbered, disabled, excluded, promoted] = [1, 2, 3, 4].map((n) =>
      attackUser(tenant, n),
    );
    if (!renumbered || !disabled || !excluded || !promoted) {
      throw new Error("the attacks fixture lacks users 01-04");
    }
    const newNumber = "+45 29 99 00 03";
    await changeMobilePhone(
      world.emulator.adminUrl,
      renumbered.id,
      newNumber,
      "admin@contoso.example",
    );
    world.emulator.upsertUser({ ...disabled, accountEnabled: false });
    await addMember(world.emulator.adminUrl, groupId(tenant, "Break Glass Accounts"), excluded.id);
    world.emulator.upsertUser({
      ...promoted,
      directoryRoles: [{ role: "Privileged Authentication Administrator" }],
    });
    const changed = [renumbered, disabled, excluded, promoted];
    const unchanged = creates.filter((u) => !changed.some((c) => c.id === u.id));

    await world.restartHost({ clockOffsetMs: 2 * DAY_MS });
    const rerunId = `${runId}-rerun`;
    await world.host.startNew(RUN_ORCHESTRATIONS.rerunFailed, {
      instanceId: rerunId,
      input: { source: first },
    });
    const rerun = outputOf(await world.host.waitForCompletion(rerunId, { timeoutMs: 60_000 }));

    // The emulator's state: the unchanged users hold their planned number, the changed ones none.
    const mobiles = world.mobiles();
    expect([...mobiles.keys()].sort()).toEqual(unchanged.map((u) => u.id).sort());
    for (const user of unchanged) {
      const planned = normalizePhoneNumber(user.mobilePhone, { defaultRegion: "DK" });
      expect(planned.ok && mobiles.get(user.id) === planned.phoneNumber).toBe(true);
    }
    expect(world.emulator.metrics().writes).toBe(unchanged.length);

    // The rerun's counts and report say who was left out and why.
    expect(rerun.failedChunks).toEqual([]);
    expect(rerun.counts.created).toBe(unchanged.length);
    expect(rerun.counts.changedSincePlan).toBe(changed.length);
    expect(rerun.counts.failed).toBe(0);
    const lines = await readReportLines(world.runsDir, rerun.reportKeys);
    const why = (id: string): [string, string] => [
      lines.get(id)?.outcome ?? "",
      lines.get(id)?.detail ?? "",
    ];
    expect(why(renumbered.id)).toEqual([
      "changedSincePlan",
      expect.stringMatching(/number changed/),
    ]);
    expect(why(disabled.id)).toEqual(["changedSincePlan", expect.stringMatching(/disabled/)]);
    expect(why(excluded.id)).toEqual([
      "changedSincePlan",
      expect.stringMatching(/exclusion group/),
    ]);
    expect(why(promoted.id)).toEqual(["changedSincePlan", expect.stringMatching(/directory role/)]);
    for (const user of unchanged) {
      expect(lines.get(user.id)?.outcome).toBe("created");
    }
  });
});
