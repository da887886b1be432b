/**
 * The write body of an authentication method (phone, email): a JSON object of the type's writable
 * properties, its required strings, and values checked against a pattern the config sets.
 */
import type { GraphRequest } from "../request.js";
import { GraphHttpError } from "../response.js";

/**
 * The JSON object a write carries, or Graph's 400 for a missing, malformed or non-object body.
 *
 * @param req - the request
 */
export function bodyObject(req: GraphRequest): Record<string, unknown> {
  if (req.bodyMalformed || req.body === undefined) {
    throw new GraphHttpError(
      400,
      "BadRequest",
      "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
    );
  }
  const body = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GraphHttpError(400, "badRequest", "The request body must be a JSON object.");
  }
  return body as Record<string, unknown>;
}

/**
 * Refuses a write body property the type does not have (or has read-only); `@odata.type` is
 * always accepted.
 *
 * @param body - the write body
 * @param type - the type's name for the message, e.g. `microsoft.graph.emailAuthenticationMethod`
 * @param writable - the properties a write may set
 * @param readOnly - properties the type has but a write may not set
 */
export function checkBodyProperties(
  body: Record<string, unknown>,
  type: string,
  writable: readonly string[],
  readOnly: readonly string[] = [],
): void {
  for (const key of Object.keys(body)) {
    if (readOnly.includes(key)) {
      throw new GraphHttpError(
        400,
        "badRequest",
        `Property '${key}' is read-only and cannot be set.`,
      );
    }
    if (key !== "@odata.type" && !writable.includes(key)) {
      throw new GraphHttpError(
        400,
        "badRequest",
        `Property '${key}' does not exist on type '${type}'.`,
      );
    }
  }
}

/**
 * A write body's required string property, or Graph's 400 naming it when missing or empty.
 *
 * @param body - the write body
 * @param key - the property
 */
export function requiredString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== "string" || value === "") {
    throw new GraphHttpError(400, "badRequest", `The property '${key}' is required.`);
  }
  return value;
}

/** A pattern a config key gives as regular-expression source, compiled again only when it changes. */
export class ConfiguredPattern {
  private compiled: RegExp | undefined;

  /**
   * Whether a value matches the pattern.
   *
   * @param source - the config's current pattern source
   * @param value - the value to check
   */
  test(source: string, value: string): boolean {
    if (this.compiled?.source !== source) {
      this.compiled = new RegExp(source);
    }
    return this.compiled.test(value);
  }
}
