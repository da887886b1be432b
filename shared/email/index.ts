/** Email addresses for the email authentication method. */
export {
  firstEntry,
  maskEmailAddress,
  normalizeEmailAddress,
  tenantDomainOf,
  type AddressFailureCode,
  type AddressResult,
} from "./address.js";
