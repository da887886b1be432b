/**
 * Request metrics: totals, per route, and a per-second time series for charting rates.
 */

/** Counters of one route kind. */
export interface RouteMetrics {
  requests: number;
  throttled: number;
  writes: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
}

/** One second of real time. */
export interface MetricsSecond {
  /** Seconds since the metrics were (re)started. */
  t: number;
  requests: number;
  throttled: number;
  writes: number;
}

/** Requests answered by an outage. */
export interface OutageMetrics {
  /** Every top-level request, `$batch` envelopes included (their items never ran). */
  requests: number;
  /** `$batch` envelopes among them. */
  batches: number;
  /** Connections reset among them (`reset` mode). */
  resets: number;
}

/** What `GET {adminUrl}/metrics` returns. */
export interface EmulatorMetrics {
  /** Every Graph request; a `$batch` item counts as one, the envelope not. */
  requests: number;
  /** 429 answers. */
  throttled: number;
  /** State-changing phone-method requests (incl. a 409 phoneNumberNotUnique that created it). */
  writes: number;
  /** 5xx answers (injected or not). */
  serverErrors: number;
  /** Connections reset on purpose. */
  resets: number;
  /** 401 answers. */
  unauthorized: number;
  /** `$batch` envelopes. */
  batches: number;
  /** Tokens issued by the identity endpoints. */
  tokensIssued: number;
  /**
   * Graph requests that arrived during an outage; they are counted only here, not in the
   * other totals, `byRoute` or `timeSeries`.
   */
  outage: OutageMetrics;
  /** Per route kind. */
  byRoute: Record<string, RouteMetrics>;
  /** ISO time the metrics started. */
  since: string;
  /** Per second of real time since `since`; seconds without traffic are omitted. */
  timeSeries: MetricsSecond[];
}

/** Mutable metrics collector. */
export class MetricsCollector {
  private m: EmulatorMetrics = MetricsCollector.empty();
  private startMs = Date.now();
  private readonly series = new Map<number, MetricsSecond>();

  private static empty(): EmulatorMetrics {
    return {
      requests: 0,
      throttled: 0,
      writes: 0,
      serverErrors: 0,
      resets: 0,
      unauthorized: 0,
      batches: 0,
      tokensIssued: 0,
      outage: { requests: 0, batches: 0, resets: 0 },
      byRoute: {},
      since: new Date().toISOString(),
      timeSeries: [],
    };
  }

  private second(): MetricsSecond {
    const t = Math.floor((Date.now() - this.startMs) / 1000);
    let s = this.series.get(t);
    if (!s) {
      s = { t, requests: 0, throttled: 0, writes: 0 };
      this.series.set(t, s);
    }
    return s;
  }

  /**
   * Records one answered (or reset) Graph request.
   *
   * @param route - route kind
   * @param status - HTTP status, 0 for a reset connection
   * @param write - whether it changed state
   */
  record(route: string, status: number, write: boolean): void {
    const m = this.m;
    const r = (m.byRoute[route] ??= { requests: 0, throttled: 0, writes: 0, statuses: {} });
    const sec = this.second();
    m.requests++;
    r.requests++;
    sec.requests++;
    r.statuses[String(status)] = (r.statuses[String(status)] ?? 0) + 1;
    if (status === 429) {
      m.throttled++;
      r.throttled++;
      sec.throttled++;
    } else if (status >= 500) {
      m.serverErrors++;
    } else if (status === 401) {
      m.unauthorized++;
    } else if (status === 0) {
      m.resets++;
    }
    if (write) {
      m.writes++;
      r.writes++;
      sec.writes++;
    }
  }

  /** Counts a `$batch` envelope. */
  recordBatch(): void {
    this.m.batches++;
  }

  /**
   * Counts a request an outage answered.
   *
   * @param batch - whether it was a `$batch` envelope
   * @param reset - whether its connection was reset
   */
  recordOutage(batch: boolean, reset: boolean): void {
    const o = this.m.outage;
    o.requests++;
    o.batches += batch ? 1 : 0;
    o.resets += reset ? 1 : 0;
  }

  /** Counts an issued token. */
  recordToken(): void {
    this.m.tokensIssued++;
  }

  /** A deep copy of the current metrics. */
  snapshot(): EmulatorMetrics {
    const copy = structuredClone(this.m);
    copy.timeSeries = [...this.series.values()].sort((a, b) => a.t - b.t).map((s) => ({ ...s }));
    return copy;
  }

  /** Starts over from zero. */
  reset(): void {
    this.m = MetricsCollector.empty();
    this.startMs = Date.now();
    this.series.clear();
  }
}
