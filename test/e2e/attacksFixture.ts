/**
 * The attacks fixture (`test/fixtures/attacks.tenant.json`, documented in the fixtures README)
 * and what the attack tests do to a tenant between runs: through the emulator's admin API, over
 * HTTP, as an administrator (or an attacker holding an administrator's rights) would through the
 * directory.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { validateTenant } from "../../local/graph-emulator/tenant/fixture.js";
import type { FixtureUser, TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import type { ReportModel } from "../../shared/report/model.js";
import type { RunOutput } from "../../shared/run/index.js";
import { expectedDecision } from "./world.js";

/** The attacks fixture, validated. */
export async function attacksTenant(): Promise<TenantFixture> {
  const text = await readFile(new URL("../fixtures/attacks.tenant.json", import.meta.url), "utf8");
  return validateTenant(JSON.parse(text));
}

/** The id of attacks-fixture user number n. */
export const attackUserId = (n: number): string =>
  `20000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

/** Attacks-fixture user number n. */
export function attackUser(tenant: TenantFixture, n: number): FixtureUser {
  const user = tenant.users.find((u) => u.id === attackUserId(n));
  if (!user) {
    throw new Error(`no user ${n} in the attacks fixture`);
  }
  return user;
}

/** The fixture's users whose expected decision (the `displayName` prefix) is `decision`. */
export function usersDeciding(tenant: TenantFixture, decision: string): FixtureUser[] {
  return tenant.users.filter((u) => expectedDecision(u) === decision);
}

/** A group of a fixture by display name. */
export function groupId(tenant: TenantFixture, displayName: string): string {
  const group = (tenant.groups ?? []).find((g) => g.displayName === displayName);
  if (!group) {
    throw new Error(`no group '${displayName}' in the fixture`);
  }
  return group.id;
}

async function admin(adminUrl: string, method: string, path: string, body?: unknown) {
  const answer = await fetch(`${adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!answer.ok) {
    throw new Error(`admin ${method} ${path}: HTTP ${answer.status} ${await answer.text()}`);
  }
}

/**
 * Changes a user's `mobilePhone` as `by` (a UPN) through the directory: the emulator records an
 * "Update user" audit event naming `by`, at the wall clock's time.
 */
export function changeMobilePhone(
  adminUrl: string,
  userId: string,
  mobilePhone: string,
  by: string,
): Promise<void> {
  return admin(adminUrl, "PATCH", `/users/${encodeURIComponent(userId)}`, { mobilePhone, by });
}

/** Adds a user to a group through the directory. */
export function addMember(adminUrl: string, group: string, userId: string): Promise<void> {
  return admin(adminUrl, "POST", `/groups/${encodeURIComponent(group)}/members`, { id: userId });
}

/** A run's report.json (the report page's model, without the inline user rows). */
export async function readReport(
  runsDir: string,
  reportKeys: RunOutput["reportKeys"],
): Promise<ReportModel> {
  return JSON.parse(await readFile(join(runsDir, reportKeys.json), "utf8")) as ReportModel;
}

/** One line of a run's report.csv. */
export interface ReportLine {
  userPrincipalName: string;
  userId: string;
  decision: string;
  outcome: string;
  code: string;
  detail: string;
  phoneNumber: string;
}

/**
 * A run's report.csv by user id. The fixture's values hold no comma or quote, so a plain split
 * reads it; a detail with a comma is quoted and kept whole.
 */
export async function readReportLines(
  runsDir: string,
  reportKeys: RunOutput["reportKeys"],
): Promise<Map<string, ReportLine>> {
  const csv = await readFile(join(runsDir, reportKeys.csv), "utf8");
  const lines = new Map<string, ReportLine>();
  for (const line of csv.trim().split("\r\n").slice(1)) {
    const cells = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)]
      .map((m) => m[1] ?? "")
      .map((c) => (c.startsWith('"') ? c.slice(1, -1).replace(/""/g, '"') : c));
    const [userPrincipalName, userId, decision, outcome, code, detail, phoneNumber] = cells;
    lines.set(userId ?? "", {
      userPrincipalName: userPrincipalName ?? "",
      userId: userId ?? "",
      decision: decision ?? "",
      outcome: outcome ?? "",
      code: code ?? "",
      detail: detail ?? "",
      phoneNumber: phoneNumber ?? "",
    });
  }
  return lines;
}
