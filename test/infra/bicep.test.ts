/**
 * Offline checks of the azd template. Bicep cannot be compiled here, so the templates are read as
 * text: what must be provisioned, which settings the app gets, and what must never appear.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../shared/settings/index.js";
import { PROFILES } from "../../local/graph-emulator/index.js";
import { REQUIRED_GRAPH_ROLES } from "../../infra/scripts/grantGraphRoles.js";
import { censusKeys } from "../../shared/guards/census.js";
import { DEFAULT_RUN_TUNING, runKeys } from "../../shared/run/index.js";
import { WRITING_CHUNKS } from "../../orchestrators/provisionWave.js";

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

/** Names of the `%NAME%` bindings in host.json and the function registrations. */
function bindingNames(): Set<string> {
  const names = new Set<string>();
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

/** The settings spec by name. */
const declared = new Map<string, (typeof SETTINGS)[number]>(SETTINGS.map((row) => [row.name, row]));

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
  it("sets every setting the spec says the template sets, and none it must not", () => {
    const set = appSettings();
    const fromTemplate = SETTINGS.filter((row) => row.azure === "template");
    expect(fromTemplate.length).toBeGreaterThan(15);
    for (const row of SETTINGS) {
      if (row.azure === "template") {
        expect(set.has(row.name), `'${row.name}' is declared as set by the template`).toBe(true);
      } else {
        expect(set.has(row.name), `'${row.name}' must not be set: ${row.azure.notSet}`).toBe(false);
      }
    }
  });

  it("sets no setting the spec does not declare", () => {
    for (const name of appSettings().keys()) {
      expect(declared.has(name), `'${name}' is not declared in shared/settings/spec.ts`).toBe(true);
    }
  });

  it("declares every %NAME% binding of host.json and the functions, and sets it", () => {
    const bindings = bindingNames();
    expect(bindings).toContain("NIGHTLY_SCHEDULE");
    expect(bindings).toContain("TASKHUB_NAME");
    for (const name of bindings) {
      expect(declared.get(name)?.azure, `'${name}'`).toBe("template");
    }
  });

  it("covers every setting of the contract (each one with a default)", () => {
    const set = appSettings();
    const withDefault = SETTINGS.filter((row) => row.default !== undefined);
    expect(withDefault.length).toBeGreaterThan(10);
    for (const row of withDefault) {
      expect(set.has(row.name), `'${row.name}'`).toBe(true);
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
  it("grants exactly the roles the app runs with, and nothing more", () => {
    expect([...REQUIRED_GRAPH_ROLES].sort()).toEqual([
      "AuditLog.Read.All",
      "Directory.Read.All",
      "Domain.Read.All",
      "GroupMember.Read.All",
      "Policy.Read.AuthenticationMethod",
      "RoleManagement.Read.Directory",
      "User.Read.All",
      "UserAuthenticationMethod.ReadWrite.All",
    ]);
    // The emulator's managed identity has the same roles, so every test run proves they suffice.
    expect([...(PROFILES.fast?.grantedRoles ?? [])].sort()).toEqual(
      [...REQUIRED_GRAPH_ROLES].sort(),
    );
  });

  it("lists the same four roles, and no other Graph permission, in the README's permissions table", () => {
    const readme = read("README.md");
    const heading = "\n## Permissions\n";
    expect(readme.indexOf(heading), heading).toBeGreaterThan(0);
    const section = readme.slice(readme.indexOf(heading) + 1);
    const table = section.slice(0, section.search(/\n#{2,3} /));
    const rows = [...table.matchAll(/^\| `([\w.-]+)` +\|/gm)].map((m) => m[1]);
    expect(rows.sort(), heading).toEqual([...REQUIRED_GRAPH_ROLES].sort());
  });

  it("runs the project's own grant script after provisioning, built here, never fetched, and never assigns Graph roles in Bicep", () => {
    const azureYaml = read("azure.yaml");
    expect(azureYaml).toMatch(/^ {2}postprovision:$/m);
    const runs = [...azureYaml.matchAll(/^\s+run: (.+)$/gm)].map((m) => m[1]);
    expect(runs).toEqual([
      "npm run build && node dist/infra/scripts/grantGraphRoles.js",
      "npm run build && node dist/infra/scripts/grantGraphRoles.js",
    ]);
    // A registry fetch at hook time (npx, npm exec, pnpm dlx, yarn dlx) would run whatever the
    // registry serves that day with the admin's Graph rights.
    expect(azureYaml).not.toMatch(/\bnpx\b|npm exec|\bdlx\b/);
    // `npm run build` compiles infra/ to that path: tsc includes it, and rootDir is the repository.
    const tsconfig = JSON.parse(read("tsconfig.json")) as {
      include: string[];
      compilerOptions: { outDir: string; rootDir: string };
    };
    expect(tsconfig.include).toContain("infra");
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: "dist", rootDir: "." });
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.build).toBe("tsc -p tsconfig.json");
    expect(existsSync(path.join(repo, "infra/scripts/grantGraphRoles.ts"))).toBe(true);
    expect(azureYaml).toMatch(/^ {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function$/m);
    for (const file of bicepFiles) {
      expect(read(file)).not.toMatch(/appRoleAssignedTo|00000003-0000-0000-c000-000000000000/);
    }
  });
});

/** `resource <symbol> '...' = {` with its brace-balanced body. */
function resourceBlock(text: string, symbol: string): string {
  const start = text.search(new RegExp(`^resource ${symbol} '`, "m"));
  expect(start, `resource '${symbol}' is missing`).toBeGreaterThanOrEqual(0);
  let depth = 0;
  for (let i = text.indexOf("{", start); i < text.length; i++) {
    depth += text[i] === "{" ? 1 : text[i] === "}" ? -1 : 0;
    if (depth === 0) {
      return text.slice(start, i + 1);
    }
  }
  throw new Error(`resource '${symbol}' is not closed`);
}

/** Azure ABAC `StringLike`: `*` matches any run of characters (slashes too), `?` one; case-sensitive. */
function stringLike(value: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(value);
}

function mainParameters(): Record<string, { value: string }> {
  return (
    JSON.parse(read("infra/main.parameters.json")) as {
      parameters: Record<string, { value: string }>;
    }
  ).parameters;
}

describe("security guards (README: Security model)", () => {
  const auth = resourceBlock(api, "authSettings");
  const mainParams = new Map(params(main).map((p) => [p.name, p]));

  it("puts Entra authentication in front of every route: 401 for anonymous calls, no excluded path", () => {
    expect(auth).toMatch(/^resource authSettings 'Microsoft\.Web\/sites\/config@[\d-]+' = \{$/m);
    expect(auth).toMatch(/^\s+parent: functionApp$/m);
    expect(auth).toMatch(/^\s+name: 'authsettingsV2'$/m);
    expect(auth).toMatch(/platform: \{\n\s+enabled: true\n/);
    expect(auth).toMatch(/^\s+requireAuthentication: true$/m);
    expect(auth).toMatch(/^\s+unauthenticatedClientAction: 'Return401'$/m);
    expect(auth).toMatch(/^\s+requireHttps: true$/m);
    // No way around it: no anonymous action, no excluded path, no second provider.
    expect(auth).not.toMatch(
      /AllowAnonymous|excludedPaths|RedirectToLoginPage|requireAuthentication: false/,
    );
    expect(/identityProviders: \{\n\s+(\w+): \{/.exec(auth)?.[1]).toBe("azureActiveDirectory");
    expect(auth.match(/^\s+enabled: \w+$/gm)?.map((l) => l.trim())).toEqual([
      "enabled: true", // platform
      "enabled: true", // Microsoft Entra ID
      "enabled: false", // the token store
    ]);
  });

  it("accepts only tokens of this tenant issued for the runs API's client id, which deployment requires", () => {
    expect(auth).toMatch(/^\s+clientId: apiClientId$/m);
    expect(auth).toMatch(
      /openIdIssuer: '\$\{environment\(\)\.authentication\.loginEndpoint\}\$\{tenant\(\)\.tenantId\}\/v2\.0'/,
    );
    const audiences = /allowedAudiences: \[\n([^\]]+)\]/
      .exec(auth)?.[1]
      ?.trim()
      .split(/\s*\n\s*/);
    expect(audiences).toEqual(["apiClientId", "'api://${apiClientId}'"]);
    expect(auth).not.toMatch(/clientSecret/); // bearer tokens only: nothing secret to store
    expect(mainParams.get("apiClientId")?.defaultValue).toBeUndefined();
    expect(mainParams.get("apiClientId")?.decorators).toEqual(
      expect.arrayContaining(["@minLength(36)", "@maxLength(36)"]),
    );
    expect(main).toMatch(/^\s+apiClientId: apiClientId$/m);
    // No fallback value: without the app registration the deployment stops.
    expect(mainParameters().apiClientId?.value).toBe("${API_CLIENT_ID}");
  });

  it("keeps function keys as a second lock on every HTTP route", () => {
    const levels = [...read("orchestrators/runsApi.ts").matchAll(/authLevel: "(\w+)"/g)];
    expect(levels.map((m) => m[1])).toEqual(["function"]);
    for (const dir of ["orchestrators", "activities"]) {
      for (const f of readdirSync(path.join(repo, dir)).filter((n) => n.endsWith(".ts"))) {
        expect(read(`${dir}/${f}`), `${dir}/${f}`).not.toMatch(/authLevel: "anonymous"/);
      }
    }
  });

  it("deletes run-store data RUN_RETENTION_DAYS after it was written (default 30)", () => {
    expect(mainParams.get("runRetentionDays")?.defaultValue).toBe("30");
    expect(mainParams.get("runRetentionDays")?.decorators).toContain("@minValue(1)");
    expect(appSettings().get("RUN_RETENTION_DAYS")).toBe("string(runRetentionDays)");
    expect(mainParameters().runRetentionDays?.value).toBe("${RUN_RETENTION_DAYS=30}");
    expect(main).toMatch(/module storage[\s\S]*?\n {4}runRetentionDays: runRetentionDays\n/);
    expect(main).toMatch(
      /module storage[\s\S]*?\n {4}runStoreContainerName: runStoreContainerName\n/,
    );
    const lifecycle = storage.slice(storage.indexOf("resource lifecycle 'managementPolicies'"));
    expect(lifecycle).toMatch(/^\s+name: 'default'$/m);
    expect(lifecycle).toMatch(/^\s+enabled: true$/m);
    // Lifecycle prefixes start with the container; runs/ holds every run (the store's own keys).
    expect(lifecycle).toMatch(/prefixMatch: \['\$\{runStoreContainerName\}\/runs\/'\]/);
    expect(runKeys.reportJson("any").startsWith("runs/")).toBe(true);
    expect(lifecycle).toMatch(/delete: \{ daysAfterModificationGreaterThan: runRetentionDays \}/);
  });

  it("lets the deployer read reports and plans, but not chunk files, user pages, outcomes or other containers", () => {
    const reader = resourceBlock(rbac, "deployerBlobReader");
    expect(rbac).toMatch(
      /^var storageBlobDataReaderRoleId = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1' \/\/ Storage Blob Data Reader$/m,
    );
    expect(reader).toMatch(/roleDefinitions', storageBlobDataReaderRoleId\)/);
    expect(reader).toMatch(/^\s+condition: deployerReadCondition$/m);
    expect(reader).toMatch(/^\s+conditionVersion: '2\.0'$/m);
    expect(rbac).toMatch(
      /^var deployerReadCondition = replace\(deployerReadConditionTemplate, '<runStoreContainer>', runStoreContainerName\)$/m,
    );
    expect(main).toMatch(/module rbac[\s\S]*?\n {4}runStoreContainerName: runStoreContainerName\n/);
    const condition = /var deployerReadConditionTemplate = '''([\s\S]*?)'''/.exec(rbac)?.[1] ?? "";
    // Two rules joined by AND: reading a blob (container and path), listing (container only).
    const rules = condition.trim().split(/\n\)\nAND\n\(/);
    expect(rules).toHaveLength(2);
    const [readRule = "", listRule = ""] = rules;
    expect(readRule).toMatch(/blobs\/read'\} AND NOT SubOperationMatches\{'Blob\.List'\}/);
    expect(listRule).toMatch(/blobs\/read'\} AND SubOperationMatches\{'Blob\.List'\}/);
    for (const rule of rules) {
      expect(rule).toMatch(/containers:name\] StringEquals '<runStoreContainer>'/);
    }
    const like = [...readRule.matchAll(/blobs:path\] StringLike '([^']+)'/g)].map(
      (m) => m[1] ?? "",
    );
    const notLike = [...readRule.matchAll(/blobs:path\] StringNotLike '([^']+)'/g)].map(
      (m) => m[1] ?? "",
    );
    const mayRead = (key: string): boolean =>
      like.some((p) => stringLike(key, p)) && !notLike.some((p) => stringLike(key, p));
    // The run store's own key layout decides, not hand-written paths.
    const id = "20250101T020000Z-abc";
    const readable = [
      runKeys.reportCsv(id),
      runKeys.reportJson(id),
      runKeys.reportIndex(id),
      runKeys.plan(id, 1),
    ];
    const hidden = [
      runKeys.chunk(id, 1),
      runKeys.page(id, "users", 1),
      runKeys.page(id, "report", 1),
      runKeys.page(id, "excluded", 1),
      runKeys.outcome(id, 1),
      runKeys.partialOutcome(id, 1),
      censusKeys.history("mobile", 1),
    ];
    expect(readable.filter((k) => !mayRead(k))).toEqual([]);
    expect(hidden.filter((k) => mayRead(k))).toEqual([]);
  });

  it("sends the storage account's blob logs and the app's logs to the Log Analytics workspace", () => {
    const blob = resourceBlock(storage, "blobDiagnostics");
    expect(blob).toMatch(/'Microsoft\.Insights\/diagnosticSettings@[\w-]+'/);
    expect(blob).toMatch(/^\s+scope: storage::blobServices$/m);
    expect(blob).toMatch(/^\s+workspaceId: workspaceId$/m);
    const categories = [...blob.matchAll(/category: '(\w+)', enabled: true/g)].map((m) => m[1]);
    expect(categories.sort()).toEqual(["StorageDelete", "StorageRead", "StorageWrite"]);
    const app = resourceBlock(api, "appDiagnostics");
    expect(app).toMatch(/'Microsoft\.Insights\/diagnosticSettings@[\w-]+'/);
    expect(app).toMatch(/^\s+scope: functionApp$/m);
    expect(app).toMatch(/^\s+workspaceId: workspaceId$/m);
    expect(app).toMatch(/categoryGroup: 'allLogs', enabled: true/);
    for (const module of ["storage", "api"]) {
      expect(main).toMatch(
        new RegExp(
          `module ${module} [\\s\\S]*?\\n {4}workspaceId: monitoring\\.outputs\\.logAnalyticsId\\n`,
        ),
      );
    }
  });

  it("keeps HTTPS only and TLS 1.2 on the app and the storage account", () => {
    expect(api).toMatch(/^\s+httpsOnly: true$/m);
    expect(api).toMatch(/^\s+minTlsVersion: '1\.2'$/m);
    expect(api).toMatch(/^\s+ftpsState: 'Disabled'$/m);
    expect(storage).toMatch(/^\s+supportsHttpsTrafficOnly: true$/m);
    expect(storage).toMatch(/^\s+minimumTlsVersion: 'TLS1_2'$/m);
  });

  it("limits storage network access through storageNetworkMode: public by default, a firewall when restricted", () => {
    expect(mainParams.get("storageNetworkMode")?.defaultValue).toBe("'public'");
    expect(mainParams.get("storageNetworkMode")?.decorators).toContain(
      "@allowed(['public', 'restricted'])",
    );
    expect(mainParameters().storageNetworkMode?.value).toBe("${STORAGE_NETWORK_MODE=public}");
    expect(main).toMatch(/^\s+networkMode: storageNetworkMode$/m);
    expect(main).toMatch(/^\s+allowedIpRanges: storageAllowedIpRanges$/m);
    expect(main).toMatch(/^\s+allowedSubnetIds: empty\(appSubnetId\) \? \[\] : \[appSubnetId\]$/m);
    expect(main).toMatch(/^\s+virtualNetworkSubnetId: appSubnetId$/m);
    expect(storage).toMatch(/^var restricted = networkMode == 'restricted'$/m);
    expect(storage).toMatch(/^\s+defaultAction: restricted \? 'Deny' : 'Allow'$/m);
    expect(storage).toMatch(/^\s+ipRules: restricted \? ipRules : \[\]$/m);
    expect(storage).toMatch(/^\s+virtualNetworkRules: restricted \? subnetRules : \[\]$/m);
  });

  it("keeps every log line out of Application Insights sampling, so no write goes unlogged", () => {
    const host = JSON.parse(read("host.json")) as {
      logging: { applicationInsights: { samplingSettings: { excludedTypes: string } } };
    };
    // context.info lines reach Application Insights as Trace telemetry (traces / AppTraces).
    const excluded = host.logging.applicationInsights.samplingSettings.excludedTypes.split(";");
    expect(excluded.sort()).toEqual(["Request", "Trace"]);
  });

  it("sizes instances and host concurrency for one writing chunk per run, not for Graph's quota", () => {
    // Arrange
    const host = JSON.parse(read("host.json")) as {
      extensions: { durableTask: { maxConcurrentActivityFunctions: number } };
    };
    const maxInstances = params(api).find((p) => p.name === "maximumInstanceCount");

    // Assert: one chunk writes; an instance has room for a run's widest fan-out (census shards).
    expect(WRITING_CHUNKS).toBe(1);
    expect(host.extensions.durableTask.maxConcurrentActivityFunctions).toBe(
      DEFAULT_RUN_TUNING.chunksInFlight,
    );
    expect(maxInstances?.decorators.join("\n")).toContain("Graph load no longer depends on it");
    expect(api).toMatch(/^\s+maximumInstanceCount: maximumInstanceCount$/m);
  });

  it("polls Durable's queues at least every 2 s, so the gap between two chunks stays short", () => {
    // An idle queue is polled less and less often, up to maxQueuePollingInterval (30 s unless
    // set). While a chunk writes, the wave's control queue and the work-item queue sit idle; at
    // its end the completion waits for the next poll of one, the next chunk for the next poll of
    // the other, and nothing is written meanwhile (docs/architecture.md, One write budget).
    const host = JSON.parse(read("host.json")) as {
      extensions: { durableTask: { storageProvider: { maxQueuePollingInterval: string } } };
    };
    const interval = host.extensions.durableTask.storageProvider.maxQueuePollingInterval;
    const [h, m, sec] = interval.split(":").map(Number);
    const seconds = (h ?? NaN) * 3600 + (m ?? NaN) * 60 + (sec ?? NaN);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(2);
  });

  it("bounds maximumInstanceCount as Flex Consumption documents it, naming the page beside it", () => {
    // Arrange
    const maxInstances = params(api).find((p) => p.name === "maximumInstanceCount");
    const at = api.indexOf("\nparam maximumInstanceCount ");
    const comment = api.slice(api.lastIndexOf("\n\n", at), at);

    // Assert: 1 to 1000 (the page once said 40 at least); the default inside.
    expect(maxInstances?.decorators).toEqual(
      expect.arrayContaining(["@minValue(1)", "@maxValue(1000)"]),
    );
    expect(Number(maxInstances?.defaultValue)).toBeGreaterThanOrEqual(1);
    expect(Number(maxInstances?.defaultValue)).toBeLessThanOrEqual(1000);
    expect(comment).toContain(
      "https://learn.microsoft.com/azure/azure-functions/event-driven-scaling?pivots=flex-consumption-plan#limit-scale-out",
    );
  });

  it("names each security parameter and both app roles in the README's security model", () => {
    const start = main.indexOf("// ---- security");
    const end = main.indexOf("\n// ----", start + 1);
    const security = params(main.slice(start, end > start ? end : undefined)).map((p) => p.name);
    expect(security).toEqual(
      expect.arrayContaining(["apiClientId", "runRetentionDays", "storageNetworkMode"]),
    );
    const readme = read("README.md");
    const from = readme.indexOf("\n## Security model");
    expect(from).toBeGreaterThan(0);
    const section = readme.slice(from + 1, readme.indexOf("\n## ", from + 1));
    for (const name of [...security, "Runs.Read", "Runs.Operate", "RUN_RETENTION_DAYS"]) {
      expect(section, name).toContain(name);
    }
  });
});
