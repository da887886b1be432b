/**
 * Tokens go only to Graph: `GRAPH_BASE_URL` names a Microsoft Graph host of the public or a
 * national cloud, or a loopback emulator that `GRAPH_ALLOW_LOOPBACK` allows outside Azure; an
 * extra CA applies only to that emulator. All of it is refused when the settings are read.
 */
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../../shared/errors.js";
import { loadSettings, type RawSettings } from "../../../shared/settings/index.js";

/** The problems loading `raw` reports, as "SETTING: problem". */
function problems(raw: RawSettings): string[] {
  try {
    loadSettings(raw);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems.map((p) => `${p.setting}: ${p.problem}`);
  }
}

describe("GRAPH_BASE_URL", () => {
  it.each([
    ["https://graph.microsoft.com", "https://graph.microsoft.com"],
    ["https://graph.microsoft.com/v1.0/", "https://graph.microsoft.com"],
    ["https://GRAPH.microsoft.us/", "https://graph.microsoft.us"],
    ["https://dod-graph.microsoft.us", "https://dod-graph.microsoft.us"],
    ["https://microsoftgraph.chinacloudapi.cn/v1.0", "https://microsoftgraph.chinacloudapi.cn"],
  ])("takes the Graph root %s as %s", (value, root) => {
    expect(loadSettings({ GRAPH_BASE_URL: value }).graphBaseUrl).toBe(root);
  });

  it.each([
    ["a host that is not Graph", "https://graph.example.com", "must be the Microsoft Graph root"],
    [
      "a look-alike host",
      "https://graph.microsoft.com.example.net",
      "must be the Microsoft Graph root",
    ],
    ["a retired cloud", "https://graph.microsoft.de", "must be the Microsoft Graph root"],
    [
      "a port on a Graph host",
      "https://graph.microsoft.com:8443",
      "must be the Microsoft Graph root",
    ],
    ["plain http", "http://graph.microsoft.com", "must be an https URL"],
    ["a user name", "https://user@graph.microsoft.com", "must not carry a user name or password"],
    [
      "a path",
      "https://graph.microsoft.com/beta",
      "must be the Graph root, with no path other than /v1.0",
    ],
    [
      "a proxy path",
      "https://proxy.example.com/graph.microsoft.com",
      "must be the Graph root, with no path other than /v1.0",
    ],
    ["a query", "https://graph.microsoft.com/?x=1", "must not carry a query or a fragment"],
    [
      "a loopback host unless allowed",
      "https://127.0.0.1:8443",
      "names a loopback host: set GRAPH_ALLOW_LOOPBACK=true",
    ],
  ])("refuses %s, naming the setting", (_, value, problem) => {
    const found = problems({ GRAPH_BASE_URL: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`GRAPH_BASE_URL: ${problem}`);
  });

  it("never quotes the refused value", () => {
    const found = problems({ GRAPH_BASE_URL: "https://graph.example.com" });
    expect(found.join(" ")).not.toContain("example.com");
  });
});

describe("GRAPH_ALLOW_LOOPBACK", () => {
  it.each(["https://127.0.0.1:8443", "https://localhost:1", "https://[::1]:44300"])(
    "allows the loopback emulator %s on any port",
    (value) => {
      const settings = loadSettings({ GRAPH_BASE_URL: value, GRAPH_ALLOW_LOOPBACK: "true" });
      expect(settings.graphBaseUrl).toBe(value);
      expect(settings.graphAllowLoopback).toBe(true);
    },
  );

  it("is off by default and allows no other host", () => {
    expect(loadSettings({}).graphAllowLoopback).toBe(false);
    expect(
      problems({ GRAPH_BASE_URL: "https://graph.example.com", GRAPH_ALLOW_LOOPBACK: "true" }),
    ).toEqual([expect.stringContaining("GRAPH_BASE_URL: must be the Microsoft Graph root")]);
  });

  it("is refused in Azure, and then the loopback host is refused too", () => {
    expect(
      problems({
        GRAPH_BASE_URL: "https://127.0.0.1:8443",
        GRAPH_ALLOW_LOOPBACK: "true",
        WEBSITE_INSTANCE_ID: "i1",
        AzureWebJobsStorage__accountName: "acct",
      }),
    ).toEqual([expect.stringContaining("GRAPH_ALLOW_LOOPBACK: must not be true in Azure")]);
    expect(
      problems({
        GRAPH_ALLOW_LOOPBACK: "true",
        WEBSITE_INSTANCE_ID: "i1",
        AzureWebJobsStorage__accountName: "acct",
      }),
    ).toEqual([expect.stringContaining("GRAPH_ALLOW_LOOPBACK: must not be true in Azure")]);
  });

  it("is refused in Azure even when GRAPH_BASE_URL is bad too, both at once", () => {
    expect(
      problems({
        GRAPH_BASE_URL: "not a url",
        GRAPH_ALLOW_LOOPBACK: "true",
        WEBSITE_INSTANCE_ID: "i1",
        AzureWebJobsStorage__accountName: "acct",
      }).map((p) => p.split(":")[0]),
    ).toEqual(["GRAPH_BASE_URL", "GRAPH_ALLOW_LOOPBACK"]);
  });
});

describe("GRAPH_CA_FILE", () => {
  it("applies to an allowed loopback emulator", () => {
    const settings = loadSettings({
      GRAPH_BASE_URL: "https://127.0.0.1:8443",
      GRAPH_ALLOW_LOOPBACK: "true",
      GRAPH_CA_FILE: "/tmp/emulator-ca.pem",
    });
    expect(settings.graphCaFile).toBe("/tmp/emulator-ca.pem");
  });

  it("is refused for Microsoft Graph, which needs no extra CA", () => {
    expect(problems({ GRAPH_CA_FILE: "/tmp/proxy-ca.pem" })).toEqual([
      expect.stringContaining("GRAPH_CA_FILE: applies only to a loopback Graph emulator"),
    ]);
    expect(
      problems({
        GRAPH_BASE_URL: "https://graph.microsoft.us",
        GRAPH_ALLOW_LOOPBACK: "true",
        GRAPH_CA_FILE: "/tmp/proxy-ca.pem",
      }),
    ).toEqual([
      expect.stringContaining("GRAPH_CA_FILE: applies only to a loopback Graph emulator"),
    ]);
  });
});
