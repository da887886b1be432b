/**
 * `serve` keeps the runs API up for the operator alone: it prints a fresh token in its JSON line,
 * keeps it in `{state-dir}/host/access-token` (mode 0600) for other commands, and the API
 * refuses a caller without it, a rebound Host and a form post, while the token holder is served.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const cli = [
  path.join(root, "node_modules/tsx/dist/cli.mjs"),
  path.join(root, "local/cli/main.ts"),
];

interface ServeLine {
  baseUrl: string;
  runsApi: string;
  token: string;
  tokenFile: string;
}

/** One request with exactly these headers (the Host header included). */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path: u.pathname + u.search,
        headers,
        setHost: false,
      },
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

describe("mfa-prepopulate serve", () => {
  let child: ChildProcess;
  let stateDir: string;
  let line: ServeLine;
  let host: string;

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "mfa-serve-"));
    child = spawn(process.execPath, [...cli, "serve", "--port", "0", "--state-dir", stateDir], {
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        GRAPH_BASE_URL: "",
        GRAPH_ALLOW_LOOPBACK: "",
        GRAPH_CA_FILE: "",
        GRAPH_AUTH: "azureCli",
        RUN_STORE: "",
      },
    });
    const text = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
    });
    line = JSON.parse(text) as ServeLine;
    host = new URL(line.baseUrl).host;
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("prints its token in the JSON line and keeps it in a file only the user can read", () => {
    expect(line.runsApi).toBe(`${line.baseUrl}/api/runs`);
    expect(line.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(line.tokenFile).toBe(path.join(fs.realpathSync(stateDir), "host", "access-token"));
    expect(fs.statSync(line.tokenFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(line.tokenFile, "utf8")).toBe(line.token);
  });

  it("answers the runs API only with the token, a loopback Host and JSON bodies", async () => {
    const bearer = `Bearer ${line.token}`;
    const port = new URL(line.baseUrl).port;

    // Act
    const withoutToken = await send(line.runsApi, "GET", { Host: host });
    const rebound = await send(line.runsApi, "GET", {
      Host: `evil.example:${port}`,
      Authorization: bearer,
    });
    const formPost = await send(
      line.runsApi,
      "POST",
      { Host: host, Authorization: bearer, "Content-Type": "text/plain" },
      '{"dryRun": true}',
    );
    const holder = await send(line.runsApi, "GET", { Host: host, Authorization: bearer });

    // Assert
    expect(withoutToken.status).toBe(401);
    expect(rebound.status).toBe(421);
    expect(formPost.status).toBe(415);
    expect(holder.status).toBe(200);
    expect(JSON.parse(holder.body)).toEqual({ runs: [] });
  });
});
