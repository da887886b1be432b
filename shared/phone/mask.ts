/**
 * Masking phone numbers for logs: enough to tell two numbers apart when debugging (country code,
 * last two digits), not enough to call anyone.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

import { canonicalText } from "./text.js";

/** How phone numbers appear in log lines (`LOG_PHONE_NUMBERS`). */
export type PhoneLogMode = "masked" | "full";

const GRAPH_FORM = /^\+(\d{1,3}) (\d+)(?:x\d+)?$/;
const E164_FORM = /^\+\d{4,15}(?:x\d+)?$/;
const KEPT_DIGITS = 2;

function maskDigits(digits: string): string {
  const kept = Math.min(KEPT_DIGITS, Math.max(0, digits.length - 1));
  return "*".repeat(digits.length - kept) + digits.slice(digits.length - kept);
}

/**
 * Masks a number for logs: the country code and the last two digits stay, the rest become `*`
 * (`+45 20123456` and `+4520123456` both give `+45 ******56`); an extension is dropped. Anything
 * else (raw, unparseable input) keeps its shape with every digit masked except the last two.
 * A number of one or two digits shows none of them.
 *
 * @param e164OrGraph - a number in Graph's or E.164 format, or any raw text.
 * @returns the masked text. Never throws.
 */
export function maskPhoneNumber(e164OrGraph: string): string {
  try {
    const text = canonicalText(String(e164OrGraph ?? ""));
    const graph = GRAPH_FORM.exec(text);
    if (graph) {
      return `+${graph[1]} ${maskDigits(graph[2] ?? "")}`;
    }
    if (E164_FORM.test(text)) {
      const parsed = parsePhoneNumberFromString(text.replace(/x\d+$/, ""));
      if (parsed) {
        return `+${parsed.countryCallingCode} ${maskDigits(parsed.nationalNumber as string)}`;
      }
    }
    return maskRaw(text);
  } catch {
    return "***";
  }
}

function maskRaw(text: string): string {
  const total = text.replace(/\D/g, "").length;
  const kept = Math.min(KEPT_DIGITS, Math.max(0, total - 1));
  let seen = 0;
  return text.replace(/\d/g, (d) => {
    seen += 1;
    return seen > total - kept ? d : "*";
  });
}

/**
 * The form of a number to put in a log line, by the `LOG_PHONE_NUMBERS` setting.
 *
 * @param raw - the number or raw field; `null`/`undefined` give an empty string.
 * @param mode - `masked` (the default setting) or `full`.
 * @returns the text for the log line. Never throws.
 */
export function formatForLog(raw: string | null | undefined, mode: PhoneLogMode): string {
  if (raw === null || raw === undefined) {
    return "";
  }
  return mode === "full" ? String(raw) : maskPhoneNumber(raw);
}
