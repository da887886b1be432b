/**
 * Discovery: pages of users, group members and the registration report, fetched from Graph and
 * written to the run store page by page, so memory stays bounded and every stored page is a
 * checkpoint. The fetch activities (`fetchUsersPage`, `fetchReportPage`) run it.
 */
import type { GraphAccess, Headers, Page } from "./graph/client.js";
import { GraphRequestError, isLicenceCode } from "./graph/errors.js";
import { query } from "./graph/paths.js";
import { logEvent } from "./log/events.js";
import type { Logger } from "./log/logger.js";
import { runKeys, type PageList } from "./run/index.js";
import type { Method } from "./settings/index.js";
import type { RunStore } from "./store/runStore.js";

/** Where a list of users comes from. */
export type UserSource = { kind: "allUsers" } | { kind: "groupMembers"; groupId: string };

/** Graph's documented maximum page size for users and group members. */
export const MAX_PAGE_SIZE = 999;

const USER_SELECT = "id,userPrincipalName,mobilePhone,accountEnabled,userType,createdDateTime";

/** The user properties a method beside the mobile phone is made from. */
const METHOD_PROPERTIES: Partial<Record<Method, string>> = {
  email: "otherMails",
  office: "businessPhones",
};

/**
 * The user properties a run selects: the ones every run needs, and those its methods are made
 * from (no more: the pages keep what is read).
 *
 * @param methods - the run's methods.
 */
export function userSelect(methods: readonly Method[] = ["mobile"]): string {
  const extra = methods.flatMap((m) => METHOD_PROPERTIES[m] ?? []);
  return [USER_SELECT, ...extra].join(",");
}

/**
 * The first page's path and the headers every page needs.
 *
 * @param source - all users, or a group's transitive members.
 * @param idsOnly - only ids (exclusion groups): read without advanced query options, so the read
 *   goes to the directory itself and not to the index advanced queries read, which can lag
 *   minutes behind; a member just added to an exclusion group is seen. Members of every type
 *   are listed, which is harmless: only user ids match candidates.
 * @param methods - the run's methods (which properties to select).
 */
export function firstUsersRequest(
  source: UserSource,
  idsOnly = false,
  methods?: readonly Method[],
): { path: string; headers: Headers } {
  const select = userSelect(methods);
  if (source.kind === "allUsers") {
    return { path: `/users${query({ $select: select, $top: MAX_PAGE_SIZE })}`, headers: {} };
  }
  const group = `/groups/${encodeURIComponent(source.groupId)}/transitiveMembers`;
  if (idsOnly) {
    return { path: `${group}${query({ $select: "id", $top: MAX_PAGE_SIZE })}`, headers: {} };
  }
  // Query options on a cast member list are documented as supported only as advanced queries,
  // and Graph does not carry the header into next links: it is sent on every page.
  return {
    path: `${group}/microsoft.graph.user${query({ $select: select, $top: MAX_PAGE_SIZE, $count: "true" })}`,
    headers: { ConsistencyLevel: "eventual" },
  };
}

/** The registration report's first page. `$top` is documented as supported, its maximum is not. */
export const REPORT_PATH = "/reports/authenticationMethods/userRegistrationDetails";

/** How long to wait before asking again for a page refused with the licence 403. */
export const LICENCE_RETRY_MS = 1_000;

/**
 * Gets one page, asking once more after a licence 403: licensed tenants get that refusal now and
 * then on a single report page (graph-api.md §10), and the same request a moment later succeeds.
 * A second refusal means the tenant lacks the licence: it is thrown.
 */
async function getPageOnceMore<T>(
  graph: GraphAccess,
  link: string,
  headers: Headers,
): Promise<Page<T>> {
  try {
    return await graph.getPage<T>(link, headers);
  } catch (error) {
    if (!(
      error instanceof GraphRequestError &&
      error.status === 403 &&
      isLicenceCode(error.code)
    )) {
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, LICENCE_RETRY_MS));
    return graph.getPage<T>(link, headers);
  }
}

/** Result of one fetch call. */
export interface FetchPagesResult {
  /** Pages written by this call. */
  pages: number;
  /** Items written by this call. */
  items: number;
  /** Where the next call continues; absent when the list is complete. */
  nextCursor?: string;
}

/**
 * Fetches up to `maxPages` pages of a list and writes each to the store.
 *
 * @param graph - the Graph access layer.
 * @param store - the run store.
 * @param args - run id, which list, the first page number to write, the cursor (a next link, or
 *   undefined for the first page), the first page's path, headers for every page, and a mapper.
 */
export async function fetchPagesToStore<TIn, TOut>(
  graph: GraphAccess,
  store: RunStore,
  args: {
    runId: string;
    list: PageList;
    firstPageNo: number;
    cursor?: string;
    firstPath: string;
    headers: Headers;
    maxPages: number;
    /** Keeps what the run needs of an item; `undefined` drops the item. */
    map: (item: TIn) => TOut | undefined;
    /** A path to use instead when Graph refuses the first one with a 400 (e.g. without `$top`). */
    fallbackFirstPath?: string;
  },
): Promise<FetchPagesResult> {
  let link: string | undefined = args.cursor ?? args.firstPath;
  let pages = 0;
  let items = 0;
  while (link !== undefined && pages < args.maxPages) {
    let page;
    try {
      page = await getPageOnceMore<TIn>(graph, link, args.headers);
    } catch (error) {
      const isFirst = args.cursor === undefined && pages === 0;
      if (
        isFirst &&
        args.fallbackFirstPath &&
        error instanceof GraphRequestError &&
        error.status === 400
      ) {
        link = args.fallbackFirstPath;
        page = await getPageOnceMore<TIn>(graph, link, args.headers);
      } else {
        throw error;
      }
    }
    const value = page.value.map(args.map).filter((v): v is TOut => v !== undefined);
    await store.putJson(runKeys.page(args.runId, args.list, args.firstPageNo + pages), value);
    pages++;
    items += value.length;
    link = page.nextLink;
  }
  return link === undefined ? { pages, items } : { pages, items, nextCursor: link };
}

/** What a fetch activity returns: what it stored, or why the run cannot go on. */
export type FetchActivityResult = ({ ok: true } & FetchPagesResult) | { ok: false; error: string };

/**
 * Runs one fetch activity's paging and logs its `pagesFetched` event. A fatal Graph error (no
 * permission, no licence, a query Graph refuses) becomes a value, so the orchestration fails the
 * run at once with its message instead of retrying; anything else is thrown, to be retried.
 *
 * @param logger - the activity's logger.
 * @param event - run id, list and first page number for the event.
 * @param fetch - the paging to run.
 */
export async function runFetchActivity(
  logger: Pick<Logger, "info">,
  event: { runId: string; list: PageList; firstPageNo: number },
  fetch: () => Promise<FetchPagesResult>,
): Promise<FetchActivityResult> {
  try {
    const result = await fetch();
    logEvent(logger, "pagesFetched", {
      ...event,
      pages: result.pages,
      items: result.items,
      more: result.nextCursor !== undefined,
    });
    return { ok: true, ...result };
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return { ok: false, error: error.message };
    }
    throw error;
  }
}

/**
 * Reads the stored pages of a list in order.
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param list - which list.
 * @param count - how many pages the run wrote.
 */
export async function* readPages<T>(
  store: RunStore,
  runId: string,
  list: PageList,
  count: number,
): AsyncGenerator<T[]> {
  for (let n = 0; n < count; n++) {
    const page = await store.getJson<T[]>(runKeys.page(runId, list, n));
    if (page === undefined) {
      throw new Error(
        `Discovery: page ${n} of '${list}' of run '${runId}' is missing from the run store.`,
      );
    }
    yield page;
  }
}

/** A domain as `GET /domains` returns it (the fields used here). */
interface Domain {
  id: string;
  isVerified?: boolean;
}

/**
 * The tenant's verified domains, lower case: the mailboxes a user locked out of the account
 * cannot reach, so no email method is made from an address in them.
 *
 * @param graph - the Graph access layer.
 */
export async function readVerifiedDomains(graph: GraphAccess): Promise<string[]> {
  const domains: string[] = [];
  for await (const page of graph.pages<Domain>(`/domains${query({ $select: "id,isVerified" })}`)) {
    for (const d of page.value) {
      if (d.isVerified === true && typeof d.id === "string") {
        domains.push(d.id.toLowerCase());
      }
    }
  }
  return domains.sort();
}
