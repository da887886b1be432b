/**
 * Log lines in the original runbook's format, so Log Analytics queries and workbooks written for
 * it keep working. Phone numbers in them are masked unless `LOG_PHONE_NUMBERS=full`.
 */
import { maskEmailAddress } from "../email/index.js";
import { formatForLog, type PhoneLogMode } from "../phone/index.js";
import type { Method } from "../settings/index.js";

/** `Runstate ...`: which users the run considers. */
export function runstateLine(stagingGroupName: string | undefined): string {
  return stagingGroupName
    ? `Runstate is using staging group: ${stagingGroupName}`
    : "Runstate is Processing all users";
}

/** `Stats: Number of users without MFA is: N`. */
export function usersWithoutMfaLine(count: number): string {
  return `Stats: Number of users without MFA is: ${count}`;
}

/** `Stats: Number of targeted users without MFA and a mobile number in AAD is: N`. */
export function targetedUsersLine(count: number): string {
  return `Stats: Number of targeted users without MFA and a mobile number in AAD is: ${count}`;
}

/** The runbook's line when nothing is to be written. */
export const NO_ELIGIBLE_USERS_LINE = "There are no eligible users for this run. Exit Script";

/** `Status: Number Format error; ...` for a number that cannot be used. */
export function numberFormatErrorLine(
  upn: string,
  rawMobilePhone: string | null | undefined,
  mode: PhoneLogMode,
): string {
  return `Status: Number Format error; User: ${upn}; Message: MobilePhone ${formatForLog(rawMobilePhone, mode)}`;
}

/** The word a provisioned line names each method's value with (the mobile phone's as always). */
const VALUE_WORDS: Record<Method, string> = {
  mobile: "MobilePhone",
  office: "OfficePhone",
  email: "Email",
};

/**
 * `Status: MFA Phonemethod provisioned successfully; ...`. An address is masked like a number
 * unless `LOG_PHONE_NUMBERS=full`.
 */
export function provisionedLine(
  upn: string,
  value: string,
  mode: PhoneLogMode,
  method: Method = "mobile",
): string {
  const shown =
    method === "email"
      ? mode === "full"
        ? value
        : maskEmailAddress(value)
      : formatForLog(value, mode);
  return `Status: MFA Phonemethod provisioned successfully; User: ${upn}; Message: ${VALUE_WORDS[method]} ${shown}`;
}

/** `Status: MFA Phonemethod provisioning failed; ...` with Graph's `code: message`. */
export function provisioningFailedLine(upn: string, code: string, message: string): string {
  return `Status: MFA Phonemethod provisioning failed; User: ${upn}; Message: ${code}: ${message}`;
}

/** `Stats: N users have been processed successfully.` */
export function processedLine(count: number): string {
  return `Stats: ${count} users have been processed successfully.`;
}
