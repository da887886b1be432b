/**
 * Writes authentication methods (the mobile and office phones, the email method) in `$batch`es
 * under the adaptive limiter, POST first, and reconciles every answer that leaves the outcome
 * open by reading the user's methods of that kind: a retry never writes twice and never counts a
 * success as a failure. Only the requests and the read-back differ per kind; the batching,
 * limiter and reconcile path are the same for every kind.
 *
 * Graph documents neither the status nor the code for "a method of this type already exists", so
 * every 4xx other than 401/403/429 is treated alike: read, then decide. What else a real tenant
 * answers (graph-api.md §10):
 *
 * - a read that reconciles a write waits a few seconds after it (the directory replicates, and a
 *   read right after a write may not show it yet);
 * - every retry counts against the user's attempts and waits longer each time, with jitter
 *   (`Retry-After` when Graph gives one);
 * - a 401 inside a batch whose envelope passed gets one fresh token and a retry, a second one is
 *   fatal;
 * - a 403 on one user's write is that user's (restricted management administrative units): the
 *   user's methods are read, and the user fails with `forbidden` unless the value is there
 *   already. A read refused too, or every item of several batches in a row refused, means the app
 *   lacks the permission: fatal;
 * - when nothing but 5xx and lost answers come back for a while, the writer stops with
 *   {@link GraphUnavailableError}, naming the users whose last write may have been applied.
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
import { GraphRequestError, GraphUnavailableError } from "./errors.js";
import { isUnavailable, sendLimitedBatch } from "./limitedBatch.js";
import { EMAIL_METHOD_ID, PHONE_METHOD_IDS, emailMethodsPath, phoneMethodsPath } from "./paths.js";
import type { AdaptiveLimiter } from "./throttle.js";
import { retryDelay } from "./transport.js";

/**
 * One write to make: a phone number for a phone method (`kind` `mobile`, the default, or
 * `office`), an address for the email method. `create` POSTs a new method; `replace` PATCHes the
 * existing one.
 */
export type PhoneWrite = {
  userId: string;
  action: WriteAction;
  /** An earlier attempt may have applied this write: read before writing (after an outage). */
  reconcileFirst?: boolean;
} & (
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
  /** Requests per user (writes and reads) before it fails as transient (default 8). */
  maxAttempts?: number;
  /** Batches in flight at most, whatever the limiter allows (default 32). */
  maxBatchesInFlight?: number;
  /** Called once per user as soon as its outcome is final. */
  onOutcome?: (outcome: Outcome) => void;
  /** Called per Graph answer, for live throttling counts. */
  onThrottled?: (count: number) => void;
  /**
   * Called once, when every write has left at least once and none waits to be sent again (a
   * refused one waits its Retry-After): what remains are answers, reads back, and the retries of
   * writes refused from now on. Another writer may then start on the quota (the next chunk, in
   * another process with a limiter of its own) without two sending at full rate at once.
   */
  onAllSent?: () => void;
  /**
   * Asked before every batch; when it answers true no further batch starts (a cancelled run).
   * Users not reached have no outcome.
   */
  shouldStop?: () => Promise<boolean>;
  /** How long a read that reconciles a write waits after the write's answer (default 5,000 ms). */
  readAfterWriteMs?: number;
  /** Backoff of a retried request without `Retry-After`: first delay and cap (1 s, 60 s). */
  backoff?: { baseDelayMs: number; maxDelayMs: number };
  /**
   * When Graph counts as unavailable: this many batches in a row got nothing but 5xx or no
   * answer, and nothing else came back for this long (default 5 batches, 60,000 ms).
   */
  unavailableAfter?: { batches: number; ms: number };
  /** Batches in a row whose every write was refused with 403 that make it fatal (default 3). */
  refusedBatchesFatal?: number;
  /** Jitter source (tests). */
  random?: () => number;
}

/** The Graph calls the writer makes. */
export type WriterGraph = Pick<GraphAccess, "batch" | "refreshToken">;

/** Why a user's outcome must be read back. */
interface Reconcile {
  /**
   * `refused`: the write's own 4xx; `unknown`: 5xx or lost, it may have been applied;
   * `notUnique`: the SMS sign-in 409, created; `forbidden`: a 403 for this user.
   */
  kind: "refused" | "unknown" | "notUnique" | "forbidden";
  status: number;
  code: string;
  message?: string;
  requestId?: string;
}

type Pending = PhoneWrite & {
  /** Requests sent for this user so far, writes and reads. */
  attempts: number;
  reconcile?: Reconcile;
  /** Retried once after a 401 with a fresh token. */
  authRetried?: boolean;
};

/** A batch cut and ready to go. */
interface CutBatch {
  batch: Pending[];
  reading: boolean;
  startedAt: number;
}

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
 * @param graph - the Graph access layer (its `$batch` and token refresh).
 * @param writes - the writes; one per user.
 * @param options - limiter, attempts, waits and progress callbacks.
 * @throws GraphRequestError of kind `fatal` when Graph refuses the app itself (a 401 after a
 *   fresh token, a 403 on reads or on every write of several batches): a missing permission
 *   fails every user alike, so the caller stops instead of recording each.
 * @throws GraphUnavailableError when Graph keeps failing; outcomes reached so far were reported
 *   through `onOutcome`.
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

/** Whether Graph answered a batch at all: anything but 5xx and lost answers counts. */
function answered(results: BatchResult[] | GraphRequestError): boolean {
  return results instanceof GraphRequestError
    ? !isUnavailable(results.status)
    : results.some((r) => !isUnavailable(r.status));
}

/** One call of {@link writePhoneMethods}: its queues, its workers and its users' outcomes. */
class WriteRun {
  private readonly maxAttempts: number;
  private readonly readAfterWriteMs: number;
  private readonly outcomes = new Map<string, Outcome>();
  private readonly toWrite = new DueQueue<Pending>();
  private readonly toRead = new DueQueue<Pending>();
  private inFlight = 0;
  private fatal: unknown;
  private unavailable?: GraphUnavailableError;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** Token refreshes asked for so far; a batch remembers the count it was sent with. */
  private tokenGeneration = 0;
  /** Write batches in a row whose every item was refused with 403. */
  private refusedBatches = 0;
  /** Batches in a row that got nothing but 5xx and lost answers, and the last other answer. */
  private downBatches = 0;
  private lastAnsweredAt: number;
  /** Writes not sent even once yet (see {@link PhoneWriterOptions.onAllSent}). */
  private unsent: number;
  private allSentTold = false;

  constructor(
    private readonly graph: WriterGraph,
    private readonly writes: PhoneWrite[],
    private readonly options: PhoneWriterOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.readAfterWriteMs = options.readAfterWriteMs ?? 5_000;
    this.lastAnsweredAt = this.now();
    this.unsent = writes.length;
    for (const w of writes) {
      const p: Pending = { ...w, attempts: 0 };
      if (w.reconcileFirst) {
        p.reconcile = { kind: "unknown", status: 0, code: "uncertainAfterOutage" };
        this.toRead.push(p);
      } else {
        this.toWrite.push(p);
      }
    }
  }

  async run(): Promise<Outcome[]> {
    this.tellAllSent();
    const workers = Math.max(1, this.options.maxBatchesInFlight ?? 32);
    await Promise.all(Array.from({ length: workers }, () => this.worker()));
    if (this.fatal) {
      throw this.fatal;
    }
    if (this.unavailable) {
      // Users whose write may have been applied: read back before writing them again.
      const uncertain = this.toRead
        .drain()
        .filter((p) => p.reconcile?.kind === "unknown" || p.reconcile?.kind === "notUnique")
        .map((p) => p.userId);
      throw new GraphUnavailableError(this.unavailable.message, uncertain);
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

  private now(): number {
    return this.options.limiter.clock.now();
  }

  /** Sends batches, reads before writes, until nothing is left, a fatal answer or a stop. */
  private async worker(): Promise<void> {
    for (;;) {
      if (this.fatal || this.stopped || this.unavailable) {
        return;
      }
      this.promote();
      if (this.toRead.readyCount + this.toWrite.readyCount === 0) {
        if (this.inFlight === 0 && this.toRead.size + this.toWrite.size === 0) {
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
      if (next !== undefined) {
        await this.send(next);
      }
    }
  }

  /** Sends one cut batch; whatever it throws is fatal. */
  private async send(next: CutBatch): Promise<void> {
    this.inFlight++;
    try {
      await (next.reading
        ? this.sendReads(next.batch, next.startedAt)
        : this.sendWrites(next.batch, next.startedAt));
    } catch (error) {
      this.fatal ??= error;
    } finally {
      this.inFlight--;
      this.tellAllSent();
      this.notify();
    }
  }

  /** Calls `onAllSent` the first time every write has left and none waits to be sent again. */
  private tellAllSent(): void {
    if (!this.allSentTold && this.unsent === 0 && this.toWrite.size === 0) {
      this.allSentTold = true;
      this.options.onAllSent?.();
    }
  }

  private promote(): void {
    const now = this.now();
    this.toRead.promote(now);
    this.toWrite.promote(now);
  }

  /**
   * Waits for permits, asks whether to stop, and cuts the batch: permits first, items after, so
   * the batch is cut to what the limiter allows when it lets the request go, not to what it
   * allowed when the worker started waiting.
   *
   * @returns the batch, nothing (another worker took the items), or `stop`.
   */
  private async nextBatch(): Promise<CutBatch | "stop" | undefined> {
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
    this.promote();
    const reading = this.toRead.readyCount > 0;
    const from = reading ? this.toRead : this.toWrite;
    const size = Math.min(wanted, limiter.sendSize(MAX_BATCH), from.readyCount);
    limiter.refund(wanted - size, startedAt);
    if (size === 0 || this.fatal || this.unavailable) {
      limiter.refund(size, startedAt);
      return undefined;
    }
    return { batch: from.take(size), reading, startedAt };
  }

  /** Waits until a batch in flight comes back or the next waiting item falls due. */
  private waitForWork(): Promise<void> {
    const clock = this.options.limiter.clock;
    const due = Math.min(
      this.toRead.nextDueAt ?? Number.POSITIVE_INFINITY,
      this.toWrite.nextDueAt ?? Number.POSITIVE_INFINITY,
    );
    return new Promise<void>((resolve) => {
      let timer: unknown;
      const previous = this.wake;
      this.wake = () => {
        if (timer !== undefined) {
          clock.clearTimeout(timer);
        }
        previous?.();
        resolve();
      };
      if (Number.isFinite(due)) {
        timer = clock.setTimeout(() => this.notify(), Math.max(0, due - this.now()));
      }
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

  /** When a retry may go: after `Retry-After`, else an exponential backoff with jitter. */
  private retryAt(p: Pending, retryAfterMs?: number): number {
    const policy = {
      maxRetries: 0,
      baseDelayMs: 1_000,
      maxDelayMs: 60_000,
      ...this.options.backoff,
    };
    return (
      this.now() + retryDelay(p.attempts, retryAfterMs, policy, this.options.random ?? Math.random)
    );
  }

  /** Writes again later, or fails the user once its attempts are spent. */
  private retryWrite(p: Pending, why: Reconcile, retryAfterMs?: number): void {
    if (p.attempts >= this.maxAttempts) {
      const { status, code, requestId } = why;
      this.finish({ userId: p.userId, result: "failed", status, code, requestId, transient: true });
      return;
    }
    // A refused write waits its own Retry-After; the limiter lets the others go on at its rate.
    this.toWrite.defer({ ...p, reconcile: undefined }, this.retryAt(p, retryAfterMs));
  }

  /** Reads again later (the read failed), or fails the user once its attempts are spent. */
  private retryRead(p: Pending, retryAfterMs?: number): void {
    if (p.attempts >= this.maxAttempts) {
      const why: Partial<Reconcile> = p.reconcile ?? {};
      const { status = 0, code = "unknown", requestId } = why;
      this.finish({ userId: p.userId, result: "failed", status, code, requestId, transient: true });
      return;
    }
    this.toRead.defer(p, this.retryAt(p, retryAfterMs));
  }

  /**
   * A 401 inside a batch whose envelope passed: one fresh token (unless one was asked for since
   * the batch left) and the item again; a second 401 after the fresh token is fatal.
   */
  private onUnauthorized(
    p: Pending,
    r: BatchResult,
    sentWith: number,
    queue: DueQueue<Pending>,
  ): void {
    if (p.authRetried) {
      this.fatal ??= r.error;
      return;
    }
    if (sentWith === this.tokenGeneration) {
      this.tokenGeneration++;
      this.graph.refreshToken();
    }
    p.authRetried = true;
    queue.push(p);
  }

  /** Notes whether Graph answered a batch; too long without an answer makes it unavailable. */
  private noteHealth(results: BatchResult[] | GraphRequestError): void {
    const now = this.now();
    if (answered(results)) {
      this.downBatches = 0;
      this.lastAnsweredAt = now;
      return;
    }
    this.downBatches++;
    const after = { batches: 5, ms: 60_000, ...this.options.unavailableAfter };
    if (
      !this.unavailable &&
      this.downBatches >= after.batches &&
      now - this.lastAnsweredAt >= after.ms
    ) {
      const last = results instanceof GraphRequestError ? results : results[0]?.error;
      const seconds = Math.round((now - this.lastAnsweredAt) / 1000);
      this.unavailable = new GraphUnavailableError(
        `Graph unavailable: ${this.downBatches} batches in a row got only 5xx answers or none in ${seconds} s (last: ${last?.status ?? 0} '${last?.code ?? "unknown"}').`,
        [],
      );
    }
  }

  /**
   * Sends one request per item (each counts as an attempt) under the limiter and notes Graph's
   * health; `sentWith` is the token generation the batch went out with, for a 401's refresh.
   */
  private async sendEach(
    batch: Pending[],
    request: (p: Pending, id: string) => BatchRequest,
    startedAt: number,
  ): Promise<{ results: BatchResult[] | GraphRequestError; sentWith: number }> {
    const requests = batch.map((p, i) => {
      if (p.attempts++ === 0) {
        this.unsent--;
      }
      return request(p, String(i + 1));
    });
    const sentWith = this.tokenGeneration;
    const answered = sendLimitedBatch(this.graph, this.options, requests, startedAt);
    // Once the request is on its way.
    this.tellAllSent();
    const results = await answered;
    this.noteHealth(results);
    return { results, sentWith };
  }

  private async sendWrites(batch: Pending[], startedAt: number): Promise<void> {
    const { results, sentWith } = await this.sendEach(batch, writeRequest, startedAt);
    if (results instanceof GraphRequestError) {
      // The envelope failed transiently: any item may or may not have been applied.
      const { status, code, requestId } = results;
      for (const p of batch) {
        p.reconcile = { kind: "unknown", status, code, requestId };
        this.toRead.defer(p, this.now() + this.readAfterWriteMs);
      }
      return;
    }
    batch.forEach((p, i) => this.onWrite(p, results[i] as BatchResult, sentWith));
    this.noteRefusals(results);
  }

  /** Every write of several batches in a row refused with 403: the app lacks the permission. */
  private noteRefusals(results: BatchResult[]): void {
    if (results.length === 0 || results.some((r) => r.status !== 403)) {
      this.refusedBatches = 0;
      return;
    }
    this.refusedBatches++;
    if (this.refusedBatches >= (this.options.refusedBatchesFatal ?? 3)) {
      this.fatal ??= results[0]?.error;
    }
  }

  /** What one write's answer means for its user. */
  private onWrite(p: Pending, r: BatchResult, sentWith: number): void {
    if (r.status >= 200 && r.status < 300) {
      this.finish(written(p));
      return;
    }
    const code = r.error?.code ?? `http${r.status}`;
    const { requestId, graphMessage: message } = r.error ?? {};
    if (r.status === 401) {
      this.onUnauthorized(p, r, sentWith, this.toWrite);
      return;
    }
    if (r.status === 429) {
      this.retryWrite(p, { kind: "unknown", status: 429, code, requestId }, r.error?.retryAfterMs);
      return;
    }
    if (r.status === 403) {
      // Refused for this user, or for everyone: reading the user's methods tells (see onRead).
      p.reconcile = { kind: "forbidden", status: 403, code, message, requestId };
      this.toRead.push(p);
      return;
    }
    if (r.status === 409 && code === "phoneNumberNotUnique") {
      p.reconcile = { kind: "notUnique", status: r.status, code, requestId };
    } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 424) {
      p.reconcile = { kind: "refused", status: r.status, code, message, requestId };
    } else {
      p.reconcile = { kind: "unknown", status: r.status, code, requestId };
    }
    // What a write did may take a few seconds to show in reads.
    this.toRead.defer(p, this.now() + this.readAfterWriteMs);
  }

  private async sendReads(batch: Pending[], startedAt: number): Promise<void> {
    const { results, sentWith } = await this.sendEach(batch, readRequest, startedAt);
    if (results instanceof GraphRequestError) {
      for (const p of batch) {
        this.retryRead(p, results.retryAfterMs);
      }
      return;
    }
    batch.forEach((p, i) => this.onRead(p, results[i] as BatchResult, sentWith));
  }

  /** What one read's answer means for its user. */
  private onRead(p: Pending, r: BatchResult, sentWith: number): void {
    if (r.status === 401) {
      this.onUnauthorized(p, r, sentWith, this.toRead);
      return;
    }
    if (r.status === 403) {
      // Even reading the user's methods is refused: the app lacks the permission.
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
      // The read itself failed: read again later, within the same attempt budget.
      this.retryRead(p, r.error?.retryAfterMs);
      return;
    }
    const why = p.reconcile ?? { kind: "unknown" as const, status: 0, code: "unknown" };
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
      this.retryWrite(p, why);
      return;
    }
    const { status, message, requestId } = why;
    // A user Graph refuses to let this app change (a restricted management administrative unit).
    const code = why.kind === "forbidden" ? "forbidden" : why.code;
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
