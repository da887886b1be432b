/**
 * Offline checks of the azd template. Bicep cannot be compiled here, so the templates are read as
 * text: what must be provisioned, which settings the app gets, and what must never appear.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { SETTING_DEFAULTS } from "../../shared/config.js";
import { PROFILES } from "../../local/graph-emulator/index.js";
import { REQUIRED_GRAPH_ROLES } from "../../infra/scripts/grantGraphRoles.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (rel: string): string => readFileSync(path.join(repo, rel), "utf8");

const bicepFiles = [
  "infra/main.bicep",
  ...readdirSync(path.join(repo, "infra/app"))
    .filter((f) => f.endsWith(".bicep"))
    .map((f) => `infra/app/${f}`),
];
const main = read("infra/main.bicep");
const api = read("infra/app/api.bicep");
const storage = read("infra/app/storage.bicep");
const rbac = read("infra/app/rbac.bicep");
const monitoring = read("infra/app/monitoring.bicep");

interface Param {
  name: string;
  defaultValue?: string;
  decorators: string[];
}

/** `param` declarations with their decorators (the `@...` lines right above them). */
function params(text: string): Param[] {
  const lines = text.split("\n");
  const out: Param[] = [];
  lines.forEach((line, i) => {
    const m = /^param\s+(\w+)\s+\w+(?:\s*=\s*(.+))?$/.exec(line.trim());
    if (!m) {
      return;
    }
    const decorators: string[] = [];
    for (let j = i - 1; j >= 0 && (lines[j] ?? "").trim().startsWith("@"); j--) {
      decorators.push((lines[j] ?? "").trim());
    }
    out.push({ name: m[1] ?? "", defaultValue: m[2]?.trim(), decorators });
  });
  return out;
}

/** Keys of the object literal that follows `header` (e.g. `var platformSettings = {`). */
function objectKeys(text: string, header: string): Map<string, string> {
  const start = text.indexOf(header);
  expect(start, `'${header}' is missing`).toBeGreaterThanOrEqual(0);
  const keys = new Map<string, string>();
  let depth = 0;
  for (const line of text.slice(start).split("\n")) {
    if (depth === 1) {
      const m = /^\s*([A-Za-z_][\w]*)\s*:\s*(.+)$/.exec(line);
      if (m) {
        keys.set(m[1] ?? "", (m[2] ?? "").trim());
      }
    }
    depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
    if (depth === 0 && keys.size > 0) {
      break;
    }
  }
  return keys;
}

/** Every app setting the function app gets: platform settings in api.bicep, product ones in main. */
function appSettings(): Map<string, string> {
  return new Map([
    ...objectKeys(api, "var platformSettings = {"),
    ...objectKeys(main, "appSettings: {"),
  ]);
}

/** Names the code reads through its settings helpers, `%NAME%` bindings and host.json. */
function settingsTheCodeReads(): Set<string> {
  const names = new Set<string>();
  for (const file of ["shared/config.ts", "shared/store/index.ts"]) {
    for (const m of read(file).matchAll(/\b(?:get|withDefault|bool|oneOf)\(\s*"([A-Za-z_]\w*)"/g)) {
      names.add(m[1] ?? "");
    }
  }
  const bindingFiles = [
    "host.json",
    ...["orchestrators", "activities"].flatMap((dir) =>
      readdirSync(path.join(repo, dir))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `${dir}/${f}`),
    ),
  ];
  for (const file of bindingFiles) {
    for (const m of read(file).matchAll(/%([A-Za-z_]\w*)%/g)) {
      names.add(m[1] ?? "");
    }
  }
  return names;
}

/** Settings the code reads that Azure must not get from the template, and why. */
const NOT_SET_IN_AZURE: Record<string, string> = {
  AZURE_TENANT_ID: "only for app-registration auth; the managed identity knows its tenant",
  AZURE_CLIENT_SECRET: "no secrets: Graph is called with the managed identity",
  AZURE_CLIENT_CERTIFICATE_PATH: "no certificates: Graph is called with the managed identity",
  GRAPH_CA_FILE: "only for the local Graph emulator",
  WEBSITE_INSTANCE_ID: "set by the platform",
  AzureWebJobsStorage: "a connection string would hold the account key; shared keys are off",
  AzureWebJobsStorage__serviceUri: "the per-service URIs are set instead",
  AzureWebJobsStorage__accountName: "the per-service URIs are set instead",
};

describe("infra/main.bicep", () => {
  it("deploys at subscription scope and creates its own resource group", () => {
    expect(main).toMatch(/^targetScope = 'subscription'$/m);
    expect(main).toMatch(/resource rg 'Microsoft\.Resources\/resourceGroups@[\d-]+'/);
  });

  it("calls only modules that exist, each scoped to the resource group", () => {
    const modules = [
      ...main.matchAll(/^module (\w+) '([^']+)' = \{\n {2}name: '\w+'\n {2}scope: rg$/gm),
    ];
    const all = [...main.matchAll(/^module (\w+) '([^']+)'/gm)];
    expect(modules.map((m) => m[1])).toEqual(all.map((m) => m[1]));
    expect(all.map((m) => m[2]).sort()).toEqual([
      "app/api.bicep",
      "app/identity.bicep",
      "app/monitoring.bicep",
      "app/rbac.bicep",
      "app/storage.bicep",
      "app/workbook.bicep",
    ]);
    for (const m of all) {
      expect(existsSync(path.join(repo, "infra", m[2] ?? ""))).toBe(true);
    }
  });

  it("passes each module exactly the params it declares, including every required one", () => {
    for (const m of main.matchAll(/^module (\w+) '([^']+)' = \{$/gm)) {
      const moduleText = read(`infra/${m[2]}`);
      const declared = params(moduleText);
      const passed = [...objectKeys(main.slice(m.index), "params: {").keys()];
      for (const name of passed) {
        expect(
          declared.map((p) => p.name),
          `${m[2]}: unknown param '${name}'`,
        ).toContain(name);
      }
      for (const p of declared.filter((d) => d.defaultValue === undefined)) {
        expect(passed, `${m[2]}: required param '${p.name}' not passed`).toContain(p.name);
      }
    }
  });

  it("reads only outputs its modules declare", () => {
    const files = new Map(
      [...main.matchAll(/^module (\w+) '([^']+)'/gm)].map((m) => [m[1], read(`infra/${m[2]}`)]),
    );
    const refs = [...main.matchAll(/\b(\w+)\.outputs\.(\w+)/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, moduleName, output] of refs) {
      expect(files.get(moduleName ?? ""), `${moduleName}.outputs.${output}`).toMatch(
        new RegExp(`^output ${output} `, "m"),
      );
    }
  });

  it("declares every azd value the deploy README reads", () => {
    const readme = read("README.md");
    const used = [...readme.matchAll(/azd env get-value (\w+)/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(2);
    for (const name of used) {
      expect(main).toMatch(new RegExp(`^output ${name} `, "m"));
    }
  });

  it("has UPPER_SNAKE outputs, including the identity the grant script needs", () => {
    const outputs = [...main.matchAll(/^output (\w+) /gm)].map((m) => m[1] ?? "");
    expect(outputs.length).toBeGreaterThan(5);
    for (const name of outputs) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    }
    expect(outputs).toContain("AZURE_MANAGED_IDENTITY_PRINCIPAL_ID");
    expect(outputs).toContain("SERVICE_API_NAME");
  });

  it("starts with safe defaults: dry run on, admins skipped, a pilot group required", () => {
    const byName = new Map(params(main).map((p) => [p.name, p]));
    expect(byName.get("dryRun")?.defaultValue).toBe("'true'");
    expect(byName.get("skipAdmins")?.defaultValue).toBe("'true'");
    expect(byName.get("replaceExisting")?.defaultValue).toBe("'false'");
    expect(byName.get("stagingGroup")?.defaultValue).toBeUndefined();
    expect(byName.get("stagingGroup")?.decorators).toContain("@minLength(1)");
    const parameters = JSON.parse(read("infra/main.parameters.json")) as {
      parameters: Record<string, { value: string }>;
    };
    expect(parameters.parameters.dryRun?.value).toBe("${DRY_RUN=true}");
  });

  it("maps every parameter in main.parameters.json to a declared param, and leaves only the pilot group to azd's prompt", () => {
    const declared = params(main);
    const parameters = JSON.parse(read("infra/main.parameters.json")) as {
      parameters: Record<string, unknown>;
    };
    const mapped = Object.keys(parameters.parameters);
    for (const name of mapped) {
      expect(declared.map((p) => p.name)).toContain(name);
    }
    const prompted = declared
      .filter((p) => p.defaultValue === undefined && !mapped.includes(p.name))
      .map((p) => p.name);
    expect(prompted).toEqual(["stagingGroup"]);
  });
});

describe("every Bicep file", () => {
  it.each(bicepFiles)("describes every param in %s", (file) => {
    const declared = params(read(file));
    expect(declared.length).toBeGreaterThan(0);
    for (const p of declared) {
      expect(
        p.decorators.some((d) => d.startsWith("@description(")),
        `${file}: param '${p.name}' has no @description`,
      ).toBe(true);
    }
  });

  it.each(bicepFiles)("uses every param it declares in %s", (file) => {
    const text = read(file);
    for (const p of params(text)) {
      const uses = text.match(new RegExp(`\\b${p.name}\\b`, "g")) ?? [];
      expect(uses.length, `${file}: param '${p.name}' is never used`).toBeGreaterThan(1);
    }
  });

  it.each(bicepFiles)("reads no keys and outputs no secret in %s", (file) => {
    const text = read(file);
    expect(text).not.toMatch(/listKeys|listkeys|listSecrets|listCredentials/);
    for (const m of text.matchAll(/^output (\w+) \w+ = (.+)$/gm)) {
      expect(`${m[1]} ${m[2]}`).not.toMatch(/key|secret|password|connectionstring|sas/i);
    }
    expect(text).not.toMatch(/@secure\(\)/);
  });
});

describe("infra/app modules", () => {
  it("creates a Flex Consumption Linux function app on Node 22, a version package.json engines admits", () => {
    expect(api).toMatch(/resource plan 'Microsoft\.Web\/serverfarms@[\d-]+'/);
    expect(api).toMatch(/tier: 'FlexConsumption'\n\s+name: 'FC1'/);
    expect(api).toMatch(/resource functionApp 'Microsoft\.Web\/sites@[\d-]+'/);
    expect(api).toMatch(/kind: 'functionapp,linux'/);
    expect(api).toMatch(/functionAppConfig: \{/);
    // Azure Functions ended Node.js 20 support in 2026: the app is deployed on Node.js 22.
    const runtime = /runtime: \{\n\s+name: 'node'\n\s+version: '(\d+)'/.exec(api);
    expect(runtime?.[1]).toBe("22");
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines
      .node;
    // engines admits the major Azure runs, and the Node.js that builds and tests the app.
    expect(semver.intersects(engines, `^${runtime?.[1]}.0.0`)).toBe(true);
    expect(semver.satisfies(process.version, engines)).toBe(true);
    expect(api).toMatch(/'azd-service-name': 'api'/);
  });

  it("gives the app only its user-assigned identity, also for the deployment package", () => {
    expect(api).toMatch(/type: 'UserAssigned'\n/);
    expect(api).toMatch(/authentication: \{\n\s+type: 'UserAssignedIdentity'/);
    expect(read("infra/app/identity.bicep")).toMatch(
      /'Microsoft\.ManagedIdentity\/userAssignedIdentities@[\d-]+'/,
    );
  });

  it("turns shared-key access off on the storage account and creates both blob containers", () => {
    expect(storage).toMatch(/'Microsoft\.Storage\/storageAccounts@[\d-]+'/);
    expect(storage).toMatch(/^\s+allowSharedKeyAccess: false$/m);
    expect(storage).toMatch(/^\s+allowBlobPublicAccess: false$/m);
    expect(storage).toMatch(/^\s+minimumTlsVersion: 'TLS1_2'$/m);
    expect(storage).toMatch(
      /resource containers 'containers' = \[\n\s+for containerName in containerNames/,
    );
    expect(main).toMatch(/containerNames: \[deploymentContainerName, runStoreContainerName\]/);
    expect(main).toMatch(/var runStoreContainerName = 'mfa-prepopulate-runs'/);
  });

  it("puts Application Insights on the Log Analytics workspace with local auth off", () => {
    expect(monitoring).toMatch(/'Microsoft\.OperationalInsights\/workspaces@[\d-]+'/);
    expect(monitoring).toMatch(/'Microsoft\.Insights\/components@[\d-]+'/);
    expect(monitoring).toMatch(/WorkspaceResourceId: logAnalytics\.id/);
    expect(monitoring).toMatch(/DisableLocalAuth: true/);
    expect(read("infra/app/workbook.bicep")).toMatch(/'Microsoft\.Insights\/workbooks@[\d-]+'/);
  });

  it("assigns the identity blob owner, queue and table contributor on storage, named by guid()", () => {
    const roles: Record<string, string> = {
      "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
      "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
      "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
      "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    };
    for (const [guid, role] of Object.entries(roles)) {
      const decl = new RegExp(`^var (\\w+) = '${guid}' // ${role}$`, "m").exec(rbac);
      expect(decl, `${role} is not a commented var`).not.toBeNull();
      expect(rbac).toMatch(
        new RegExp(`name: guid\\(\\w+\\.id, identityPrincipalId, ${decl?.[1]}\\)`),
      );
    }
    const assignments = [...rbac.matchAll(/'Microsoft\.Authorization\/roleAssignments@[\d-]+'/g)];
    expect(assignments).toHaveLength(5);
  });
});

describe("app settings", () => {
  it("sets every setting the code reads, except those Azure must not get", () => {
    const set = appSettings();
    const read = settingsTheCodeReads();
    expect(read.size).toBeGreaterThan(15);
    for (const name of read) {
      if (name in NOT_SET_IN_AZURE) {
        expect(set.has(name), `'${name}' must not be set: ${NOT_SET_IN_AZURE[name]}`).toBe(false);
      } else {
        expect(set.has(name), `'${name}' is read by the code but not set`).toBe(true);
      }
    }
  });

  it("covers every setting of the contract", () => {
    const set = appSettings();
    for (const name of Object.keys(SETTING_DEFAULTS)) {
      expect(set.has(name), `'${name}'`).toBe(true);
    }
  });

  it("connects to storage and Graph with the managed identity and no worker-runtime setting", () => {
    const set = appSettings();
    expect(set.get("AzureWebJobsStorage__credential")).toBe("'managedidentity'");
    expect(set.get("AzureWebJobsStorage__clientId")).toBe("identityClientId");
    for (const service of ["blob", "queue", "table"]) {
      expect(set.get(`AzureWebJobsStorage__${service}ServiceUri`)).toBe(
        `storage.properties.primaryEndpoints.${service}`,
      );
    }
    expect(set.get("GRAPH_AUTH")).toBe("'managedIdentity'");
    expect(set.get("AZURE_CLIENT_ID")).toBe("identityClientId");
    expect(set.get("RUN_STORE")).toBe("'blob'");
    expect(set.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
    // Flex Consumption refuses these: the runtime comes from functionAppConfig.
    expect(set.has("FUNCTIONS_WORKER_RUNTIME")).toBe(false);
    expect(set.has("FUNCTIONS_EXTENSION_VERSION")).toBe(false);
  });

  it("names the task hub with letters and digits only, as the Durable storage provider requires", () => {
    const hub = /var taskHubName = '([^']+)'/.exec(main)?.[1];
    expect(hub).toMatch(/^[A-Za-z][A-Za-z0-9]{2,49}$/);
    expect(appSettings().get("TASKHUB_NAME")).toBe("taskHubName");
  });
});

describe("Graph permissions", () => {
  it("grants exactly the four roles the app runs with, and nothing more", () => {
    expect([...REQUIRED_GRAPH_ROLES].sort()).toEqual([
      "AuditLog.Read.All",
      "GroupMember.Read.All",
      "User.Read.All",
      "UserAuthenticationMethod.ReadWrite.All",
    ]);
    // The emulator's managed identity has the same roles, so every test run proves they suffice.
    expect([...(PROFILES.fast?.grantedRoles ?? [])].sort()).toEqual(
      [...REQUIRED_GRAPH_ROLES].sort(),
    );
  });

  it("lists the same four roles, and no other Graph permission, in the README's permissions tables", () => {
    const readme = read("README.md");
    for (const heading of ["\n## Permissions and licence", "\n### Permissions"]) {
      const section = readme.slice(readme.indexOf(heading) + 1);
      const table = section.slice(0, section.search(/\n#{2,3} /));
      const rows = [...table.matchAll(/^\| `([\w.-]+)` +\|/gm)].map((m) => m[1]);
      expect(rows.sort(), heading).toEqual([...REQUIRED_GRAPH_ROLES].sort());
    }
  });

  it("runs the grant script after provisioning and never assigns Graph roles in Bicep", () => {
    const azureYaml = read("azure.yaml");
    expect(azureYaml).toMatch(/^ {2}postprovision:$/m);
    const runs = [...azureYaml.matchAll(/run: npx tsx (\S+)$/gm)].map((m) => m[1]);
    expect(runs).toEqual(["infra/scripts/grantGraphRoles.ts", "infra/scripts/grantGraphRoles.ts"]);
    expect(existsSync(path.join(repo, "infra/scripts/grantGraphRoles.ts"))).toBe(true);
    expect(azureYaml).toMatch(/^ {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function$/m);
    for (const file of bicepFiles) {
      expect(read(file)).not.toMatch(/appRoleAssignedTo|00000003-0000-0000-c000-000000000000/);
    }
  });
});
