/**
 * Read-after-write lag: the directory replicates, so a GET of a user's authentication methods
 * right after a write may not see it yet (scripts that handle it wait about 5 s before reading
 * back). For `readAfterWriteLagMs` (scaled) after each write, reads of that user's methods show
 * them as they were before that write; the write itself is answered at once.
 */
import type { UserRec } from "../store.js";

/** What reads of a user's methods show: phones, the email method and the others. */
type MethodsView = Pick<UserRec, "phones" | "otherMethods" | "emailAddress">;

/** A user's methods as reads still see them, and the writes not yet visible. */
interface Lagging {
  /** What reads show now. */
  visible: MethodsView;
  /** The state after each later write, oldest first, with when it was written (epoch ms). */
  pending: { atMs: number; after: MethodsView }[];
}

function copyOf(user: UserRec): MethodsView {
  const phones: UserRec["phones"] = {};
  for (const [type, rec] of Object.entries(user.phones)) {
    phones[type as keyof UserRec["phones"]] = { ...rec };
  }
  return { phones, otherMethods: [...user.otherMethods], emailAddress: user.emailAddress };
}

/** The lagging views of the users written within the lag. */
export class ReadAfterWriteLag {
  private readonly lagging = new Map<UserRec, Lagging>();
  /** Users in write order, to forget those nobody read back once their lag is over. */
  private readonly written: { atMs: number; user: UserRec }[] = [];
  private head = 0;

  /**
   * The user's methods before a write (call before the handler runs).
   *
   * @param user - the user the write names
   */
  before(user: UserRec): MethodsView {
    return copyOf(user);
  }

  /**
   * Records an applied write, so reads keep showing `before` for the lag.
   *
   * @param user - the written user (the store's record, already changed)
   * @param before - what {@link before} returned
   * @param lagMs - real milliseconds the write stays invisible
   */
  recordWrite(user: UserRec, before: MethodsView, lagMs: number): void {
    const now = Date.now();
    this.forgetSettled(now, lagMs);
    const entry = this.lagging.get(user) ?? { visible: before, pending: [] };
    entry.pending.push({ atMs: now, after: copyOf(user) });
    this.lagging.set(user, entry);
    this.written.push({ atMs: now, user });
  }

  /**
   * The user as a read sees it: the store's record, or a copy with the methods before the writes
   * still within the lag.
   *
   * @param user - the store's record
   * @param lagMs - real milliseconds a write stays invisible
   */
  visible(user: UserRec, lagMs: number): UserRec {
    const entry = this.lagging.get(user);
    if (!entry) {
      return user;
    }
    const now = Date.now();
    while (entry.pending.length > 0 && (entry.pending[0]?.atMs ?? 0) + lagMs <= now) {
      entry.visible = (entry.pending.shift() as Lagging["pending"][number]).after;
    }
    if (entry.pending.length === 0) {
      this.lagging.delete(user);
      return user;
    }
    return { ...user, ...entry.visible };
  }

  /** Drops users whose last write is older than the lag (nobody read them back). */
  private forgetSettled(now: number, lagMs: number): void {
    while (this.head < this.written.length) {
      const w = this.written[this.head] as { atMs: number; user: UserRec };
      if (w.atMs + lagMs > now) {
        break;
      }
      const entry = this.lagging.get(w.user);
      const last = entry?.pending[entry.pending.length - 1];
      if (entry && last && last.atMs + lagMs <= now) {
        this.lagging.delete(w.user);
      }
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.written.length) {
      this.written.splice(0, this.head);
      this.head = 0;
    }
  }
}
