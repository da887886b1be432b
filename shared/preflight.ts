/**
 * The pre-flight of the tenant's authentication methods policy, before any write and in every
 * dry run: for each method the run would register, whether the policy enables what it depends on
 * (the mobile phone: SMS or voice; the office phone: voice with office phones allowed; the email
 * method: email) for the users the plan would write, inside its include targets and outside its
 * exclude targets (groups read with plain, not eventually consistent, reads). A method no planned
 * user could use stops the run; partial coverage is reported with counts.
 */
import type { GraphAccess } from "./graph/client.js";
import { MAX_PAGE_SIZE } from "./discovery.js";
import { query } from "./graph/paths.js";
import { methodOf, runKeys, type ChunkItem } from "./run/index.js";
import type { Method } from "./settings/index.js";
import type { RunStore } from "./store/runStore.js";

/**
 * When Microsoft-provided SMS and voice end in public-cloud tenants (concept-sms-voice-retirement;
 * 1 July 2027 for Global Administrators and external users). The run's own start decides which
 * side of it a run is on, never the clock of the machine that built the code.
 */
export const SMS_VOICE_RETIREMENT = "2027-02-01T00:00:00.000Z";

/** The same date for Global Administrators and external (B2B) users. */
export const SMS_VOICE_RETIREMENT_ADMINS_AND_GUESTS = "2027-07-01T00:00:00.000Z";

/** Where an administrator changes the policy, named in every message. */
export const POLICY_PLACE =
  "the authentication methods policy (Entra admin center > Protection > Authentication methods > Policies)";

/** The policy's method configurations each method depends on (any one of them suffices). */
export const METHOD_CONFIGURATIONS: Record<Method, readonly ("Sms" | "Voice" | "Email")[]> = {
  mobile: ["Sms", "Voice"],
  office: ["Voice"],
  email: ["Email"],
};

/** What people call each configuration, in messages. */
const CONFIGURATION_NAMES = { Sms: "SMS", Voice: "Voice call", Email: "Email OTP" } as const;

/** A method configuration as Graph returns it (the fields used here). */
export interface MethodConfiguration {
  id: string;
  state?: string;
  includeTargets?: { id?: string; targetType?: string }[];
  excludeTargets?: { id?: string; targetType?: string }[];
  /** Voice only: whether users may register office phones. */
  isOfficePhoneAllowed?: boolean;
}

/** What the pre-flight found for one method. */
export interface MethodPreflight {
  method: Method;
  /** The configurations it depends on, with their state (and for the office phone, whether allowed). */
  configurations: { id: string; state: string; officePhonesAllowed?: boolean }[];
  /** Writes the plan holds for this method. */
  planned: number;
  /** Of them, users the policy lets use the method. */
  covered: number;
  /** Of them, users the policy leaves out (not included, or excluded). */
  notCovered: number;
}

/** What the pre-flight found, as `preflight.json` keeps it. */
export interface Preflight {
  methods: MethodPreflight[];
  /** Sentences for the administrator (the SMS and voice retirement), in the report and the log. */
  notes: string[];
  /** Set when the run must not write: one sentence naming the policy and the setting to change. */
  stop?: string;
}

/**
 * Reads the policy's configurations the methods depend on.
 *
 * @param graph - the Graph access layer.
 * @param methods - the run's methods.
 */
export async function readMethodConfigurations(
  graph: Pick<GraphAccess, "get">,
  methods: readonly Method[],
): Promise<Map<string, MethodConfiguration>> {
  const ids = [...new Set(methods.flatMap((m) => METHOD_CONFIGURATIONS[m]))];
  const found = new Map<string, MethodConfiguration>();
  for (const id of ids) {
    found.set(
      id,
      await graph.get<MethodConfiguration>(
        `/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/${id}`,
      ),
    );
  }
  return found;
}

/** The groups a configuration targets (`all_users` is not a group). */
function targetGroups(c: MethodConfiguration): string[] {
  return [...(c.includeTargets ?? []), ...(c.excludeTargets ?? [])]
    .map((t) => t.id ?? "")
    .filter((id) => id !== "" && id !== "all_users");
}

/**
 * The members of a group among the given users, by plain reads (not the lagging index): the
 * members are streamed, only those the plan would write are kept.
 */
async function membersAmong(
  graph: Pick<GraphAccess, "pages">,
  groupId: string,
  users: ReadonlySet<string>,
): Promise<Set<string>> {
  const members = new Set<string>();
  const path = `/groups/${encodeURIComponent(groupId)}/transitiveMembers${query({ $select: "id", $top: MAX_PAGE_SIZE })}`;
  for await (const page of graph.pages<{ id?: string }>(path)) {
    for (const m of page.value) {
      if (m.id && users.has(m.id)) {
        members.add(m.id);
      }
    }
  }
  return members;
}

/** Whether a configuration lets a user use the method. */
function lets(
  c: MethodConfiguration | undefined,
  userId: string,
  members: Map<string, Set<string>>,
  office: boolean,
): boolean {
  if (!c || c.state !== "enabled" || (office && c.isOfficePhoneAllowed !== true)) {
    return false;
  }
  const inGroup = (id: string | undefined): boolean =>
    id === "all_users" || (id !== undefined && members.get(id)?.has(userId) === true);
  return (
    (c.includeTargets ?? []).some((t) => inGroup(t.id)) &&
    !(c.excludeTargets ?? []).some((t) => t.id !== "all_users" && inGroup(t.id))
  );
}

/**
 * The users each method's planned writes are for, from the chunk files.
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param chunks - how many chunks the plan wrote.
 */
export async function plannedUsers(
  store: RunStore,
  runId: string,
  chunks: number,
): Promise<Map<Method, Set<string>>> {
  const planned = new Map<Method, Set<string>>();
  for (let chunkNo = 0; chunkNo < chunks; chunkNo++) {
    for (const item of (await store.getJson<ChunkItem[]>(runKeys.chunk(runId, chunkNo))) ?? []) {
      const method = methodOf(item);
      let users = planned.get(method);
      if (!users) {
        users = new Set();
        planned.set(method, users);
      }
      users.add(item.userId);
    }
  }
  return planned;
}

/** The stop sentence of a method no planned user (or nobody at all) may use. */
function stopSentence(p: MethodPreflight): string {
  const needs = METHOD_CONFIGURATIONS[p.method].map((id) => CONFIGURATION_NAMES[id]).join(" or ");
  const states = p.configurations
    .map((c) => {
      const name = CONFIGURATION_NAMES[c.id as keyof typeof CONFIGURATION_NAMES] ?? c.id;
      const state =
        c.state !== "enabled"
          ? c.state
          : c.officePhonesAllowed === false
            ? "enabled without office phones"
            : "enabled, but not for them";
      return `${name}: ${state}`;
    })
    .join("; ");
  const whom =
    p.planned > 0
      ? `none of the ${p.planned} users this run would give the ${p.method} method use it`
      : `no one use the ${p.method} method`;
  return `Nothing was written: ${POLICY_PLACE} lets ${whom} (${states}); enable ${needs}${p.method === "office" ? " with office phones allowed" : ""} for them there, or take '${p.method}' out of METHODS.`;
}

/** The notes on SMS and voice the run's date calls for, if it registers a phone. */
function retirementNotes(methods: readonly Method[], runStartedAt: string): string[] {
  const phones = methods.filter((m) => m !== "email");
  if (phones.length === 0 || Date.parse(runStartedAt) < Date.parse(SMS_VOICE_RETIREMENT)) {
    return [];
  }
  return [
    `Microsoft-provided SMS and voice ended on 1 February 2027 (1 July 2027 for Global Administrators and external users): the ${phones.join(" and ")} phone methods this run registers reach users only through a customer-managed telephony provider. Microsoft Graph does not say whether this tenant has one, so check in the Entra admin center that a provider is configured for SMS and voice; without one these methods help no one, and users whose only methods are SMS or voice face a blocking passkey registration (see the readiness lists).`,
  ];
}

/**
 * Checks the policy for the run's planned writes.
 *
 * @param graph - the Graph access layer.
 * @param store - the run store.
 * @param args - the run, its methods, the chunks its plan wrote, and its start (orchestration
 *   time, which decides the retirement notes).
 */
export async function checkMethodsPolicy(
  graph: Pick<GraphAccess, "get" | "pages">,
  store: RunStore,
  args: { runId: string; methods: readonly Method[]; chunks: number; startedAt: string },
): Promise<Preflight> {
  const configurations = await readMethodConfigurations(graph, args.methods);
  const planned = await plannedUsers(store, args.runId, args.chunks);
  const everyone = new Set([...planned.values()].flatMap((users) => [...users]));
  const members = new Map<string, Set<string>>();
  for (const groupId of new Set([...configurations.values()].flatMap(targetGroups))) {
    members.set(groupId, await membersAmong(graph, groupId, everyone));
  }
  const preflight: Preflight = {
    methods: [],
    notes: retirementNotes(args.methods, args.startedAt),
  };
  for (const method of args.methods) {
    const office = method === "office";
    const used = METHOD_CONFIGURATIONS[method].map((id) => configurations.get(id));
    const users = planned.get(method) ?? new Set<string>();
    let covered = 0;
    for (const userId of users) {
      covered += used.some((c) => lets(c, userId, members, office)) ? 1 : 0;
    }
    const p: MethodPreflight = {
      method,
      configurations: used.map((c, i) => ({
        id: c?.id ?? METHOD_CONFIGURATIONS[method][i] ?? "",
        state: c?.state ?? "unknown",
        ...(office && c ? { officePhonesAllowed: c.isOfficePhoneAllowed === true } : {}),
      })),
      planned: users.size,
      covered,
      notCovered: users.size - covered,
    };
    preflight.methods.push(p);
    const disabled = used.every(
      (c) => c?.state !== "enabled" || (office && c.isOfficePhoneAllowed !== true),
    );
    if (!preflight.stop && (disabled || (p.planned > 0 && p.covered === 0))) {
      preflight.stop = stopSentence(p);
    }
  }
  return preflight;
}
