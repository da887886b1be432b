/**
 * The plan of a run in the run store: one entry per user and method (plan pages, values masked)
 * and the writes grouped in chunks (chunk files, the only run data with full numbers and
 * addresses besides the directory pages they come from). A plan entry of a write names its chunk,
 * so the summary joins outcomes to entries by {@link writeKey}.
 */
import type { Method } from "../settings/index.js";
import type { DecisionLabel, WriteAction } from "./decisions.js";

/** The write of a phone method: `mobile` (also when absent: chunk files of older runs) or `office`. */
interface PhoneWrite {
  method?: "mobile" | "office";
  /** In Graph's format, `+45 20123456`. */
  phoneNumber: string;
  emailAddress?: undefined;
}

/** The write of the email method. */
interface EmailWrite {
  method: "email";
  emailAddress: string;
  phoneNumber?: undefined;
}

/** One write of a chunk. */
export type ChunkItem = {
  userId: string;
  userPrincipalName: string;
  action: WriteAction;
} & (PhoneWrite | EmailWrite);

/** One user's line of the plan for one method. */
export interface PlanEntry {
  userId: string;
  userPrincipalName: string;
  /** The method decided; absent in plan pages of runs from before there were several. */
  method?: Method;
  decision: DecisionLabel;
  detail?: string;
  /** The number, masked (`+45 ******56`); the full number is only in the chunk file. */
  phoneNumber?: string;
  /** The email method's address, masked (`a***@example.org`); in full only in the chunk file. */
  emailAddress?: string;
  /** The chunk that holds this user's write (writes only). */
  chunkNo?: number;
}

/**
 * The method of an entry, item or outcome (the mobile phone when it names none: older runs).
 *
 * @param x - anything that may name a method.
 */
export function methodOf(x: { method?: Method }): Method {
  return x.method ?? "mobile";
}

/**
 * The key of one user's write of one method: the user id for the mobile phone (as in outcome
 * and re-check files of older runs), `{userId}/{method}` for the others.
 *
 * @param userId - the user.
 * @param method - the method; absent: the mobile phone.
 */
export function writeKey(userId: string, method: Method = "mobile"): string {
  return method === "mobile" ? userId : `${userId}/${method}`;
}
