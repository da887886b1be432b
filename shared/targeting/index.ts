/**
 * Targeting: which users get a phone method written, and which are skipped and why.
 */
export {
  decideUser,
  REPORT_MOBILE_METHOD,
  SKIP_PRECEDENCE,
  type Decision,
  type DirectoryUser,
  type ExistingPhoneMethod,
  type RegistrationRow,
  type SkipReason,
  type TargetingSettings,
  type UserContext,
} from "./decide.js";
