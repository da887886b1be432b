/**
 * Tokens go only to Graph, played through the command line: a `GRAPH_BASE_URL` that is not a
 * Microsoft Graph host, or the emulator's loopback URL without `GRAPH_ALLOW_LOOPBACK`, stops the
 * command at settings validation, and the identity endpoint (the emulator's, standing in for
 * Azure's) never issues a token. With `GRAPH_ALLOW_LOOPBACK=true` the same command gets tokens,
 * so the count can move.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import { targetingTenant } from "./world.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = [
  path.join(root, "node_modules/tsx/dist/cli.mjs"),
  path.join(root, "local/cli/main.ts"),
];

let emulator: EmulatorHandle;
let stateDir: string;

/** Runs `plan` with the emulator's identity endpoint and `settings` over it. */
function plan(settings: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...cli, "plan", "--state-dir", stateDir, "--json"], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      GRAPH_AUTH: "managedIdentity",
      IDENTITY_ENDPOINT: emulator.identityEndpoint,
      IDENTITY_HEADER: emulator.identityHeader,
      GRAPH_ALLOW_LOOPBACK: "",
      GRAPH_CA_FILE: "",
      RUN_STORE: "",
      DEFAULT_REGION: "DK",
      ...settings,
    },
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stderr })));
}

beforeAll(async () => {
  emulator = await startEmulator({ tenant: await targetingTenant(), profile: "fast" });
});

afterAll(async () => {
  await emulator.close();
});

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "mfa-graph-hosts-"));
  emulator.resetMetrics();
  return () => rm(stateDir, { recursive: true, force: true });
});

describe("the app's Graph token goes only to Graph", () => {
  it("refuses GRAPH_BASE_URL=https://graph.example.com at settings validation, with no token issued", async () => {
    // Act
    const result = await plan({ GRAPH_BASE_URL: "https://graph.example.com" });

    // Assert
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/'GRAPH_BASE_URL' must be the Microsoft Graph root/);
    expect(emulator.metrics().tokensIssued).toBe(0);
    expect(emulator.metrics().requests).toBe(0);
  });

  it("refuses the emulator's loopback URL unless GRAPH_ALLOW_LOOPBACK names it, with no token issued", async () => {
    // Act
    const result = await plan({
      GRAPH_BASE_URL: emulator.graphBaseUrl,
      GRAPH_CA_FILE: emulator.caCertPath,
    });

    // Assert
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/'GRAPH_BASE_URL' names a loopback host/);
    expect(result.stderr).toMatch(/'GRAPH_CA_FILE' applies only to a loopback Graph emulator/);
    expect(emulator.metrics().tokensIssued).toBe(0);
  });

  it("gets tokens for the emulator once GRAPH_ALLOW_LOOPBACK=true names it", async () => {
    // Act
    const result = await plan({
      GRAPH_BASE_URL: emulator.graphBaseUrl,
      GRAPH_ALLOW_LOOPBACK: "true",
      GRAPH_CA_FILE: emulator.caCertPath,
    });

    // Assert
    expect(result.code, result.stderr).toBe(0);
    expect(emulator.metrics().tokensIssued).toBeGreaterThan(0);
  });
});
