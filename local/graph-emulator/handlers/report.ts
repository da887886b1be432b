/**
 * `/reports/authenticationMethods/userRegistrationDetails`: the registration report, derived from
 * the tenant with the configured lag; disabled users and users the report has not caught up with
 * (fixture `notInReport`) have no row; `$skip` is refused.
 */
import {
  REPORT_PROPERTIES,
  compileReportFilter,
  decodeSkipToken,
  encodeSkipToken,
  nextLink,
  parseSelect,
  parseTop,
  project,
} from "../queries.js";
import { GraphHttpError, resourceNotFound } from "../response.js";
import type { UserRec } from "../store.js";
import { ok, reportLagMs, type Handler } from "./context.js";

const REPORT_PATH = "reports/authenticationMethods/userRegistrationDetails";
const REPORT_TYPE = "microsoft.graph.userRegistrationDetails";

/** Whether the report has a row for the user: disabled users and those it has not caught up with have none. */
function hasRow(u: UserRec): boolean {
  return u.accountEnabled && !u.notInReport;
}

/** `GET .../userRegistrationDetails` with `$top`, `$select`, `$filter` and next links. */
export const listReport: Handler = (ctx, req) => {
  const q = req.query;
  const config = ctx.config;
  if (q.has("$skip")) {
    throw new GraphHttpError(
      400,
      "BadRequest",
      "The query specified in the URI is not valid. Query option 'Skip' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.",
    );
  }
  const top = parseTop(q.get("$top"), config.reportDefaultTop, config.reportMaxTop, "BadRequest");
  const select = parseSelect(q.get("$select"), REPORT_PROPERTIES, REPORT_TYPE);
  const rawFilter = q.get("$filter");
  const rowFilter = rawFilter !== null ? compileReportFilter(rawFilter) : () => true;
  const lag = reportLagMs(config);
  const store = ctx.store;
  const shown = (u: UserRec): boolean =>
    hasRow(u) && rowFilter(store.reportRow(u, lag, config.ssprMethodsRequired));
  const found: Record<string, unknown>[] = [];
  const users = store.users;
  let i = decodeSkipToken(q.get("$skiptoken"), "report");
  for (; i < users.length && found.length < top; i++) {
    const u = users[i] as UserRec;
    if (!hasRow(u)) {
      continue;
    }
    const row = store.reportRow(u, lag, config.ssprMethodsRequired);
    if (rowFilter(row)) {
      found.push(select ? project({ ...row }, select) : { ...row });
    }
  }
  const body: Record<string, unknown> = {
    "@odata.context": `${ctx.root}/$metadata#${REPORT_PATH}`,
  };
  // Looks ahead so the last page carries no nextLink.
  let more = false;
  for (let j = i; j < users.length && !more; j++) {
    more = shown(users[j] as UserRec);
  }
  if (more) {
    body["@odata.nextLink"] = nextLink(ctx.root, REPORT_PATH, q, encodeSkipToken("report", i));
  }
  body.value = found;
  return ok(body);
};

/** `GET .../userRegistrationDetails/{user id}` with `$select`. */
export const getReportRow: Handler = (ctx, req, params) => {
  const userId = params.user ?? "";
  const u = ctx.store.findUser(userId);
  if (!u || !hasRow(u) || u.id.toLowerCase() !== userId.toLowerCase()) {
    throw resourceNotFound(userId);
  }
  const select = parseSelect(req.query.get("$select"), REPORT_PROPERTIES, REPORT_TYPE);
  const row = {
    ...ctx.store.reportRow(u, reportLagMs(ctx.config), ctx.config.ssprMethodsRequired),
  };
  return ok({
    "@odata.context": `${ctx.root}/$metadata#${REPORT_PATH}/$entity`,
    ...(select ? project(row, select) : row),
  });
};
