/**
 * Graph-shaped responses: the answer type, the error envelope and request ids.
 */
import { randomUUID } from "node:crypto";

/** A response computed by the emulator before it is written to a socket or a batch item. */
export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON body, or undefined for an empty body (204). */
  body?: unknown;
  /** Set when the connection should be reset instead of answered. */
  reset?: boolean;
}

/** Content type Graph uses on successful JSON payloads. */
export const ODATA_JSON =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/** An error thrown inside route handlers and turned into a Graph error answer. */
export class GraphHttpError extends Error {
  /**
   * @param status - HTTP status
   * @param code - Graph `error.code`
   * @param message - Graph `error.message`
   * @param headers - extra response headers
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GraphHttpError";
  }
}

/**
 * The error a config key sets for a behaviour Microsoft does not document.
 *
 * @param e - the configured status, code and message
 * @param headers - extra response headers
 */
export function configuredError(
  e: { status: number; code: string; message: string },
  headers: Record<string, string> = {},
): GraphHttpError {
  return new GraphHttpError(e.status, e.code, e.message, headers);
}

/**
 * The directory's 404 for an object that is not there.
 *
 * @param id - the id (or UPN) asked for
 */
export function resourceNotFound(id: string): GraphHttpError {
  return new GraphHttpError(
    404,
    "Request_ResourceNotFound",
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

/** The 404 of an authentication method the user does not hold (or an unknown method id). */
export function methodNotFound(): GraphHttpError {
  return new GraphHttpError(
    404,
    "itemNotFound",
    "The requested authentication method was not found for the user.",
  );
}

/**
 * Builds a Graph error answer with the documented envelope.
 *
 * @param status - HTTP status
 * @param code - Graph `error.code`
 * @param message - Graph `error.message`
 * @param requestId - the request id also sent as the `request-id` header
 * @param clientRequestId - echoed from the request, or the request id
 * @param headers - extra headers
 * @returns the response
 */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  requestId: string,
  clientRequestId: string | undefined,
  headers: Record<string, string> = {},
): GraphResponse {
  const innerError: Record<string, string> = {
    date: new Date().toISOString().replace(/\.\d{3}Z$/, ""),
    "request-id": requestId,
    "client-request-id": clientRequestId ?? requestId,
  };
  if (status === 429) {
    innerError.code = "429";
    innerError.message = "Please retry after";
    innerError.status = "429";
  }
  return {
    status,
    headers: {
      "Content-Type": "application/json",
      "request-id": requestId,
      "client-request-id": clientRequestId ?? requestId,
      ...headers,
    },
    body: { error: { code, message, innerError } },
  };
}

/** A new request id (GUID). */
export function newRequestId(): string {
  return randomUUID();
}
