/**
 * Phone numbers: normalisation to Graph's format, comparison, and masking for logs.
 */
export {
  normalizePhoneNumber,
  type NormalizeFailureCode,
  type NormalizeOptions,
  type NormalizeResult,
} from "./normalize.js";
export { maskPhoneNumber, formatForLog, type PhoneLogMode } from "./mask.js";
export { phoneNumberKey, samePhoneNumber } from "./compare.js";
