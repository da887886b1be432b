/**
 * The runs API's app registration script (infra/scripts/createApiApp.sh), run with a stand-in `az`
 * that records every call and answers like the Azure CLI. No Entra tenant is needed: what is
 * checked is what the script asks Entra to set, and that its JSON bodies are valid.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const script = path.join(repo, "infra/scripts/createApiApp.sh");
const AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/** A stand-in `az`: logs its arguments as one JSON line and prints what the real one would. */
const FAKE_AZ = `#!/usr/bin/env node
const fs = require("node:fs");
const args = process.argv.slice(2);
fs.appendFileSync(process.env.AZ_LOG, JSON.stringify(args) + "\\n");
const has = (...words) => words.every((w, i) => args[i] === w);
const out = (s) => process.stdout.write(s + "\\n");
if (has("cloud", "show")) out("https://graph.microsoft.com/");
else if (has("ad", "app", "list")) out(process.env.EXISTING_APP_ID || "");
else if (has("ad", "app", "create")) out("11111111-1111-1111-1111-111111111111");
else if (has("ad", "app", "show")) out("app-object-id");
else if (has("ad", "sp", "list")) out(process.env.EXISTING_SP_ID || "");
else if (has("ad", "sp", "create")) out("sp-object-id");
else if (has("rest")) out("");
else { process.stderr.write("unexpected az call: " + args.join(" ") + "\\n"); process.exit(3); }
`;

interface Run {
  stdout: string;
  calls: string[][];
}

/** Runs the script in a fresh directory whose `az` is the stand-in; the directory goes afterwards. */
function run(env: Record<string, string> = {}): Run {
  const dir = mkdtempSync(path.join(tmpdir(), "create-api-app-"));
  try {
    const az = path.join(dir, "az");
    writeFileSync(az, FAKE_AZ);
    chmodSync(az, 0o755);
    const log = path.join(dir, "az.log");
    const stdout = execFileSync("sh", [script], {
      env: {
        ...process.env,
        PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`,
        AZ_LOG: log,
        ...env,
      },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const calls = existsSync(log)
      ? readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as string[])
      : [];
    return { stdout, calls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function option(call: string[], name: string): string | undefined {
  const i = call.indexOf(name);
  return i >= 0 ? call[i + 1] : undefined;
}

/** The PATCH bodies the script sends to a Graph path, parsed. */
function patches(calls: string[][], pathPart: string): Record<string, unknown>[] {
  return calls
    .filter((c) => c[0] === "rest" && option(c, "--method") === "PATCH")
    .filter((c) => (option(c, "--uri") ?? "").includes(pathPart))
    .map((c) => JSON.parse(option(c, "--body") ?? "") as Record<string, unknown>);
}

interface AppRole {
  id: string;
  value: string;
  allowedMemberTypes: string[];
  isEnabled: boolean;
}

describe("createApiApp.sh", () => {
  /** A first run in a tenant without the registration; read-only for every test below. */
  let fresh: Run;
  beforeAll(() => {
    fresh = run();
  });

  it("creates the registration with the two app roles, v2 tokens and an api:// identifier, and prints the client id", () => {
    const { stdout, calls } = fresh;
    const appId = "11111111-1111-1111-1111-111111111111";
    expect(stdout.trim()).toBe(appId);
    expect(calls.some((c) => c[0] === "ad" && c[1] === "app" && c[2] === "create")).toBe(true);
    const app = Object.assign({}, ...patches(calls, "/v1.0/applications/app-object-id")) as {
      identifierUris: string[];
      api: { requestedAccessTokenVersion: number; preAuthorizedApplications: unknown[] };
      appRoles: AppRole[];
    };
    expect(app.identifierUris).toEqual([`api://${appId}`]);
    const roles = app.appRoles.map((r) => r.value).sort();
    expect(roles).toEqual(["Runs.Operate", "Runs.Read"]);
    for (const role of app.appRoles) {
      expect(role.isEnabled).toBe(true);
      expect(role.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(role.allowedMemberTypes.sort()).toEqual(["Application", "User"]);
    }
    expect(new Set(app.appRoles.map((r) => r.id)).size).toBe(2);
    const api = patches(calls, "/v1.0/applications/").map((b) => b.api as Record<string, unknown>);
    expect(api.some((a) => a.requestedAccessTokenVersion === 2)).toBe(true);
  });

  it("pre-authorises only the Azure CLI, for the API's own scope", () => {
    const { calls } = fresh;
    const bodies = patches(calls, "/v1.0/applications/");
    const scopes = bodies.flatMap(
      (b) => (b.api as { oauth2PermissionScopes?: { id: string }[] }).oauth2PermissionScopes ?? [],
    );
    const preAuthorized = bodies.flatMap(
      (b) =>
        (
          b.api as {
            preAuthorizedApplications?: { appId: string; delegatedPermissionIds: string[] }[];
          }
        ).preAuthorizedApplications ?? [],
    );
    expect(preAuthorized.map((p) => p.appId)).toEqual([AZURE_CLI_APP_ID]);
    expect(preAuthorized[0]?.delegatedPermissionIds).toEqual(scopes.map((s) => s.id));
  });

  it("requires a role assignment on the service principal, so nobody else gets a token for the API", () => {
    const { calls } = fresh;
    expect(calls.some((c) => c[0] === "ad" && c[1] === "sp" && c[2] === "create")).toBe(true);
    expect(patches(calls, "/v1.0/servicePrincipals/sp-object-id")).toEqual([
      { appRoleAssignmentRequired: true },
    ]);
  });

  it("updates an existing registration in place instead of creating a second one", () => {
    const existing = "22222222-2222-2222-2222-222222222222";
    const { stdout, calls } = run({ EXISTING_APP_ID: existing, EXISTING_SP_ID: "existing-sp" });
    expect(stdout.trim()).toBe(existing);
    expect(calls.some((c) => c[2] === "create")).toBe(false);
    expect(patches(calls, "/v1.0/servicePrincipals/existing-sp")).toEqual([
      { appRoleAssignmentRequired: true },
    ]);
  });

  it("creates no secret or certificate: the API only validates tokens", () => {
    const { calls } = fresh;
    const text = JSON.stringify(calls);
    expect(text).not.toMatch(/passwordCredentials|keyCredentials|addPassword|credential/i);
  });
});
