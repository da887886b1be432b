import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadTenantFile,
  TENANT_FIXTURE_ERROR_NAME,
  TenantFixtureError,
  validateTenant,
} from "../../../../local/graph-emulator/tenant/fixture.js";
import { TENANT_FIXTURE_SCHEMA } from "../../../../local/graph-emulator/tenant/schema.js";

const root = new URL("../../../../", import.meta.url);
const tenantDir = new URL("local/graph-emulator/tenant/", root);
const fixturesDir = new URL("test/fixtures/", root);

async function readJson(url: URL): Promise<unknown> {
  return JSON.parse(await readFile(url, "utf8")) as unknown;
}

function rejectionOf(run: () => unknown): TenantFixtureError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TenantFixtureError);
    return error as TenantFixtureError;
  }
  throw new Error("expected the fixture to be rejected");
}

describe("the embedded schema", () => {
  it("equals the contract schema file beside it", async () => {
    // Arrange
    const beside = await readJson(new URL("tenant-fixture.schema.json", tenantDir));

    // Act / Assert
    expect(TENANT_FIXTURE_SCHEMA).toEqual(beside);
  });
});

describe("validateTenant", () => {
  it("accepts the contract example and returns it unchanged", async () => {
    const example = await readJson(new URL("tenant-fixture.example.json", tenantDir));

    const fixture = validateTenant(example);

    expect(fixture).toBe(example);
    expect(fixture.users).toHaveLength(7);
  });

  it("accepts the team's targeting fixture", async () => {
    const fixture = validateTenant(await readJson(new URL("targeting.tenant.json", fixturesDir)));

    expect(fixture.users.length).toBeGreaterThanOrEqual(30);
    expect(fixture.users.length).toBeLessThanOrEqual(60);
  });

  it("names the JSON path and the allowed values when a phone type is unknown", () => {
    const error = rejectionOf(() =>
      validateTenant({
        tenant: { id: "t", domain: "contoso.example" },
        users: [
          { id: "u0", userPrincipalName: "a@contoso.example" },
          { id: "u1", userPrincipalName: "b@contoso.example" },
          { id: "u2", userPrincipalName: "c@contoso.example" },
          {
            id: "u3",
            userPrincipalName: "d@contoso.example",
            phoneMethods: [{ phoneType: "pager", phoneNumber: "+45 20123456" }],
          },
        ],
      }),
    );

    expect(error.message).toBe(
      "GraphEmulator: tenant fixture is invalid at /users/3/phoneMethods/0/phoneType: must be equal to one of the allowed values.",
    );
    expect(error.name).toBe(TENANT_FIXTURE_ERROR_NAME);
    expect(error.code).toBe("invalidTenantFixture");
    expect(error.path).toBe("/users/3/phoneMethods/0/phoneType");
  });

  it("rejects a value that is not an object, at the document root", () => {
    const error = rejectionOf(() => validateTenant([]));

    expect(error.message).toBe(
      "GraphEmulator: tenant fixture is invalid at the document root: must be object.",
    );
    expect(error.path).toBe("");
  });

  it("rejects more than three phone methods by the schema's limit", () => {
    const method = { phoneType: "office", phoneNumber: "+45 33123456" };
    const error = rejectionOf(() =>
      validateTenant({
        tenant: { id: "t", domain: "contoso.example" },
        users: [
          {
            id: "u1",
            userPrincipalName: "a@contoso.example",
            phoneMethods: [method, method, method, method],
          },
        ],
      }),
    );

    expect(error.path).toBe("/users/0/phoneMethods");
    expect(error.message).toContain("must NOT have more than 3 items.");
  });

  it("rejects a group id that is also a user id, since members would be ambiguous", () => {
    const error = rejectionOf(() =>
      validateTenant({
        tenant: { id: "t", domain: "contoso.example" },
        groups: [{ id: "u1", displayName: "Clash", members: [] }],
        users: [{ id: "u1", userPrincipalName: "a@contoso.example" }],
      }),
    );

    expect(error.path).toBe("/groups/0/id");
    expect(error.message).toContain("is already used by the user /users/0");
  });

  it("accepts groups nested in a cycle, which transitive membership resolves once", () => {
    const fixture = validateTenant({
      tenant: { id: "t", domain: "contoso.example" },
      groups: [
        { id: "g1", displayName: "A", members: ["g2", "u1"] },
        { id: "g2", displayName: "B", members: ["g1"] },
      ],
      users: [{ id: "u1", userPrincipalName: "a@contoso.example" }],
    });

    expect(fixture.groups).toHaveLength(2);
  });

  const broken: [file: string, path: string, words: string][] = [
    ["bad-phone-type.json", "/users/1/phoneMethods/0/phoneType", "must be equal to one of the allowed values."],
    ["missing-upn.json", "/users/0", "must have required property 'userPrincipalName'."],
    ["extra-property.json", "/users/0", "must NOT have additional properties ('mail')."],
    ["missing-tenant.json", "", "at the document root: must have required property 'tenant'."],
    ["duplicate-user-id.json", "/users/2/id", "the user id 'u1' is already used by /users/0."],
    ["duplicate-upn-case.json", "/users/1/userPrincipalName", "is already used by /users/0 (UPNs compare case-insensitively)."],
    ["duplicate-group-id.json", "/groups/1/id", "is already used by /groups/0."],
    ["unknown-group-member.json", "/groups/0/members/1", "the member 'u9' is neither a user nor a group of the fixture."],
    ["two-mobile-methods.json", "/users/0/phoneMethods/1/phoneType", "already has a 'mobile' phone method; Graph allows one per type."],
    ["alternate-without-mobile.json", "/users/0/phoneMethods/1/phoneType", "has an 'alternateMobile' phone method without a 'mobile' one"],
  ]; // prettier-ignore

  it.each(broken)("rejects invalid/%s at '%s'", async (file, path, words) => {
    const value = await readJson(new URL(`invalid/${file}`, fixturesDir));

    const error = rejectionOf(() => validateTenant(value));

    expect(error.path).toBe(path);
    expect(error.message).toMatch(/^GraphEmulator: tenant fixture is invalid at /);
    expect(error.message).toContain(words);
    expect(error.message.endsWith(".")).toBe(true);
  });
});

describe("loadTenantFile", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tenant-fixture-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads, parses and validates a fixture file, ignoring a byte order mark", async () => {
    const path = join(dir, "bom.json");
    const text = await readFile(new URL("tenant-fixture.example.json", tenantDir), "utf8");
    await writeFile(path, `\ufeff${text}`);

    const fixture = await loadTenantFile(path);

    expect(fixture.tenant.domain).toBe("contoso.example");
  });

  it("names the file and the line of a JSON syntax error without quoting its content", async () => {
    const path = join(dir, "trailing-comma.json");
    await writeFile(
      path,
      '{\n  "tenant": { "id": "t", "domain": "contoso.example" },\n  "users": [\n    { "id": "u1", "userPrincipalName": "a@contoso.example", "mobilePhone": "+45 20123456", },\n  ]\n}\n',
    );

    const error = await loadTenantFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(TenantFixtureError);
    const message = (error as TenantFixtureError).message;
    expect(message).toMatch(
      /^GraphEmulator: the tenant fixture file 'trailing-comma\.json' is not valid JSON \(at line 4, column \d+\)\.$/,
    );
    expect(message).not.toContain("20123456");
    expect((error as TenantFixtureError).file).toBe("trailing-comma.json");
  });

  it("names the file when its content is not a valid fixture", async () => {
    await expect(
      loadTenantFile(new URL("invalid/unknown-group-member.json", fixturesDir).pathname),
    ).rejects.toThrow(
      "GraphEmulator: tenant fixture 'unknown-group-member.json' is invalid at /groups/0/members/1: the member 'u9' is neither a user nor a group of the fixture.",
    );
  });

  it("says which path could not be read when the file is missing", async () => {
    const path = join(dir, "absent.json");

    await expect(loadTenantFile(path)).rejects.toThrow(
      `GraphEmulator: cannot read the tenant fixture file '${path}' (ENOENT). Check the path given to --tenant-file.`,
    );
  });
});
