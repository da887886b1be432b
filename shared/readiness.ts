/**
 * Readiness for the end of Microsoft-provided SMS and voice (1 February 2027; 1 July 2027 for
 * Global Administrators and external users): from the registration report, who depends on SMS or
 * voice alone (they get a blocking passkey registration prompt then), who has no method at all,
 * and who already has a phishing-resistant method. The lists are the administrator's next step
 * (passkey onboarding); they hold ids, UPNs and method names, never a number.
 */
import { readPages } from "./discovery.js";
import { formatCsvCell, CSV_LINE_END } from "./store/csv.js";
import type { RegistrationRow } from "./run/index.js";
import type { RunStore } from "./store/runStore.js";

/** The report's names of the phone methods: SMS and voice reach users through them. */
const SMS_OR_VOICE: ReadonlySet<string> = new Set([
  "mobilePhone",
  "alternateMobilePhone",
  "officePhone",
]);

/**
 * Registered methods that are not a second factor of their own, so they neither count as a way
 * off SMS and voice nor as "a method" for MFA: the email method and security questions serve
 * SSPR only, a Temporary Access Pass expires.
 */
const NOT_A_FACTOR: ReadonlySet<string> = new Set([
  "email",
  "securityQuestion",
  "temporaryAccessPass",
]);

/** Phishing-resistant methods (FIDO2 keys, passkeys of every kind, Windows Hello, certificates). */
function isPhishingResistant(method: string): boolean {
  return (
    /^passKey/i.test(method) ||
    method === "fido2SecurityKey" ||
    method === "windowsHelloForBusiness" ||
    /^x509Certificate/i.test(method)
  );
}

/** The readiness groups a user can fall in (at most one). */
export const READINESS_GROUPS = ["smsOrVoiceOnly", "noMethod", "phishingResistant"] as const;

/** A readiness group. */
export type ReadinessGroup = (typeof READINESS_GROUPS)[number];

/**
 * The group of a user's registered methods, or undefined for a user with other strong methods
 * (an authenticator app, OATH) and no phishing-resistant one.
 *
 * @param methodsRegistered - the report's `methodsRegistered`.
 */
export function readinessGroupOf(methodsRegistered: readonly string[]): ReadinessGroup | undefined {
  if (methodsRegistered.length === 0) {
    return "noMethod";
  }
  if (methodsRegistered.some(isPhishingResistant)) {
    return "phishingResistant";
  }
  const factors = methodsRegistered.filter((m) => !NOT_A_FACTOR.has(m));
  if (factors.length > 0 && factors.every((m) => SMS_OR_VOICE.has(m))) {
    return "smsOrVoiceOnly";
  }
  return undefined;
}

/** A listed user: ids and the report's method names, never a number. */
export interface ReadinessUser {
  userId: string;
  userPrincipalName: string;
  methods: string[];
}

/** Users listed by name per group at most (report.json and the page); readiness.csv has all. */
export const MAX_LISTED_READINESS = 1_000;

/** What the readiness count of a run found (stored as `readiness.json`). */
export interface Readiness {
  /** Users the registration report counted (enabled users: the report omits disabled ones). */
  counted: number;
  smsOrVoiceOnly: number;
  noMethod: number;
  phishingResistant: number;
  /** The first {@link MAX_LISTED_READINESS} users of each group. */
  users: Record<ReadinessGroup, ReadinessUser[]>;
}

/** Columns of readiness.csv. */
const CSV_HEADER = ["userPrincipalName", "userId", "group", "methodsRegistered"];

/**
 * Counts the run's stored report pages into readiness groups, and writes readiness.csv (every
 * user of a group) beside them.
 *
 * @param store - the run store.
 * @param args - the run, its stored report pages, and the CSV's key.
 */
export async function countReadiness(
  store: RunStore,
  args: { runId: string; reportPages: number; csvKey: string },
): Promise<Readiness> {
  const readiness: Readiness = {
    counted: 0,
    smsOrVoiceOnly: 0,
    noMethod: 0,
    phishingResistant: 0,
    users: { smsOrVoiceOnly: [], noMethod: [], phishingResistant: [] },
  };
  async function* lines(): AsyncGenerator<string> {
    yield CSV_HEADER.join(",") + CSV_LINE_END;
    for await (const page of readPages<RegistrationRow>(
      store,
      args.runId,
      "report",
      args.reportPages,
    )) {
      let text = "";
      for (const row of page) {
        readiness.counted++;
        const group = readinessGroupOf(row.methodsRegistered);
        if (!group) {
          continue;
        }
        readiness[group]++;
        const upn = row.userPrincipalName ?? "";
        if (readiness.users[group].length < MAX_LISTED_READINESS) {
          readiness.users[group].push({
            userId: row.id,
            userPrincipalName: upn,
            methods: row.methodsRegistered,
          });
        }
        text +=
          [upn, row.id, group, row.methodsRegistered.join(" ")]
            .map((c) => formatCsvCell(c))
            .join(",") + CSV_LINE_END;
      }
      yield text;
    }
  }
  await store.putStream(args.csvKey, lines(), "text/csv; charset=utf-8");
  return readiness;
}
