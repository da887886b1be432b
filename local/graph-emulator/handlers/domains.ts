/**
 * `/domains` and `/domains/{id}`: the tenant's initial domain (verified, the default unless
 * another is) and the fixture's `tenant.domains`, in the documented `domain` shape, with `$select`.
 */
import { parseSelect, project, selectContext } from "../queries.js";
import { GraphHttpError, resourceNotFound } from "../response.js";
import type { TenantStore } from "../store.js";
import { ok, type Handler } from "./context.js";

const DOMAIN_PROPERTIES = [
  "id",
  "authenticationType",
  "availabilityStatus",
  "isAdminManaged",
  "isDefault",
  "isInitial",
  "isRoot",
  "isVerified",
  "passwordNotificationWindowInDays",
  "passwordValidityPeriodInDays",
  "supportedServices",
  "state",
];

/** Every domain of the tenant as Graph returns it, the initial one first. */
function domainObjects(store: TenantStore): Record<string, unknown>[] {
  const anotherDefault = store.domains.some((d) => d.isDefault === true);
  const all = [
    {
      id: store.domain,
      isVerified: true,
      isDefault: !anotherDefault,
      isInitial: true,
      type: "Managed",
    },
    ...store.domains.map((d) => ({
      id: d.id,
      isVerified: d.isVerified ?? true,
      isDefault: d.isDefault ?? false,
      isInitial: false,
      type: d.authenticationType ?? "Managed",
    })),
  ];
  const names = all.map((d) => d.id.toLowerCase());
  return all.map((d) => ({
    id: d.id,
    authenticationType: d.type,
    availabilityStatus: null,
    isAdminManaged: true,
    isDefault: d.isDefault,
    isInitial: d.isInitial,
    // A subdomain of another domain of the tenant is not a root domain.
    isRoot: !names.some((n) => d.id.toLowerCase().endsWith(`.${n}`)),
    isVerified: d.isVerified,
    passwordNotificationWindowInDays: 14,
    passwordValidityPeriodInDays: 2147483647,
    supportedServices: d.isVerified ? ["Email", "OfficeCommunicationsOnline"] : [],
    state: null,
  }));
}

/** `GET /domains` with `$select`; query options Graph would apply but the emulator does not are a 400. */
export const listDomains: Handler = (ctx, req) => {
  const q = req.query;
  for (const option of ["$filter", "$top", "$skip", "$orderby", "$search", "$expand"]) {
    if (q.has(option)) {
      throw new GraphHttpError(
        400,
        "Request_UnsupportedQuery",
        `GraphEmulator: '${option}' is not supported on /domains; the list is short, filter it yourself.`,
      );
    }
  }
  const select = parseSelect(q.get("$select"), DOMAIN_PROPERTIES, "microsoft.graph.domain");
  return ok({
    "@odata.context": `${ctx.root}/$metadata#domains${selectContext(select)}`,
    value: domainObjects(ctx.store).map((d) => (select ? project(d, select) : d)),
  });
};

/** `GET /domains/{id}` with `$select`. */
export const getDomain: Handler = (ctx, req, params) => {
  const id = params.domain ?? "";
  const domain = domainObjects(ctx.store).find(
    (d) => (d.id as string).toLowerCase() === id.toLowerCase(),
  );
  if (!domain) {
    throw resourceNotFound(id);
  }
  const select = parseSelect(req.query.get("$select"), DOMAIN_PROPERTIES, "microsoft.graph.domain");
  return ok({
    "@odata.context": `${ctx.root}/$metadata#domains${selectContext(select)}/$entity`,
    ...(select ? project(domain, select) : domain),
  });
};
