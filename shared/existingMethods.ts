/**
 * The phone methods read for `REPLACE_EXISTING`, read once per run: the census reads the users
 * the report says have a mobile method and stores what it read by user page; planning takes them
 * from the store and reads from Graph only those the census could not read.
 */
import type { PhoneMethod } from "./run/index.js";
import { runKeys } from "./run/index.js";
import type { RunStore } from "./store/runStore.js";

/** Reads phone methods from Graph; users it could not read are absent. */
export type PhoneMethodsRead = (userIds: string[]) => Promise<Map<string, PhoneMethod[]>>;

/**
 * Stores what was read, one file per user page.
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param byPage - the users asked for, by user page.
 * @param methods - what Graph answered.
 */
export async function storeExistingMethods(
  store: RunStore,
  runId: string,
  byPage: Map<number, string[]>,
  methods: Map<string, PhoneMethod[]>,
): Promise<void> {
  for (const [pageNo, ids] of byPage) {
    const page: Record<string, PhoneMethod[]> = {};
    for (const id of ids) {
      const list = methods.get(id);
      if (list) {
        page[id] = list;
      }
    }
    await store.putJson(runKeys.existingMethods(runId, pageNo), page);
  }
}

/**
 * A lookup that answers from what the census stored for user pages `[fromPage, toPage)` and
 * reads from Graph only the users not found there.
 *
 * @param store - the run store.
 * @param args - the run and the user pages.
 * @param read - the Graph read for the rest.
 */
export function storedFirst(
  store: RunStore,
  args: { runId: string; fromPage: number; toPage: number },
  read: PhoneMethodsRead,
): PhoneMethodsRead {
  let stored: Promise<Map<string, PhoneMethod[]>> | undefined;
  const load = async (): Promise<Map<string, PhoneMethod[]>> => {
    const all = new Map<string, PhoneMethod[]>();
    for (let pageNo = args.fromPage; pageNo < args.toPage; pageNo++) {
      const page = await store.getJson<Record<string, PhoneMethod[]>>(
        runKeys.existingMethods(args.runId, pageNo),
      );
      for (const [id, list] of Object.entries(page ?? {})) {
        all.set(id, list);
      }
    }
    return all;
  };
  return async (userIds) => {
    stored ??= load();
    const known = await stored;
    const found = new Map<string, PhoneMethod[]>();
    const missing: string[] = [];
    for (const id of userIds) {
      const list = known.get(id);
      if (list) {
        found.set(id, list);
      } else {
        missing.push(id);
      }
    }
    if (missing.length > 0) {
      for (const [id, list] of await read(missing)) {
        found.set(id, list);
      }
    }
    return found;
  };
}
