/**
 * App-registration credentials sign in at the authority of the cloud `GRAPH_BASE_URL` names and
 * ask for that cloud's Graph; a loopback emulator keeps the public cloud's defaults. The
 * `@azure/identity` credentials are replaced by recorders, so nothing is contacted.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createGraphCredential } from "../../../shared/graph/credentials.js";
import { loadSettings, type GraphAuth } from "../../../shared/settings/index.js";

/** What each recorded credential was built with and asked for. */
const built: { kind: string; options: Record<string, unknown> | undefined; scopes: string[] }[] =
  [];

vi.mock("@azure/identity", async (importOriginal) => {
  const original = await importOriginal<typeof import("@azure/identity")>();
  const recorder = (kind: string, optionsAt: number) =>
    function Recorder(...args: unknown[]) {
      const entry = {
        kind,
        options: args[optionsAt] as Record<string, unknown> | undefined,
        scopes: [] as string[],
      };
      built.push(entry);
      return {
        getToken: async (scope: string) => {
          entry.scopes.push(scope);
          return { token: "t", expiresOnTimestamp: Date.now() + 3_600_000 };
        },
      };
    };
  return {
    ...original,
    ClientSecretCredential: vi.fn(recorder("clientSecret", 3)),
    ClientCertificateCredential: vi.fn(recorder("clientCertificate", 3)),
    DeviceCodeCredential: vi.fn(recorder("deviceCode", 0)),
  };
});

const APP_REGISTRATION = {
  AZURE_TENANT_ID: "00000000-0000-4000-8000-000000000001",
  AZURE_CLIENT_ID: "00000000-0000-4000-8000-000000000002",
  AZURE_CLIENT_SECRET: "x",
  AZURE_CLIENT_CERTIFICATE_PATH: "/nonexistent.pem",
};

/** Builds the credential the settings ask for, asks it for a token, and returns the record. */
async function signIn(
  graphAuth: GraphAuth,
  raw: Record<string, string>,
): Promise<(typeof built)[number]> {
  const settings = loadSettings({ ...APP_REGISTRATION, GRAPH_AUTH: graphAuth, ...raw });
  await createGraphCredential(settings, { onDeviceCode: () => undefined }).getToken("ignored");
  expect(built).toHaveLength(1);
  return built[0]!;
}

describe("credentials of an app registration in a national cloud", () => {
  beforeEach(() => {
    built.length = 0;
  });

  it.each([
    ["https://graph.microsoft.com", "https://login.microsoftonline.com"],
    ["https://graph.microsoft.us", "https://login.microsoftonline.us"],
    ["https://dod-graph.microsoft.us", "https://login.microsoftonline.us"],
    ["https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"],
  ])("for %s sign in at %s and ask for that Graph", async (graph, authority) => {
    for (const mode of ["clientSecret", "clientCertificate", "deviceCode"] as const) {
      built.length = 0;
      const record = await signIn(mode, { GRAPH_BASE_URL: graph });
      expect(record.options?.authorityHost, mode).toBe(authority);
      expect(record.scopes, mode).toEqual([`${graph}/.default`]);
    }
  });

  it("keep the public cloud's defaults for a loopback emulator", async () => {
    const record = await signIn("clientSecret", {
      GRAPH_BASE_URL: "https://127.0.0.1:8443",
      GRAPH_ALLOW_LOOPBACK: "true",
    });
    expect(record.options?.authorityHost).toBeUndefined();
    expect(record.scopes).toEqual(["https://graph.microsoft.com/.default"]);
  });
});

describe("an administrator's device-code sign-in", () => {
  beforeEach(() => {
    built.length = 0;
  });

  it("asks for the scopes it is given, named for the cloud's Graph", async () => {
    const settings = loadSettings({
      ...APP_REGISTRATION,
      GRAPH_AUTH: "deviceCode",
      GRAPH_BASE_URL: "https://graph.microsoft.us",
    });
    await createGraphCredential(settings, {
      onDeviceCode: () => undefined,
      userScopes: ["User.Read.All", "UserAuthenticationMethod.ReadWrite.All"],
    }).getToken("ignored");
    expect(built.map((b) => b.scopes)).toEqual([
      [
        [
          "https://graph.microsoft.us/User.Read.All",
          "https://graph.microsoft.us/UserAuthenticationMethod.ReadWrite.All",
        ],
      ],
    ]);
  });

  it("keeps the signed-in instance after a refused token, so nobody is asked to sign in again", async () => {
    const settings = loadSettings({ ...APP_REGISTRATION, GRAPH_AUTH: "deviceCode" });
    const credential = createGraphCredential(settings, { onDeviceCode: () => undefined });
    await credential.getToken("ignored");
    credential.invalidate();
    await credential.getToken("ignored");
    expect(built).toHaveLength(1);
    expect(built[0]!.scopes).toHaveLength(2);
  });
});
