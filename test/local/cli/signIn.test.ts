/**
 * An administrator signs the CLI in to a tenant with the device-code flow, at the emulator's
 * Entra endpoints (its auto-approval plays the administrator): the sign-in uses the client that
 * `--client-id` names, asks for the scopes the run needs and no more (no write scope for a dry
 * run), and a sign-in that cannot do the run's work (a missing directory role, a client without
 * the authentication-methods scope, the Azure CLI for a write) stops the CLI with a one-line
 * reason before any Graph call.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  AZURE_CLI_CLIENT_ID,
  startEmulator,
  TENANT_APP_CLIENT_ID,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import { validateTenant } from "../../../local/graph-emulator/tenant/fixture.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cli = [
  path.join(root, "node_modules/tsx/dist/cli.mjs"),
  path.join(root, "local/cli/main.ts"),
];
const tenant = validateTenant(
  JSON.parse(fs.readFileSync(path.join(root, "test/fixtures/targeting.tenant.json"), "utf8")),
);
const admin = tenant.users[0]!.userPrincipalName;
const WRITE_SCOPE = "UserAuthenticationMethod.ReadWrite.All";
const READ_SCOPE = "UserAuthenticationMethod.Read.All";

let emu: EmulatorHandle | undefined;

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

/** Starts an emulator whose device codes are approved for the admin with exactly these roles. */
async function emulatorSigningIn(roles: string[]): Promise<EmulatorHandle> {
  emu = await startEmulator({
    tenant,
    config: {
      timeScale: 0.01,
      tokenLifetimeSeconds: 100_000,
      advertisedTokenLifetimeSeconds: 100_000,
      deviceCodeAutoApprove: { enabled: true, pendingPolls: 1, user: admin, roles },
    },
  });
  return emu;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI against the emulator with only the settings given here. */
async function runCli(e: EmulatorHandle, args: string[]): Promise<CliResult> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "mfa-signin-"));
  const child = spawn(
    process.execPath,
    [...cli, ...args, "--tenant-id", e.tenantId, "--state-dir", stateDir, "--json"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GRAPH_BASE_URL: e.graphBaseUrl,
        GRAPH_ALLOW_LOOPBACK: "true",
        GRAPH_CA_FILE: e.caCertPath,
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
      },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  fs.rmSync(stateDir, { recursive: true, force: true });
  return { code, stdout, stderr };
}

/** The counts of the `--json` line. */
function counts(result: CliResult): Record<string, number> {
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  return (JSON.parse(last) as { counts: Record<string, number> }).counts;
}

/** The CLI's one-line reason: its last stderr line. */
function reason(result: CliResult): string {
  return result.stderr.trim().split("\n").at(-1) ?? "";
}

describe("the CLI signed in by an administrator (device code)", () => {
  it("plans with the tenant's app and read scopes only, and a reader's roles suffice", async () => {
    const e = await emulatorSigningIn(["Global Reader"]);
    const result = await runCli(e, [
      "plan",
      "--auth",
      "deviceCode",
      "--client-id",
      TENANT_APP_CLIENT_ID,
      "--replace-existing",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const [code] = e.deviceCodes();
    expect(e.deviceCodes()).toHaveLength(1);
    expect(code!.clientId).toBe(TENANT_APP_CLIENT_ID);
    expect(code!.state).toBe("redeemed");
    // The dry run reads phone methods (REPLACE_EXISTING) and asks for no write scope.
    expect(code!.scopes).toContain(READ_SCOPE);
    expect(code!.scopes).toContain("User.Read.All");
    expect(code!.scopes).not.toContain(WRITE_SCOPE);
    // The notice names the scopes that were asked for, before the sign-in.
    const named = /delegated scopes: (.+)\.$/m.exec(result.stderr)?.[1];
    expect(named?.split(", ").sort()).toEqual([...code!.scopes].sort());
    expect(result.stderr).toContain("Global Reader");
    expect(counts(result).planned).toBeGreaterThan(0);
    expect(e.metrics().writes).toBe(0);
    expect(e.metrics().requests).toBeGreaterThan(0);
  });

  it("writes with the write scope when the account holds Authentication Administrator", async () => {
    const e = await emulatorSigningIn(["Authentication Administrator", "Global Reader"]);
    const result = await runCli(e, [
      "run",
      "--auth",
      "deviceCode",
      "--client-id",
      TENANT_APP_CLIENT_ID,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(e.deviceCodes()[0]!.scopes).toContain(WRITE_SCOPE);
    expect(e.deviceCodes()[0]!.scopes).not.toContain(READ_SCOPE);
    // The notice names the role before the sign-in.
    expect(result.stderr).toMatch(/Authentication Administrator[^\n]*to write phone methods/);
    const created = counts(result).created!;
    expect(created).toBeGreaterThan(0);
    expect(e.metrics().writes).toBe(created);
  });

  it("stops before any Graph call when the account lacks Authentication Administrator", async () => {
    const e = await emulatorSigningIn(["Global Reader"]);
    const result = await runCli(e, [
      "run",
      "--auth",
      "deviceCode",
      "--client-id",
      TENANT_APP_CLIENT_ID,
    ]);
    expect(result.code).not.toBe(0);
    expect(e.deviceCodes()[0]!.state).toBe("redeemed");
    expect(reason(result)).toMatch(/^mfa-prepopulate: .*Authentication Administrator.*to write/);
    expect(e.metrics().requests).toBe(0);
    expect(e.metrics().writes).toBe(0);
  });

  it("stops before any Graph call when the client does not carry the write scope", async () => {
    // The Azure CLI's client: the sign-in succeeds, but its token lacks the methods scope.
    const e = await emulatorSigningIn(["Authentication Administrator", "Global Reader"]);
    const result = await runCli(e, [
      "run",
      "--auth",
      "deviceCode",
      "--client-id",
      AZURE_CLI_CLIENT_ID,
    ]);
    expect(result.code).not.toBe(0);
    expect(e.deviceCodes()[0]!.clientId).toBe(AZURE_CLI_CLIENT_ID);
    expect(reason(result)).toContain(`'${WRITE_SCOPE}'`);
    expect(reason(result)).toContain("Run against a real tenant from a laptop");
    expect(e.metrics().requests).toBe(0);
  });

  it("refuses a write with --auth azureCli in one sentence, before signing in or calling Graph", async () => {
    const e = await emulatorSigningIn(["Authentication Administrator", "Global Reader"]);
    const result = await runCli(e, ["run", "--auth", "azureCli"]);
    expect(result.code).not.toBe(0);
    const line = reason(result);
    expect(line).toMatch(/^mfa-prepopulate: --auth azureCli can plan but not write\b/);
    expect(line).toContain("--auth deviceCode or --auth interactive and --client-id");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(e.deviceCodes()).toHaveLength(0);
    expect(e.metrics().requests).toBe(0);
  });
});
