/**
 * The offline world for end-to-end tests: the Graph emulator, the product's settings pointed at
 * it (managed identity through the App Service protocol, as in Azure), a fresh run store and the
 * local host running the app's real registrations.
 *
 * MSAL keeps the managed-identity endpoint process-wide, so a test file starts one world.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { appModules } from "../../local/cli/localRun.js";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../local/graph-emulator/config.js";
import { validateTenant } from "../../local/graph-emulator/tenant/fixture.js";
import type { FixtureUser, TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { startLocalHost, type LocalHost } from "../../local/host/index.js";
import type { InstanceStatus } from "../../local/host/types.js";
import { configureServices, setServices } from "../../shared/services.js";
import {
  newRunId,
  readRunOutput,
  RUN_ORCHESTRATIONS,
  resolveTuning,
  runSettingsFrom,
  type RunInput,
  type RunOutput,
  type RunTuning,
} from "../../shared/run/index.js";
import { loadSettings, type RawSettings } from "../../shared/settings/index.js";

/** What a test changes in a run's input: settings by name over the world's, and the rest. */
export interface RunOverrides {
  settings?: RawSettings;
  dryRun?: boolean;
  tuning?: Partial<RunTuning>;
  runId?: string;
}

/** A running world. */
export interface World {
  emulator: EmulatorHandle;
  host: LocalHost;
  stateDir: string;
  runsDir: string;
  /** Starts a nightly run with the world's settings (and `settings` over them); waits for its end. */
  run(overrides?: RunOverrides & { timeoutMs?: number }): Promise<InstanceStatus>;
  /** The input {@link World.run} starts a nightly run with. */
  runInput(overrides?: RunOverrides): RunInput;
  /**
   * Stops the local host and starts another on the same host state and run store whose clock
   * runs `clockOffsetMs` ahead of the wall clock: "the next night" or "four days later" (the
   * emulator, its audit log included, keeps the wall clock). `host` is the new one afterwards.
   */
  restartHost(options: { clockOffsetMs: number }): Promise<void>;
  /** Mobile method numbers by user id, read back from the emulator. */
  mobiles(): Map<string, string>;
  /**
   * Puts every user's phone methods back as the fixture has them and starts the emulator's
   * metrics over, so a test does not see an earlier test's writes.
   */
  reset(): void;
  close(): Promise<void>;
}

/** The team's targeting fixture. */
export async function targetingTenant(): Promise<TenantFixture> {
  const text = await readFile(
    new URL("../fixtures/targeting.tenant.json", import.meta.url),
    "utf8",
  );
  return validateTenant(JSON.parse(text));
}

/** Small chunks and waves, so a small tenant still exercises waves, windows and several chunks. */
export const SMALL_TUNING: Partial<RunTuning> = {
  retryIntervalMs: 50,
  pagesPerCall: 2,
  pagesPerPlan: 2,
  chunkSize: 5,
  chunksPerWave: 2,
  chunksInFlight: 2,
  wavesInFlight: 2,
  graphWaits: { readAfterWriteMs: 200, retryBaseMs: 50, graphDownMs: 2_000 },
};

/**
 * Starts a world.
 *
 * @param options - the tenant, emulator profile/config, and settings (by name) for the app.
 */
export async function startWorld(options: {
  tenant: TenantFixture;
  profile?: "fast" | "realistic" | "hostile";
  config?: Partial<EmulatorConfig>;
  settings?: Record<string, string>;
  activityConcurrency?: number;
}): Promise<World> {
  const emulator = await startEmulator({
    tenant: options.tenant,
    profile: options.profile ?? "fast",
    config: options.config,
  });
  const stateDir = await mkdtemp(path.join(tmpdir(), "mfa-e2e-"));
  const runsDir = stateDir;
  const raw: RawSettings = {
    GRAPH_BASE_URL: emulator.graphBaseUrl,
    GRAPH_ALLOW_LOOPBACK: "true",
    GRAPH_AUTH: "managedIdentity",
    GRAPH_CA_FILE: emulator.caCertPath,
    IDENTITY_ENDPOINT: emulator.identityEndpoint,
    IDENTITY_HEADER: emulator.identityHeader,
    RUN_STORE: runsDir,
    ...options.settings,
  };
  configureServices(loadSettings(raw));
  const hostOn = (clockOffsetMs = 0): Promise<LocalHost> =>
    startLocalHost({
      stateDir: path.join(stateDir, "host"),
      modules: appModules(),
      activityConcurrency: options.activityConcurrency ?? 4,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      clockOffsetMs,
    });
  let host = await hostOn();
  const runInput = (overrides: RunOverrides = {}): RunInput => ({
    runId: overrides.runId ?? newRunId("test"),
    trigger: "cli",
    settings: runSettingsFrom(loadSettings({ ...raw, ...overrides.settings }), overrides.dryRun),
    tuning: resolveTuning(overrides.tuning ?? SMALL_TUNING),
  });
  return {
    emulator,
    get host() {
      return host;
    },
    stateDir,
    runsDir,
    runInput,
    async run(overrides = {}) {
      const input = runInput(overrides);
      await host.startNew(RUN_ORCHESTRATIONS.nightlyRun, { instanceId: input.runId, input });
      return host.waitForCompletion(input.runId, { timeoutMs: overrides.timeoutMs ?? 120_000 });
    },
    async restartHost({ clockOffsetMs }) {
      await host.stop();
      host = await hostOn(clockOffsetMs);
    },
    mobiles() {
      const out = new Map<string, string>();
      for (const u of emulator.state().users) {
        const m = u.phoneMethods.find((p) => p.phoneType === "mobile");
        if (m) {
          out.set(u.id, m.phoneNumber);
        }
      }
      return out;
    },
    reset() {
      for (const user of options.tenant.users) {
        // An explicit empty list removes the methods runs wrote to users the fixture left bare.
        emulator.upsertUser({ ...user, phoneMethods: user.phoneMethods ?? [] });
      }
      emulator.resetMetrics();
    },
    async close() {
      await host.stop();
      await emulator.close();
      setServices(undefined);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** The output of a completed run, or a failure with the run's own message. */
export function outputOf(status: InstanceStatus): RunOutput {
  if (status.runtimeStatus !== "Completed") {
    throw new Error(
      `run ${status.instanceId} ended ${status.runtimeStatus}: ${JSON.stringify(status.output)} ${JSON.stringify(status.customStatus)}`,
    );
  }
  const output = readRunOutput(status.output);
  if (!output) {
    throw new Error(`run ${status.instanceId} completed without a run's output`);
  }
  return output;
}

/** The id of fixture user number n. */
export const fixtureUserId = (n: number): string =>
  `10000000-0000-4000-8000-0000000000${String(n).padStart(2, "0")}`;

/** The mobile method every user must end with, in Graph's format, worked out by hand from the fixture. */
export const EXPECTED_MOBILES: Record<number, string> = {
  1: "+45 20123456",
  2: "+45 30123456",
  3: "+45 41123456",
  4: "+46 701234567",
  5: "+47 40612345",
  6: "+49 15123456789",
  7: "+44 7400123456",
  8: "+1 2015550123",
  9: "+358 412345678",
  10: "+31 612345678",
  11: "+33 612345678",
  12: "+45 50123456",
  13: "+45 60123456",
  14: "+45 21123456x12",
  15: "+45 22123456",
  16: "+45 23123456",
  17: "+45 24123456",
  18: "+45 25123456",
  19: "+353 850123456",
  20: "+45 26123456",
  21: "+45 27123456",
  45: "+47 41234567",
  46: "+45 52123456",
  // Methods that existed before the run and must be left exactly as they were.
  22: "+45 27123456",
  23: "+45 28123456",
  24: "+45 31123456",
};

/** The baseline's expected mobile methods as a map of user id to number. */
export function expectedMobiles(): Map<string, string> {
  return new Map(
    Object.entries(EXPECTED_MOBILES).map(([n, phone]) => [fixtureUserId(Number(n)), phone]),
  );
}

/** The decision a fixture user expects under the baseline settings (test/fixtures/README.md). */
export function expectedDecision(user: FixtureUser): string {
  return (user.displayName ?? "").split(" | ")[0] as string;
}

/** How many of the fixture's users expect each decision under the baseline settings. */
export function expectedPlan(tenant: TenantFixture): Record<string, number> {
  const plan: Record<string, number> = {};
  for (const user of tenant.users) {
    const decision = expectedDecision(user);
    plan[decision] = (plan[decision] ?? 0) + 1;
  }
  return plan;
}

/** The writes a baseline run plans: users whose expected decision is `create` or `replace`. */
export function expectedWrites(tenant: TenantFixture): number {
  const plan = expectedPlan(tenant);
  return (plan.create ?? 0) + (plan.replace ?? 0);
}

/**
 * Baseline creates whose number another user already holds for SMS sign-in: Graph creates the
 * method and answers 409 phoneNumberNotUnique.
 */
export function expectedSmsSignInClashes(tenant: TenantFixture): number {
  const held = new Set(
    tenant.users.flatMap((u) =>
      (u.phoneMethods ?? []).filter((m) => m.smsSignInNumber).map((m) => m.phoneNumber),
    ),
  );
  const mobiles = expectedMobiles();
  return tenant.users.filter(
    (u) => expectedDecision(u) === "create" && held.has(mobiles.get(u.id) ?? ""),
  ).length;
}

/** Ids of the users in a fixture group, through nested groups, by the group's display name. */
export function transitiveMembers(tenant: TenantFixture, groupName: string): Set<string> {
  const groups = new Map((tenant.groups ?? []).map((g) => [g.id, g]));
  const users = new Set<string>();
  const seen = new Set<string>();
  const visit = (groupId: string): void => {
    if (seen.has(groupId)) {
      return;
    }
    seen.add(groupId);
    for (const member of groups.get(groupId)?.members ?? []) {
      if (groups.has(member)) {
        visit(member);
      } else {
        users.add(member);
      }
    }
  };
  for (const group of tenant.groups ?? []) {
    if (group.displayName === groupName) {
      visit(group.id);
    }
  }
  return users;
}
