/**
 * The intermittent licence 403 of the registration report: a premium tenant's report sometimes
 * answers one page with `Authentication_RequestFromNonPremiumTenantOrB2CTenant`, and the same
 * request retried succeeds (reported on licensed tenants, docs-contrib#8777). Either the N-th
 * report page request fails once, or pages fail at a rate, never twice in a row for one URL.
 */
import type { EmulatorConfig, RouteKind } from "../config.js";
import type { GraphRequest } from "../request.js";
import { nonPremiumTenant } from "./auth.js";
import type { Prng } from "./random.js";

/** Counts report page requests and refuses the configured ones. */
export class IntermittentReportLicence {
  /** Report page requests since the start or since `reportLicence403OnRequest` last changed. */
  private pages = 0;
  /** URLs refused last time they came: their retry passes. */
  private readonly refused = new Set<string>();

  /**
   * Follows a config change: a new `reportLicence403OnRequest` counts from the change.
   *
   * @param prev - the config before
   * @param next - the config now in effect
   */
  configChanged(prev: EmulatorConfig, next: EmulatorConfig): void {
    if (next.reportLicence403OnRequest !== prev.reportLicence403OnRequest) {
      this.pages = 0;
    }
  }

  /**
   * Throws the licence 403 when this report page request is one to refuse.
   *
   * @param kind - the route kind (only `report.list` pages are refused)
   * @param req - the request (its path and query name the page)
   * @param config - `reportLicence403OnRequest`, `reportLicence403Rate`
   * @param prng - the fault-and-latency PRNG (not drawn from when the rate is 0)
   */
  check(kind: RouteKind, req: GraphRequest, config: EmulatorConfig, prng: Prng): void {
    if (kind !== "report.list") {
      return;
    }
    this.pages++;
    const url = `${req.path}?${req.query.toString()}`;
    if (this.refused.delete(url)) {
      return;
    }
    const nth =
      config.reportLicence403OnRequest > 0 && this.pages === config.reportLicence403OnRequest;
    const drawn = config.reportLicence403Rate > 0 && prng.next() < config.reportLicence403Rate;
    if (nth || drawn) {
      this.refused.add(url);
      throw nonPremiumTenant();
    }
  }
}
