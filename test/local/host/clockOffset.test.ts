/**
 * `clockOffsetMs`: a host whose clock starts ahead of the wall clock, so a test can run "the
 * next night" or "four days later" on the state an earlier host left, with real time passing in
 * between only as fast as the work needs.
 */
import { afterEach, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalHost, type LocalHost } from "../../../local/host/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const appModule = path.join(here, "fixtures", "app.ts");
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const DAY_MS = 86_400_000;

describe("local host clockOffsetMs", () => {
  let stateDir: string | undefined;
  let host: LocalHost | undefined;

  afterEach(async () => {
    await host?.stop();
    host = undefined;
    if (stateDir) {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("stamps orchestration time a day ahead and fires timers on that clock without waiting a day", async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-offset-"));
    host = await startLocalHost({
      stateDir,
      modules: [appModule],
      logger: silent,
      clockOffsetMs: DAY_MS,
    });
    const before = Date.now();

    const id = await host.startNew("ShortNap");
    const status = await host.waitForCompletion(id, { timeoutMs: 10_000 });

    expect(status.output).toBe("awake");
    const created = Date.parse(status.createdTime);
    expect(created).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(created).toBeLessThan(Date.now() + DAY_MS);
  });

  it("lets a later host on the same state find a day-long wait already over", async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-offset-"));
    host = await startLocalHost({ stateDir, modules: [appModule], logger: silent });
    const id = await host.startNew("Approval", { instanceId: "offset-approval" });
    // The first host waits for an approval, with a one-day timeout on its own (wall) clock.
    await new Promise((r) => setTimeout(r, 200));
    expect((await host.getStatus(id))?.runtimeStatus).toBe("Running");
    await host.stop();

    host = await startLocalHost({
      stateDir,
      modules: [appModule],
      logger: silent,
      clockOffsetMs: 2 * DAY_MS,
    });
    const status = await host.waitForCompletion(id, { timeoutMs: 10_000 });

    expect(status.output).toEqual({ approved: null });
  });
});
