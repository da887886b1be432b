/**
 * `%NAME%` binding expressions resolve from the app settings the host is given, as the Functions
 * host resolves them from app settings, and the environment stands in when none are given.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startLocalHost } from "../../../local/host/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const scheduleModule = path.join(here, "fixtures", "setting-schedule-app.ts");
const g = globalThis as unknown as { __settingHeartbeats?: number };

async function heartbeatsWith(appSettings?: Record<string, string>): Promise<{
  beats: number;
  errors: string[];
}> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-settings-"));
  const errors: string[] = [];
  g.__settingHeartbeats = 0;
  const host = await startLocalHost({
    stateDir,
    modules: [scheduleModule],
    schedules: true,
    appSettings,
    logger: { info: () => undefined, warn: () => undefined, error: (m) => errors.push(m) },
  });
  for (let i = 0; i < 300 && (g.__settingHeartbeats ?? 0) === 0 && errors.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await host.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
  return { beats: g.__settingHeartbeats ?? 0, errors };
}

describe("local host app settings", () => {
  afterEach(() => {
    delete process.env.HEARTBEAT_SCHEDULE;
  });

  it("resolves a %NAME% schedule from the app settings it is given", async () => {
    process.env.HEARTBEAT_SCHEDULE = "not a schedule";
    const { beats, errors } = await heartbeatsWith({ HEARTBEAT_SCHEDULE: "* * * * * *" });
    expect(errors).toEqual([]);
    expect(beats).toBeGreaterThan(0);
  });

  it("resolves it from the environment when no app settings are given", async () => {
    process.env.HEARTBEAT_SCHEDULE = "* * * * * *";
    const { beats, errors } = await heartbeatsWith();
    expect(errors).toEqual([]);
    expect(beats).toBeGreaterThan(0);
  });

  it("names a schedule that no setting resolves as invalid, and never fires it", async () => {
    const { beats, errors } = await heartbeatsWith({});
    expect(beats).toBe(0);
    expect(errors.join("\n")).toMatch(/timer function 'SettingHeartbeat' has an invalid schedule/);
  });
});
