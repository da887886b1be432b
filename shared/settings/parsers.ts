/**
 * Parsers of setting values (zod schemas). Each takes the raw text (trimmed; undefined when unset
 * and without a default) and fails with a message that completes "'NAME' …" and never quotes the
 * value, so a secret cannot leak into an error.
 */
import { z } from "zod";
import { parseGraphRoot } from "../graph/clouds.js";

/** Free text; unset stays undefined. */
export const text: z.ZodType<string | undefined> = z.string().optional();

/** `true`/`false` (also `1`/`0`, `yes`/`no`), in any case. */
export const onOff: z.ZodType<boolean> = z.stringbool({
  truthy: ["true", "1", "yes"],
  falsy: ["false", "0", "no"],
  error: "must be true or false",
});

/**
 * One of a fixed set of words, matched in any case and returned as spelled in `values`.
 *
 * @param values - the allowed words.
 */
export function oneOf<const T extends readonly [string, ...string[]]>(
  values: T,
): z.ZodType<T[number]> {
  return z.string().transform((value, ctx): T[number] => {
    const match = values.find((v) => v.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      ctx.addIssue({ code: "custom", message: `must be one of ${values.join(", ")}` });
      return z.NEVER;
    }
    return match;
  });
}

/**
 * A whole number, 0 or more.
 *
 * @param problem - the message when it is not one (it says what 0 means).
 */
export function wholeNumber(problem: string): z.ZodType<number> {
  return z.string().regex(/^\d+$/, problem).transform(Number).refine(Number.isSafeInteger, problem);
}

/**
 * A positive number of hours (fractions allowed, so a test or a demo can wait seconds).
 *
 * @param problem - the message when it is not.
 */
export function hours(problem: string): z.ZodType<number> {
  return z
    .string()
    .regex(/^\d+(\.\d+)?$/, problem)
    .transform(Number)
    .refine((h) => h > 0 && h <= 24 * 365, problem);
}

/** Comma-separated items, trimmed, empty ones dropped; unset is the empty list. */
export const commaList: z.ZodType<string[]> = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== ""),
  );

/**
 * Comma-separated words of a fixed set, matched in any case, each at most once; returned in the
 * order of `values` (so `email,mobile` and `mobile,email` are the same setting). Empty is refused.
 *
 * @param values - the allowed words, in their canonical order.
 */
export function commaSetOf<const T extends readonly [string, ...string[]]>(
  values: T,
): z.ZodType<T[number][]> {
  return z.string().transform((value, ctx): T[number][] => {
    const items = value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    const picked = new Set<T[number]>();
    for (const item of items) {
      const match = values.find((v) => v.toLowerCase() === item.toLowerCase());
      if (match === undefined) {
        ctx.addIssue({ code: "custom", message: `must list some of ${values.join(", ")}` });
        return z.NEVER;
      }
      picked.add(match);
    }
    if (picked.size === 0) {
      ctx.addIssue({ code: "custom", message: `must list at least one of ${values.join(", ")}` });
      return z.NEVER;
    }
    return values.filter((v) => picked.has(v));
  });
}

/** An ISO 3166-1 alpha-2 region, returned upper case; unset stays undefined. */
export const region: z.ZodType<string | undefined> = z
  .string()
  .optional()
  .transform((value) => value?.toUpperCase())
  .refine(
    (value) => value === undefined || /^[A-Z]{2}$/.test(value),
    "must be an ISO 3166-1 alpha-2 region such as DK",
  );

/**
 * The Graph root: an https origin, returned without a trailing slash or a `/v1.0` suffix. Which
 * hosts may get a token is checked with the settings it depends on (`load.ts`).
 */
export const graphRoot: z.ZodType<string> = z.string().transform((value, ctx) => {
  const parsed = parseGraphRoot(value);
  if ("problem" in parsed) {
    ctx.addIssue({ code: "custom", message: parsed.problem });
    return z.NEVER;
  }
  return parsed.root;
});

/** An NCRONTAB expression (six fields, seconds first), as the Functions timer takes it. */
export const ncrontab: z.ZodType<string> = z
  .string()
  .refine(
    (value) => value.split(/\s+/).length === 6,
    "must be an NCRONTAB expression with six fields (second minute hour day month weekday)",
  );
