/**
 * Throughput benchmark of the Graph emulator with latency and quotas off.
 *
 *   node --import tsx bench/emulator.ts [--users 1000000] [--batches 250] [--concurrency 8] [--pages 100]
 *
 * Client and emulator share this process (and so one core for JavaScript), which makes the
 * figures a lower bound for the emulator alone. Prints a table to stderr and one JSON line to stdout.
 */
import { Agent, fetch } from "undici";
import { startEmulator } from "../local/graph-emulator/index.js";
import type { FixtureUser, TenantFixture } from "../local/graph-emulator/tenant/types.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`bench/emulator: --${name} must be a non-negative number.`);
  }
  return v;
}

/** A plain synthetic tenant: half the users have a directory mobile, 5% a phone method already. */
function syntheticTenant(n: number): TenantFixture {
  const users: FixtureUser[] = new Array<FixtureUser>(n);
  for (let i = 0; i < n; i++) {
    const digits = String(10_000_000 + i);
    const u: FixtureUser = {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      userPrincipalName: `user${i}@bench.example`,
      displayName: `User ${i}`,
      mobilePhone: i % 2 === 0 ? `+45 ${digits}` : null,
      accountEnabled: i % 10 !== 9,
      userType: i % 20 === 0 ? "Guest" : "Member",
    };
    if (i % 20 === 1) {
      u.phoneMethods = [{ phoneType: "mobile", phoneNumber: `+1 2${digits}` }];
    }
    users[i] = u;
  }
  return {
    tenant: { id: "bench-tenant", domain: "bench.example" },
    groups: [
      {
        id: "g-all",
        displayName: "All",
        members: users.slice(0, Math.min(n, 100_000)).map((u) => u.id),
      },
    ],
    users,
  };
}

const nUsers = arg("users", 1_000_000);
const nBatches = arg("batches", 250);
const concurrency = Math.max(1, arg("concurrency", 8));
const nPages = arg("pages", 100);

const t0 = performance.now();
const tenant = syntheticTenant(nUsers);
const tGen = performance.now();
const cpuS0 = process.cpuUsage();
const emu = await startEmulator({
  tenant,
  config: { resourceUnitQuota: 1e12, writeQuota: 1e12, reportsQuota: 1e12 },
});
const cpuS = process.cpuUsage(cpuS0);
const tStart = performance.now();
const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
const agent = new Agent({ connect: { ca: emu.caCertPem }, connections: concurrency * 2 });
const token = emu.issueToken();
const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

async function get(
  path: string,
  extra: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(path.startsWith("https://") ? path : `${emu.graphBaseUrl}${path}`, {
    headers: { ...headers, ...extra },
    dispatcher: agent,
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) {
    throw new Error(`bench/emulator: GET '${path}' answered ${res.status}.`);
  }
  return body;
}

// Paging users with the product's select at 999 per page.
let path: string | undefined =
  "/v1.0/users?$select=id,userPrincipalName,mobilePhone,accountEnabled,userType&$top=999";
let pagedUsers = 0;
const tPage0 = performance.now();
const cpuP0 = process.cpuUsage();
for (let p = 0; p < nPages && path; p++) {
  const body = await get(path);
  pagedUsers += (body.value as unknown[]).length;
  path = body["@odata.nextLink"] as string | undefined;
}
const cpuP = process.cpuUsage(cpuP0);
const tPage1 = performance.now();

// One advanced query with $count: a full scan of the tenant.
const tCount0 = performance.now();
const counted = await get(
  "/v1.0/users?$filter=accountEnabled%20eq%20true%20and%20mobilePhone%20ne%20null&$count=true&$select=id&$top=999",
  { consistencylevel: "eventual" },
);
const tCount1 = performance.now();

// Report pages.
let reportRows = 0;
let rpath: string | undefined =
  "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999&$filter=isMfaRegistered%20eq%20false";
const tRep0 = performance.now();
for (let p = 0; p < Math.min(nPages, 20) && rpath; p++) {
  const body = await get(rpath);
  reportRows += (body.value as unknown[]).length;
  rpath = body["@odata.nextLink"] as string | undefined;
}
const tRep1 = performance.now();

// A sparse report filter: one page means a scan of the whole tenant.
const tSparse0 = performance.now();
await get(
  "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999&$filter=isAdmin%20eq%20true",
);
const tSparse1 = performance.now();

// Batches of 20 phone-method creates on distinct users, `concurrency` batches in flight.
let nextUser = 0;
let items = 0;
let itemErrors = 0;
async function worker(): Promise<void> {
  for (;;) {
    const b = nextUser / 20;
    if (b >= nBatches || nextUser + 20 > nUsers) {
      return;
    }
    const first = nextUser;
    nextUser += 20;
    const requests = Array.from({ length: 20 }, (_, k) => ({
      id: String(k + 1),
      method: "POST",
      url: `/users/${tenant.users[first + k]?.id ?? ""}/authentication/phoneMethods`,
      headers: { "Content-Type": "application/json" },
      body: { phoneNumber: `+45 ${String(30_000_000 + first + k)}`, phoneType: "office" },
    }));
    const res = await fetch(`${emu.graphBaseUrl}/v1.0/$batch`, {
      method: "POST",
      headers,
      body: JSON.stringify({ requests }),
      dispatcher: agent,
    });
    const body = (await res.json()) as { responses: { status: number }[] };
    items += body.responses.length;
    itemErrors += body.responses.filter((r) => r.status >= 300).length;
  }
}
const tB0 = performance.now();
const cpuB0 = process.cpuUsage();
await Promise.all(Array.from({ length: concurrency }, () => worker()));
const cpuB = process.cpuUsage(cpuB0);
const tB1 = performance.now();

const m = emu.metrics();
await agent.close();
await emu.close();

const result = {
  users: nUsers,
  generateMs: Math.round(tGen - t0),
  startMs: Math.round(tStart - tGen),
  startCpuMs: Math.round((cpuS.user + cpuS.system) / 1000),
  heapMb: Math.round(heapMb),
  pagedUsers,
  usersPagedPerSec: Math.round(pagedUsers / ((tPage1 - tPage0) / 1000)),
  countQueryMs: Math.round(tCount1 - tCount0),
  count: counted["@odata.count"],
  reportRows,
  reportRowsPerSec: Math.round(reportRows / ((tRep1 - tRep0) / 1000)),
  sparseReportPageMs: Math.round(tSparse1 - tSparse0),
  batchItems: items,
  batchItemErrors: itemErrors,
  batchItemsPerSec: Math.round(items / ((tB1 - tB0) / 1000)),
  // Per CPU-second of this process (emulator and client together): robust on a shared machine.
  batchItemsPerCpuSec: Math.round(items / ((cpuB.user + cpuB.system) / 1e6)),
  usersPagedPerCpuSec: Math.round(pagedUsers / ((cpuP.user + cpuP.system) / 1e6)),
  concurrency,
  graphRequests: m.requests,
  writes: m.writes,
};

const rows: [string, string][] = [
  ["users in tenant", String(result.users)],
  ["tenant generation", `${result.generateMs} ms`],
  ["emulator start (store + TLS)", `${result.startMs} ms wall, ${result.startCpuMs} ms CPU`],
  ["heap after start", `${result.heapMb} MB`],
  [
    "users paged (999/page)",
    `${result.pagedUsers} at ${result.usersPagedPerSec}/s wall, ${result.usersPagedPerCpuSec}/CPU-s`,
  ],
  [
    "advanced $count query (full scan)",
    `${result.countQueryMs} ms (count ${String(result.count)})`,
  ],
  ["report rows paged", `${result.reportRows} at ${result.reportRowsPerSec}/s`],
  ["sparse report page (full scan)", `${result.sparseReportPageMs} ms`],
  [
    "$batch items (20/batch)",
    `${result.batchItems} at ${result.batchItemsPerSec}/s wall, ${result.batchItemsPerCpuSec}/CPU-s, ${result.batchItemErrors} non-2xx`,
  ],
];
const width = Math.max(...rows.map((r) => r[0].length));
process.stderr.write(`Graph emulator benchmark (latency and quotas off, client in-process)\n`);
for (const [k, v] of rows) {
  process.stderr.write(`  ${k.padEnd(width)}  ${v}\n`);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
