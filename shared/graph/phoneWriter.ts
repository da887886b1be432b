/**
 * Writes authentication methods (the mobile and office phones, the email method) in `$batch`es
 * under the adaptive limiter, POST first, and reconciles every answer that leaves the outcome
 * open by reading the user's methods of that kind: a retry never writes twice and never counts a
 * success as a failure. Only the requests and the read-back differ per kind; the batching,
 * limiter and reconcile path are the same for every kind.
 *
 * Graph documents neither the status nor the code for "a method of this type already exists",
 * so every 4xx other than 401/403/429 is treated alike: read, then decide.
 *
 * The parts: {@link writeRequest} and {@link readRequest} build one item's request,
 * {@link readBack} says what a read found; a {@link WriteRun} keeps the queues and outcomes of
 * one call, its workers cut batches when the limiter lets them go, and its `onWrite` and
 * `onRead` decide what each answer means for its user.
 */
import { phoneNumberKey } from "../phone/index.js";
import type { Outcome, WriteAction } from "../run/index.js";
import type { BatchRequest, BatchResult, GraphAccess } from "./client.js";
import { DueQueue } from "./dueQueue.js";
import { GraphRequestError } from "./errors.js";
import { sendLimitedBatch } from "./limitedBatch.js";
import { EMAIL_METHOD_ID, PHONE_METHOD_IDS, emailMethodsPath, phoneMethodsPath } from "./paths.js";
import type { AdaptiveLimiter } from "./throttle.js";

/**
 * One write to make: a phone number for a phone method (`kind` `mobile`, the default, or
 * `office`), an address for the email method. `create` POSTs a new method; `replace` PATCHes the
 * existing one.
 */
export type PhoneWrite = { userId: string; action: WriteAction } & (
  | {
      kind?: "mobile" | "office";
      /** In Graph's format, `+45 20123456`. */
      phoneNumber: string;
      emailAddress?: undefined;
    }
  | { kind: "email"; emailAddress: string; phoneNumber?: undefined }
);

/** Options of {@link writePhoneMethods}. */
export interface PhoneWriterOptions {
  limiter: AdaptiveLimiter;
  /** Attempts per user for writes whose outcome stays unknown or throttled (default 8). */
  maxAttempts?: number;
  /** Batches in flight at most, whatever the limiter allows (default 32). */
  maxBatchesInFlight?: number;
  /** Called once per user as soon as its outcome is final. */
  onOutcome?: (outcome: Outcome) => void;
  /** Called per Graph answer, for live throttling counts. */
  onThrottled?: (count: number) => void;
  /**
   * Asked before every batch; when it answers true no further batch starts (a cancelled run).
   * Users not reached have no outcome.
   */
  shouldStop?: () => Promise<boolean>;
}

/** The Graph calls the writer makes. */
export type WriterGraph = Pick<GraphAccess, "batch">;

/** Why a user's outcome must be read back: the write's own 4xx, or unknown (5xx, lost). */
interface Reconcile {
  kind: "refused" | "unknown" | "notUnique";
  status: number;
  code: string;
  message?: string;
  requestId?: string;
}

type Pending = PhoneWrite & {
  attempts: number;
  reconcile?: Reconcile;
};

const MAX_BATCH = 20;

/**
 * The request that makes one write: a POST of a new method, or a PATCH of the existing one (a
 * phone method by its type's fixed id, the email method by its one fixed id).
 *
 * @param write - the write.
 * @param id - the item's id in its batch.
 */
export function writeRequest(write: PhoneWrite, id: string): BatchRequest {
  if (write.kind === "email") {
    const body = { emailAddress: write.emailAddress };
    const url = emailMethodsPath(write.userId);
    return write.action === "create"
      ? { id, method: "POST", url, body }
      : { id, method: "PATCH", url: `${url}/${EMAIL_METHOD_ID}`, body };
  }
  const phoneType = write.kind ?? "mobile";
  const body = { phoneNumber: write.phoneNumber, phoneType };
  return write.action === "create"
    ? { id, method: "POST", url: phoneMethodsPath(write.userId), body }
    : {
        id,
        method: "PATCH",
        url: `${phoneMethodsPath(write.userId)}/${PHONE_METHOD_IDS[phoneType]}`,
        body,
      };
}

/**
 * The request that reads back what one write left: the user's methods of the write's collection
 * (phone methods, or email methods).
 *
 * @param write - the write.
 * @param id - the item's id in its batch.
 */
export function readRequest(write: PhoneWrite, id: string): BatchRequest {
  const url =
    write.kind === "email" ? emailMethodsPath(write.userId) : phoneMethodsPath(write.userId);
  return { id, method: "GET", url };
}

/** A method as a list of phone or email methods returns it (the fields used here). */
interface ListedMethod {
  id?: string;
  phoneType?: string;
  phoneNumber?: string;
  emailAddress?: string;
}

/**
 * What a read of the user's methods found for the write: its own value (`same`), another value
 * of the same kind (`differs`), or none (`absent`). Numbers are compared in normalised form,
 * addresses without regard to case.
 *
 * @param body - the read's answer body.
 * @param write - the write.
 */
export function readBack(body: unknown, write: PhoneWrite): "same" | "differs" | "absent" {
  const listed = (body as { value?: ListedMethod[] } | undefined)?.value ?? [];
  if (write.kind === "email") {
    const email = listed.find((m) => m.id === EMAIL_METHOD_ID || m.emailAddress !== undefined);
    if (email === undefined) {
      return "absent";
    }
    const held = email.emailAddress?.trim().toLowerCase();
    return held !== undefined && held === write.emailAddress.toLowerCase() ? "same" : "differs";
  }
  const phoneType = write.kind ?? "mobile";
  const phone = listed.find(
    (m) => m.phoneType === phoneType || m.id === PHONE_METHOD_IDS[phoneType],
  );
  if (phone === undefined) {
    return "absent";
  }
  const same =
    phone.phoneNumber !== undefined &&
    phoneNumberKey(phone.phoneNumber) === phoneNumberKey(write.phoneNumber);
  return same ? "same" : "differs";
}

/**
 * Writes the given phone methods and returns one outcome per write, in input order.
 *
 * @param graph - the Graph access layer (only its `$batch` is used).
 * @param writes - the writes; one per user.
 * @param options - limiter, attempts and progress callbacks.
 * @throws GraphRequestError of kind `fatal` when Graph refuses the app itself (401/403): a
 *   missing permission fails every user alike, so the caller stops instead of recording each.
 */
export async function writePhoneMethods(
  graph: WriterGraph,
  writes: PhoneWrite[],
  options: PhoneWriterOptions,
): Promise<Outcome[]> {
  return new WriteRun(graph, writes, options).run();
}

/** The written outcome of a successful write. */
function written(p: PhoneWrite): Outcome {
  return p.action === "create"
    ? { userId: p.userId, result: "created" }
    : { userId: p.userId, result: "replaced" };
}

/** One call of {@link writePhoneMethods}: its queues, its workers and its users' outcomes. */
class WriteRun {
  private readonly maxAttempts: number;
  private readonly outcomes = new Map<string, Outcome>();
  private readonly toWrite = new DueQueue<Pending>();
  private readonly toRead = new DueQueue<Pending>();
  private inFlight = 0;
  private fatal: unknown;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly graph: WriterGraph,
    private readonly writes: PhoneWrite[],
    private readonly options: PhoneWriterOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.toWrite.push(...writes.map((w) => ({ ...w, attempts: 0 })));
  }

  async run(): Promise<Outcome[]> {
    const workers = Math.max(1, this.options.maxBatchesInFlight ?? 32);
    await Promise.all(Array.from({ length: workers }, () => this.worker()));
    if (this.fatal) {
      throw this.fatal;
    }
    return this.writes.map(
      (w) =>
        this.outcomes.get(w.userId) ?? {
          userId: w.userId,
          result: "failed",
          status: 0,
          code: "notAttempted",
          transient: true,
        },
    );
  }

  /** Sends batches, reads before writes, until nothing is left, a fatal answer or a stop. */
  private async worker(): Promise<void> {
    for (;;) {
      if (this.fatal || this.stopped) {
        return;
      }
      if (this.toRead.readyCount + this.toWrite.readyCount === 0) {
        if (this.inFlight === 0) {
          this.notify();
          return;
        }
        await this.waitForWork();
        continue;
      }
      const next = await this.nextBatch();
      if (next === "stop") {
        return;
      }
      if (next === undefined) {
        continue;
      }
      this.inFlight++;
      try {
        await (next.reading
          ? this.sendReads(next.batch, next.startedAt)
          : this.sendWrites(next.batch, next.startedAt));
      } catch (error) {
        this.fatal ??= error;
      } finally {
        this.inFlight--;
        this.notify();
      }
    }
  }

  /**
   * Waits for permits, asks whether to stop, and cuts the batch: permits first, items after, so
   * the batch is cut to what the limiter allows when it lets the request go, not to what it
   * allowed when the worker started waiting.
   *
   * @returns the batch, nothing (another worker took the items), or `stop`.
   */
  private async nextBatch(): Promise<
    { batch: Pending[]; reading: boolean; startedAt: number } | "stop" | undefined
  > {
    const { limiter, shouldStop } = this.options;
    const wanted = Math.min(
      limiter.batchSize(MAX_BATCH),
      this.toRead.readyCount || this.toWrite.readyCount,
    );
    const startedAt = await limiter.acquire(wanted);
    // Asked after the wait for permits, right before the batch is cut and sent.
    if (shouldStop && (await shouldStop())) {
      this.stopped = true;
      limiter.refund(wanted, startedAt);
      this.notify();
      return "stop";
    }
    const reading = this.toRead.readyCount > 0;
    const from = reading ? this.toRead : this.toWrite;
    const size = Math.min(wanted, limiter.sendSize(MAX_BATCH), from.readyCount);
    limiter.refund(wanted - size, startedAt);
    if (size === 0 || this.fatal) {
      limiter.refund(size, startedAt);
      return undefined;
    }
    return { batch: from.take(size), reading, startedAt };
  }

  /** Waits until a batch in flight comes back. */
  private waitForWork(): Promise<void> {
    return new Promise<void>((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private finish(outcome: Outcome): void {
    this.outcomes.set(outcome.userId, outcome);
    this.options.onOutcome?.(outcome);
  }

  private retryOrFail(p: Pending, status: number, code: string, requestId?: string): void {
    if (p.attempts >= this.maxAttempts) {
      this.finish({ userId: p.userId, result: "failed", status, code, requestId, transient: true });
    } else {
      this.toWrite.push({ ...p, reconcile: undefined });
    }
  }

  private async sendWrites(batch: Pending[], startedAt: number): Promise<void> {
    const requests = batch.map((p, i) => {
      p.attempts++;
      return writeRequest(p, String(i + 1));
    });
    const results = await sendLimitedBatch(this.graph, this.options, requests, startedAt);
    if (results instanceof GraphRequestError) {
      // The envelope failed transiently: any item may or may not have been applied.
      for (const p of batch) {
        p.reconcile = {
          kind: "unknown",
          status: results.status,
          code: results.code,
          requestId: results.requestId,
        };
        this.toRead.push(p);
      }
      return;
    }
    batch.forEach((p, i) => this.onWrite(p, results[i] as BatchResult));
  }

  /** What one write's answer means for its user. */
  private onWrite(p: Pending, r: BatchResult): void {
    if (r.status >= 200 && r.status < 300) {
      this.finish(written(p));
      return;
    }
    const code = r.error?.code ?? `http${r.status}`;
    const requestId = r.error?.requestId;
    if (r.status === 401 || r.status === 403) {
      this.fatal ??= r.error;
      return;
    }
    if (r.status === 429) {
      this.retryOrFail(p, r.status, code, requestId);
      return;
    }
    if (r.status === 409 && code === "phoneNumberNotUnique") {
      p.reconcile = { kind: "notUnique", status: r.status, code, requestId };
    } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 424) {
      const message = r.error?.graphMessage;
      p.reconcile = { kind: "refused", status: r.status, code, message, requestId };
    } else {
      p.reconcile = { kind: "unknown", status: r.status, code, requestId };
    }
    this.toRead.push(p);
  }

  private async sendReads(batch: Pending[], startedAt: number): Promise<void> {
    const requests = batch.map((p, i) => readRequest(p, String(i + 1)));
    const results = await sendLimitedBatch(this.graph, this.options, requests, startedAt);
    if (results instanceof GraphRequestError) {
      this.toRead.push(...batch);
      return;
    }
    batch.forEach((p, i) => this.onRead(p, results[i] as BatchResult));
  }

  /** What one read's answer means for its user. */
  private onRead(p: Pending, r: BatchResult): void {
    const why = p.reconcile ?? { kind: "unknown" as const, status: 0, code: "unknown" };
    if (r.status === 401 || r.status === 403) {
      this.fatal ??= r.error;
      return;
    }
    if (r.status === 404) {
      const code = r.error?.code ?? "userNotFound";
      const requestId = r.error?.requestId;
      this.finish({
        userId: p.userId,
        result: "failed",
        status: 404,
        code,
        requestId,
        transient: false,
      });
      return;
    }
    if (r.status < 200 || r.status >= 300) {
      // The read itself failed: try reading again later, within the same attempt budget.
      if (p.attempts >= this.maxAttempts) {
        const { status, code, requestId } = why;
        this.finish({
          userId: p.userId,
          result: "failed",
          status,
          code,
          requestId,
          transient: true,
        });
      } else {
        p.attempts++;
        this.toRead.push(p);
      }
      return;
    }
    this.settle(p, why, readBack(r.body, p));
  }

  /** Decides a user's outcome from what the read found and why it was read. */
  private settle(p: Pending, why: Reconcile, found: "same" | "differs" | "absent"): void {
    if (found === "same") {
      if (why.kind === "notUnique") {
        this.finish({ userId: p.userId, result: "created", note: "smsSignInNumberNotUnique" });
      } else {
        this.finish(
          why.kind === "unknown" ? written(p) : { userId: p.userId, result: "alreadyPresent" },
        );
      }
      return;
    }
    if (found === "differs" && p.action === "create") {
      this.finish({ userId: p.userId, result: "existingDiffers" });
      return;
    }
    if (why.kind === "unknown") {
      this.retryOrFail(p, why.status, why.code, why.requestId);
      return;
    }
    const { status, code, message, requestId } = why;
    this.finish({
      userId: p.userId,
      result: "failed",
      status,
      code,
      message,
      requestId,
      transient: false,
    });
  }
}
