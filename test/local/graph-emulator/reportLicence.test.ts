/**
 * The intermittent licence 403 of the registration report on a premium tenant: one page refused
 * once, or pages refused at a rate, and the same request retried succeeds.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../../local/graph-emulator/config.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, bigTenant, expectEnvelope, type Answer } from "./helpers.js";

const REPORT = "/v1.0/reports/authenticationMethods/userRegistrationDetails";
const LICENCE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

let emu: EmulatorHandle | undefined;
let client: GraphTestClient;
let tenant: TenantFixture;

async function start(config: Partial<EmulatorConfig>): Promise<void> {
  tenant = bigTenant(30);
  // A generous reports quota so that only the licence answers 403s here.
  emu = await startEmulator({ tenant, config: { reportsQuota: 1000, ...config } });
  client = new GraphTestClient(emu);
}

afterEach(async () => {
  await client?.close();
  await emu?.close();
  emu = undefined;
});

/** The path and query of a nextLink, for the test client. */
const relative = (link: string) => link.slice((emu?.graphBaseUrl ?? "").length);
const enabledIds = () => tenant.users.filter((u) => u.accountEnabled !== false).map((u) => u.id);

/** Pages through the report, retrying a refused page once; returns the answers in order. */
async function pageThrough(firstUrl: string): Promise<{ answers: Answer[]; ids: string[] }> {
  const answers: Answer[] = [];
  const ids: string[] = [];
  let url: string | undefined = firstUrl;
  while (url) {
    let a = await client.call("GET", url);
    answers.push(a);
    if (a.status === 403) {
      a = await client.call("GET", url);
      answers.push(a);
    }
    expect(a.status).toBe(200);
    ids.push(...a.body.value.map((r: { id: string }) => r.id));
    const next: string | undefined = a.body["@odata.nextLink"];
    url = next === undefined ? undefined : relative(next);
  }
  return { answers, ids };
}

describe("the registration report's intermittent licence 403", () => {
  it("refuses the configured page once on a premium tenant; its retry succeeds and paging completes", async () => {
    await start({ reportLicence403OnRequest: 2 });
    const { answers, ids } = await pageThrough(`${REPORT}?$top=10`);
    expect(answers.map((a) => a.status)).toEqual([200, 403, 200, 200]);
    expectEnvelope(answers[1] as Answer, 403, LICENCE);
    expect(ids).toEqual(enabledIds());
  });

  it("counts from the config change that sets it, through the admin API", async () => {
    await start({});
    expect((await client.call("GET", `${REPORT}?$top=5`)).status).toBe(200);
    await client.admin("POST", "/config", { reportLicence403OnRequest: 1 });
    expectEnvelope(await client.call("GET", `${REPORT}?$top=5`), 403, LICENCE);
    expect((await client.call("GET", `${REPORT}?$top=5`)).status).toBe(200);
    // Once only: later pages pass.
    for (let i = 0; i < 3; i++) {
      expect((await client.call("GET", `${REPORT}?$top=5`)).status).toBe(200);
    }
  });

  it("refuses pages at a rate but never the retry of a refused page", async () => {
    await start({ reportLicence403Rate: 1 });
    const { answers, ids } = await pageThrough(`${REPORT}?$top=10`);
    expect(answers.map((a) => a.status)).toEqual([403, 200, 403, 200, 403, 200]);
    expect(ids).toEqual(enabledIds());
  });

  it("leaves single report rows alone", async () => {
    await start({ reportLicence403OnRequest: 1 });
    expect((await client.call("GET", `${REPORT}/user-0`)).status).toBe(200);
    expectEnvelope(await client.call("GET", REPORT), 403, LICENCE);
  });

  it("counts report pages inside a batch too", async () => {
    await start({ reportLicence403OnRequest: 1 });
    const r = await client.call("POST", "/v1.0/$batch", {
      body: {
        requests: [
          { id: "1", method: "GET", url: "/reports/authenticationMethods/userRegistrationDetails" },
        ],
      },
    });
    expect(r.body.responses[0].status).toBe(403);
    expect(r.body.responses[0].body.error.code).toBe(LICENCE);
  });

  it("is off by default", async () => {
    await start({});
    expect(emu?.config.reportLicence403OnRequest).toBe(0);
    expect(emu?.config.reportLicence403Rate).toBe(0);
    const { answers } = await pageThrough(`${REPORT}?$top=5`);
    expect(answers.every((a) => a.status === 200)).toBe(true);
  });

  it("refuses a page number that is not a whole number and a rate outside 0..1", async () => {
    await start({});
    expect((await client.admin("POST", "/config", { reportLicence403OnRequest: 1.5 })).status).toBe(
      400,
    );
    expect((await client.admin("POST", "/config", { reportLicence403Rate: 2 })).status).toBe(400);
  });
});
