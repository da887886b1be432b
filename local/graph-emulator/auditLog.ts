/**
 * The directory audit log's "Update user" events: seeded from the fixture (`auditEvents`, past
 * dates) and written when the admin API changes a user's audited properties. Events keep raw
 * values; handlers/audit.ts renders them in the documented `directoryAudit` shape.
 */
import { createHash, randomUUID } from "node:crypto";

/** Who made a change: a signed-in user (by UPN) or an application (by display name). */
export type AuditActor = { userPrincipalName: string } | { app: string };

/** One changed property of a user, values as the directory held them (null = none). */
export interface AuditChange {
  /** The property's name in the log, e.g. `MobilePhone`. */
  name: string;
  oldValue: string | string[] | null;
  newValue: string | string[] | null;
}

/** One "Update user" event. */
export interface AuditEvent {
  /** Order of writing, breaking ties between events of the same instant. */
  seq: number;
  timeMs: number;
  correlationId: string;
  actor: AuditActor;
  target: { id: string; userPrincipalName: string };
  changes: AuditChange[];
}

/**
 * A GUID derived from a string, the same on every run.
 *
 * @param seed - what the id stands for
 */
function derivedGuid(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The audit log of one tenant, kept in time order. */
export class AuditLog {
  private readonly events: AuditEvent[] = [];
  private seq = 0;

  /**
   * Adds an event, keeping time order (a seeded event may be older than ones already there).
   *
   * @param timeMs - when the change happened, epoch ms
   * @param target - the user changed
   * @param changes - what changed (at least one)
   * @param actor - who changed it
   * @param seeded - from the fixture: its correlation id is derived, so reruns see the same log
   * @returns the event
   */
  record(
    timeMs: number,
    target: { id: string; userPrincipalName: string },
    changes: AuditChange[],
    actor: AuditActor,
    seeded = false,
  ): AuditEvent {
    this.seq++;
    const correlationId = seeded
      ? derivedGuid(`audit|${target.id}|${timeMs}|${this.seq}`)
      : randomUUID();
    const event: AuditEvent = {
      seq: this.seq,
      timeMs,
      correlationId,
      actor,
      target: { id: target.id, userPrincipalName: target.userPrincipalName },
      changes,
    };
    let at = this.events.length;
    while (at > 0 && (this.events[at - 1] as AuditEvent).timeMs > timeMs) {
      at--;
    }
    this.events.splice(at, 0, event);
    return event;
  }

  /** Every event, oldest first (ties in writing order). */
  all(): readonly AuditEvent[] {
    return this.events;
  }
}
