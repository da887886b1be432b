/**
 * A host started with `access` answers only requests that carry its token, name a loopback Host
 * and send JSON bodies, on the app's `/api` routes and on the Durable client API alike: what a
 * web page in the user's browser (cross-site request forgery, DNS rebinding) cannot do. The
 * app's own Durable client, inside the host, still gets through.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACCESS_TOKEN_FILE,
  newAccessToken,
  startLocalHost,
  type LocalHost,
} from "../../../local/host/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const appModule = path.join(here, "fixtures", "app.ts");

interface Answer {
  status: number;
  body: string;
}

/**
 * Sends one request with exactly the headers given (a browser or an attacker chooses them; the
 * Host header too, which `fetch` would not let a test set).
 */
function send(
  baseUrl: string,
  method: string,
  pathname: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path: pathname, headers, setHost: false },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("local host with access rules", () => {
  let host: LocalHost;
  let stateDir: string;
  let hostHeader: string;
  const token = newAccessToken();

  /** The headers a legitimate caller sends. */
  const allowed = (extra: Record<string, string> = {}): Record<string, string> => ({
    Host: hostHeader,
    Authorization: `Bearer ${token}`,
    ...extra,
  });

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-access-"));
    host = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "virtual",
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      access: { token, loopbackOnly: true, jsonBodies: true },
    });
    hostHeader = new URL(host.baseUrl).host;
  });

  afterAll(async () => {
    await host.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  describe("refuses, and starts nothing", () => {
    it.each([
      ["/api/orchestrators/WaitsForGo/no-token-api", "app route"],
      ["/durabletask/orchestrators/WaitsForGo/no-token-rpc", "Durable RPC API"],
      ["/runtime/webhooks/durabletask/orchestrators/WaitsForGo/no-token-hook", "webhook API"],
    ])("a request without the token to %s (%s): 401", async (route) => {
      // Act
      const answer = await send(
        host.baseUrl,
        "POST",
        route,
        { Host: hostHeader, "Content-Type": "application/json" },
        "{}",
      );

      // Assert
      expect(answer.status).toBe(401);
      expect(answer.body).toContain("Authorization: Bearer <token>");
      expect(await host.getStatus(route.split("/").at(-1)!)).toBeUndefined();
    });

    it("a wrong token, and the token under another scheme: 401", async () => {
      for (const authorization of [
        `Bearer ${newAccessToken()}`,
        `Token ${token}`,
        `Bearer`,
        `Basic ${Buffer.from(`host:${newAccessToken()}`).toString("base64")}`,
      ]) {
        const answer = await send(host.baseUrl, "GET", "/durabletask/instances/", {
          Host: hostHeader,
          Authorization: authorization,
        });
        expect(answer.status, authorization.split(" ")[0]).toBe(401);
      }
    });

    it("a foreign Host header, as after DNS rebinding, even with the token: 421", async () => {
      const port = new URL(host.baseUrl).port;
      for (const foreign of [
        `evil.example:${port}`,
        "127.0.0.1:1",
        `localhost.evil.example:${port}`,
      ]) {
        // Act
        const answer = await send(
          host.baseUrl,
          "POST",
          "/durabletask/orchestrators/WaitsForGo/rebound",
          { ...allowed({ "Content-Type": "application/json" }), Host: foreign },
          "{}",
        );

        // Assert
        expect(answer.status, foreign).toBe(421);
      }
      expect(await host.getStatus("rebound")).toBeUndefined();
    });

    it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])(
      "a POST of %s, as a form or a no-cors fetch sends, even with the token: 415",
      async (type) => {
        // Act
        const answer = await send(
          host.baseUrl,
          "POST",
          "/api/orchestrators/WaitsForGo/form-post",
          allowed({ "Content-Type": type }),
          '{"any":"input"}',
        );

        // Assert
        expect(answer.status).toBe(415);
        expect(await host.getStatus("form-post")).toBeUndefined();
      },
    );

    it("a body without a content type: 415", async () => {
      const answer = await send(
        host.baseUrl,
        "POST",
        "/durabletask/orchestrators/WaitsForGo/untyped",
        allowed(),
        "{}",
      );
      expect(answer.status).toBe(415);
      expect(await host.getStatus("untyped")).toBeUndefined();
    });
  });

  describe("answers the token holder", () => {
    it("on an app route, through the app's own Durable client: 2xx", async () => {
      // Act
      const answer = await send(
        host.baseUrl,
        "POST",
        "/api/orchestrators/HelloSequence",
        allowed({ "Content-Type": "application/json; charset=utf-8" }),
        "",
      );

      // Assert
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual([
        "Hello, Tokyo!",
        "Hello, Seattle!",
        "Hello, London!",
      ]);
    });

    it("on the Durable API with JSON, and without a body, under any loopback name: 2xx", async () => {
      // Act
      const started = await send(
        host.baseUrl,
        "POST",
        "/durabletask/orchestrators/WaitsForGo/holder-1",
        allowed({ "Content-Type": "application/json" }),
        '{"from":"holder"}',
      );
      const port = new URL(host.baseUrl).port;
      const raised = await send(
        host.baseUrl,
        "POST",
        "/runtime/webhooks/durabletask/instances/holder-1/raiseEvent/Go",
        { ...allowed({ "Content-Type": "application/json" }), Host: `localhost:${port}` },
        '"go"',
      );
      const done = await host.waitForCompletion("holder-1");
      await host.startNew("WaitsForGo", { instanceId: "holder-2" });
      const terminated = await send(
        host.baseUrl,
        "POST",
        "/durabletask/instances/holder-2/terminate?reason=bye",
        allowed(),
      );

      // Assert
      expect(started.status).toBe(202);
      expect(started.body).not.toContain(token);
      expect(raised.status).toBe(202);
      expect(done.output).toEqual({ got: "go" });
      expect(terminated.status).toBe(202);
      expect((await host.waitForCompletion("holder-2")).runtimeStatus).toBe("Terminated");
    });

    it("and a timer function's Durable client gets through too", async () => {
      // Act
      await host.fireTimer("NightlyStarter");

      // Assert
      expect((await host.getStatus("nightly"))?.runtimeStatus).toBe("Running");
    });
  });

  it("keeps the token for other processes in a file only the user can read, and removes it on stop", async () => {
    // Arrange
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-token-"));
    const other = newAccessToken();
    const second = await startLocalHost({
      stateDir: dir,
      modules: [],
      access: { token: other },
    });
    const file = path.join(dir, ACCESS_TOKEN_FILE);

    try {
      // Act
      const mode = fs.statSync(file).mode & 0o777;
      const content = fs.readFileSync(file, "utf8");
      await second.stop();

      // Assert
      expect(second.accessTokenFile).toBe(file);
      expect(mode).toBe(0o600);
      expect(content).toBe(other);
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
