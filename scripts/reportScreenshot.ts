/**
 * Makes docs/report.png, the README's picture of the report page: runs a 2,000-user demo in a
 * temporary state directory and photographs the top of its report.html (from the title to the
 * guards) in headless Chromium. Rerun after changing the page:
 *
 *   npm run docs:screenshot                       # a 2,000-user demo (a few minutes)
 *   npm run docs:screenshot -- --report FILE      # an existing report.html instead
 *
 * Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = "/usr/bin/chromium";
const OUT = path.join(repo, "docs", "report.png");
const DEMO_USERS = "2000";

/** Runs the demo and returns its report page. */
async function demoReport(stateDir: string): Promise<string> {
  process.stderr.write(`Running a ${DEMO_USERS}-user demo in ${stateDir}...\n`);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      "local/cli/main.ts",
      "demo",
      "--users",
      DEMO_USERS,
      "--state-dir",
      stateDir,
      "--json",
    ],
    { cwd: repo, maxBuffer: 64 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { runId?: string };
  const file = path.join(stateDir, "runs", result.runId ?? "?", "report.html");
  if (!existsSync(file)) {
    throw new Error(`The demo wrote no report page at '${file}'.`);
  }
  return file;
}

/** Photographs the page from its top to the guards section. */
async function photograph(file: string): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(pathToFileURL(file).href);
    const guards = await page.locator("#h-guards").boundingBox();
    await mkdir(path.dirname(OUT), { recursive: true });
    await page.screenshot({
      path: OUT,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1000, height: Math.ceil(guards?.y ?? 2400) - 16 },
    });
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's package with 'apt-get install -y chromium'.`,
    );
  }
  const given = process.argv.indexOf("--report");
  if (given >= 0) {
    await photograph(path.resolve(process.argv[given + 1] ?? ""));
  } else {
    const stateDir = await mkdtemp(path.join(tmpdir(), "mfa-docs-demo-"));
    try {
      await photograph(await demoReport(stateDir));
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }
  process.stderr.write(`Wrote ${path.relative(repo, OUT)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `docs:screenshot: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
