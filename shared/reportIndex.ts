/**
 * The registration report as a run needs it: a compact index of user id to bit flags, built once
 * per run from the stored report pages, so planning and the census look users up without holding
 * the report's rows in memory.
 */
import { readPages } from "./discovery.js";
import {
  REPORT_EMAIL_METHOD,
  REPORT_MOBILE_METHOD,
  REPORT_OFFICE_METHOD,
  runKeys,
  type RegistrationRow,
} from "./run/index.js";
import type { RunStore } from "./store/runStore.js";

/** The compact report index as stored: ids and bit flags. */
interface StoredReportIndex {
  ids: string[];
  flags: number[];
}

const ADMIN = 1;
const MFA_REGISTERED = 2;
const HAS_MOBILE = 4;
const ADMIN_KNOWN = 8;
const SSPR_REGISTERED = 16;
const HAS_OFFICE = 32;
const HAS_EMAIL = 64;

/** The report's method names the index keeps, with their flags. */
const METHOD_FLAGS: readonly [string, number][] = [
  [REPORT_MOBILE_METHOD, HAS_MOBILE],
  [REPORT_OFFICE_METHOD, HAS_OFFICE],
  [REPORT_EMAIL_METHOD, HAS_EMAIL],
];

/** User id to the report's flags for that user; a user without a row is absent. */
export type ReportIndex = Map<string, number>;

/**
 * Builds the report index from the stored report pages, once per run.
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param reportPages - how many report pages were stored.
 */
export async function ensureReportIndex(
  store: RunStore,
  runId: string,
  reportPages: number,
): Promise<ReportIndex> {
  const key = runKeys.reportIndex(runId);
  let index = await store.getJson<StoredReportIndex>(key);
  if (!index) {
    index = { ids: [], flags: [] };
    for await (const page of readPages<RegistrationRow>(store, runId, "report", reportPages)) {
      for (const row of page) {
        index.ids.push(row.id);
        index.flags.push(
          (row.isAdmin === true ? ADMIN : 0) |
            (row.isAdmin === true || row.isAdmin === false ? ADMIN_KNOWN : 0) |
            (row.isMfaRegistered ? MFA_REGISTERED : 0) |
            (row.isSsprRegistered === true ? SSPR_REGISTERED : 0) |
            METHOD_FLAGS.reduce(
              (flags, [name, flag]) => flags | (row.methodsRegistered.includes(name) ? flag : 0),
              0,
            ),
        );
      }
    }
    await store.putJson(key, index);
  }
  const map: ReportIndex = new Map();
  index.ids.forEach((id, i) => map.set(id, index.flags[i] ?? 0));
  return map;
}

/**
 * The report row of a user as far as the index keeps it, or undefined without a row.
 *
 * @param id - the user id.
 * @param flags - the user's flags from the index.
 */
export function reportRowOf(id: string, flags: number | undefined): RegistrationRow | undefined {
  if (flags === undefined) {
    return undefined;
  }
  return {
    id,
    isAdmin: flags & ADMIN_KNOWN ? (flags & ADMIN) !== 0 : null,
    isMfaRegistered: (flags & MFA_REGISTERED) !== 0,
    isSsprRegistered: (flags & SSPR_REGISTERED) !== 0,
    methodsRegistered: METHOD_FLAGS.filter(([, flag]) => (flags & flag) !== 0).map(([n]) => n),
  };
}

/**
 * Whether the report calls the user MFA-registered (no row: not registered).
 *
 * @param flags - the user's flags, if the report has a row.
 */
export function isMfaRegisteredIn(flags: number | undefined): boolean {
  return flags !== undefined && (flags & MFA_REGISTERED) !== 0;
}

/**
 * Whether the report lists a registered mobile phone method for the user.
 *
 * @param flags - the user's flags, if the report has a row.
 */
export function hasRegisteredMobileIn(flags: number | undefined): boolean {
  return flags !== undefined && (flags & HAS_MOBILE) !== 0;
}
