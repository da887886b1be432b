/**
 * The report page in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) loads a run's report.html as the runs API serves it and as a file, and the
 * test checks what an operator relies on: the charts show the run's numbers (those of
 * report.json), the user search filters the table from the keyboard, the directory's hostile
 * values stay text, and no request leaves the page.
 *
 * The run is a prepared run store (plan, chunks, outcomes with timings, the guards' findings)
 * summarized by the real summarizeRun, so every section has something to show. One browser
 * launch serves every test.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { HttpRequest, InvocationContext } from "@azure/functions";
import type * as df from "durable-functions";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forRun, getRunReport } from "../../orchestrators/runsApi.js";
import type { ReportModel } from "../../shared/report/model.js";
import { setServices } from "../../shared/services.js";
import { FsRunStore } from "../../shared/store/index.js";
import {
  HOSTILE_UPNS,
  preparedUsers,
  summarizePrepared,
  writePreparedRun,
} from "../support/preparedRun.js";
import { testRunOutput } from "../support/runFixtures.js";

/** Debian's Chromium, which `.ci/run` installs. */
const CHROMIUM = "/usr/bin/chromium";
const RUN = "run-20261201T020000Z-ab12";
const USERS = 200;

/** A loaded page and every request and console error it made. */
interface Loaded {
  page: Page;
  url: string;
  requests: string[];
  errors: string[];
}

/** Numbers as the page prints them (`1,234`). */
const parseCount = (text: string): number => Number(text.replace(/,/g, ""));

describe("report page in Chromium", () => {
  let dir: string;
  let browser: Browser;
  let server: Server;
  let report: ReportModel;
  let htmlFile: string;
  const loaded: Loaded[] = [];

  async function load(url: string): Promise<Loaded> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const l: Loaded = { page, url, requests: [], errors: [] };
    page.on("request", (r) => l.requests.push(r.url()));
    page.on("console", (m) => {
      if (m.type() === "error") {
        l.errors.push(m.text());
      }
    });
    page.on("pageerror", (e) => l.errors.push(e.message));
    await page.goto(url, { waitUntil: "load" });
    loaded.push(l);
    return l;
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `The report's browser test needs Chromium at ${CHROMIUM}: install Debian's package with 'apt-get install -y chromium' (.ci/run does).`,
      );
    }
    dir = await mkdtemp(path.join(tmpdir(), "mfa-report-browser-"));
    const store = new FsRunStore(dir);
    const sizes = await writePreparedRun(store, {
      runId: RUN,
      users: preparedUsers(USERS),
      chunkSize: 10,
      usersPerPage: 50,
      startedAt: new Date("2026-12-01T02:01:00.000Z"),
      chunkMs: 40_000,
    });
    const summary = await summarizePrepared(store, { runId: RUN, ...sizes });
    report = (await store.getJson<ReportModel>(summary.reportKeys.json)) as ReportModel;
    htmlFile = path.join(dir, ...summary.reportKeys.html.split("/"));
    // The runs API's own answer, on loopback: the route's handler with the run completed.
    const runs = {
      getStatus: async (id: string) =>
        id === RUN
          ? {
              instanceId: RUN,
              name: "nightlyRun",
              runtimeStatus: "Completed",
              output: testRunOutput({ runId: RUN }),
            }
          : undefined,
    } as unknown as df.DurableClient;
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const id = /^\/api\/runs\/([^/]+)\/report$/.exec(url.pathname)?.[1] ?? "";
      void forRun(getRunReport)(
        new HttpRequest({ method: "GET", url: url.href, params: { id } }),
        runs,
        new InvocationContext(),
        { name: "reader", roles: [] },
      ).then((answer) => {
        res.writeHead(answer.status ?? 200, answer.headers as Record<string, string>);
        res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.jsonBody));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    });
    const port = (server.address() as AddressInfo).port;
    await load(`http://127.0.0.1:${port}/api/runs/${RUN}/report`);
    await load(pathToFileURL(htmlFile).href);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    setServices(undefined);
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const served = (): Loaded => loaded[0] as Loaded;

  it("loads from the runs API and from a file, and no request leaves the page", async () => {
    expect(loaded).toHaveLength(2);
    for (const l of loaded) {
      expect(l.requests).toEqual([l.url]);
      // A blocked load (an image in a UPN, a script) would show as a policy error here.
      expect(l.errors).toEqual([]);
      expect(await l.page.title()).toBe(`Run report ${RUN}`);
    }
  });

  it("draws the decisions and outcomes charts with report.json's numbers", async () => {
    for (const l of loaded) {
      for (const [chart, numbers] of [
        ["chart-decisions", report.decisions],
        ["chart-outcomes", report.outcomes],
      ] as const) {
        const labels = await l.page.locator(`#${chart} text.label`).allTextContents();
        const values = await l.page.locator(`#${chart} text.value`).allTextContents();
        expect(
          Object.fromEntries(labels.map((label, i) => [label, parseCount(values[i] ?? "")])),
        ).toEqual(numbers);
        // Drawn: the largest number has the widest bar, and the chart takes room on the page.
        const widths = await l.page
          .locator(`#${chart} rect`)
          .evaluateAll((rects) =>
            rects.map((r) => (r as unknown as { getBBox(): { width: number } }).getBBox().width),
          );
        const counts = values.map(parseCount);
        expect(widths.indexOf(Math.max(...widths))).toBe(counts.indexOf(Math.max(...counts)));
        expect((await l.page.locator(`#${chart}`).boundingBox())?.height).toBeGreaterThan(100);
        // The text alternative names every number too.
        const desc = await l.page.locator(`#${chart}-d`).textContent();
        expect(desc).toBe(labels.map((label, i) => `${label}: ${values[i]}`).join("; "));
      }
    }
  });

  it("draws one bar per interval of the write rate, as report.json's timeline has them", async () => {
    const page = served().page;
    expect(report.timeline.points.length).toBeGreaterThan(1);
    expect(await page.locator("#chart-timeline rect").count()).toBe(report.timeline.points.length);
    expect(
      await page.locator('section[aria-labelledby="h-timeline"] details tbody tr').count(),
    ).toBe(report.timeline.points.length);
  });

  it("keeps the directory's hostile values as text", async () => {
    const page = served().page;
    const upns = await page.locator("#users tbody th").allTextContents();
    expect(upns.slice(0, HOSTILE_UPNS.length)).toEqual(HOSTILE_UPNS);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("script").count()).toBe(1);
  });

  it("filters the users as one types in the search box, and by decision", async () => {
    const page = served().page;
    const visible = (): Promise<string[]> =>
      page.locator("#users tbody tr:not([hidden]) th").allTextContents();
    const status = page.locator("#user-count");
    expect(await visible()).toHaveLength(USERS);

    // Typed from the keyboard into the labelled search box.
    await page.getByRole("searchbox", { name: "Search" }).focus();
    await page.keyboard.type("user00007@");
    await expect.poll(() => status.textContent()).toBe(`Showing 1 of ${USERS} users listed here.`);
    expect(await visible()).toEqual(["user00007@contoso.example"]);

    // The hostile text is searchable like any other.
    await page.getByRole("searchbox", { name: "Search" }).fill("<script>");
    await expect.poll(() => visible()).toEqual([HOSTILE_UPNS[1]]);

    // By decision, the search cleared: as many rows as report.json counts.
    await page.getByRole("searchbox", { name: "Search" }).fill("");
    await page.getByRole("combobox", { name: "Decision" }).selectOption("skip:guest");
    await expect.poll(() => visible().then((v) => v.length)).toBe(report.decisions["skip:guest"]);
    await expect
      .poll(() => status.textContent())
      .toBe(`Showing ${report.decisions["skip:guest"]} of ${USERS} users listed here.`);
  });
});
