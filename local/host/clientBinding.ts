/**
 * Client functions (HTTP and timer functions with a `durableClient` input): the binding value
 * the Durable extension hands them, the management links it contains, and invoking such a
 * function through the worker invocation model.
 */
import { CLIENT_USER } from "./access.js";
import type { HttpContext } from "./httpCommon.js";
import { invokeFunction, type RegisteredFunction, type RpcTypedData } from "./registry.js";

/**
 * The `durableClient` binding value the Durable extension hands to client functions.
 *
 * @param baseUrl - host base URL, e.g. `http://127.0.0.1:7071`
 * @param taskHubName - task hub name
 * @param token - the host's access token, when it requires one: the client's RPC calls carry it
 *   in the RPC base URL's userinfo, which `durable-functions`' HTTP client sends as Basic (it
 *   takes no headers). Only the function sees it; the management links handed out do not hold it.
 */
export function clientBindingData(
  baseUrl: string,
  taskHubName: string,
  token?: string,
): Record<string, unknown> {
  const webhooks = `${baseUrl}/runtime/webhooks/durabletask`;
  const q = `taskHub=${encodeURIComponent(taskHubName)}&connection=Storage&code=local`;
  const inst = `${webhooks}/instances/INSTANCEID`;
  return {
    taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?${q}`,
      createAndWaitOnNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
    },
    managementUrls: {
      id: "INSTANCEID",
      statusQueryGetUri: `${inst}?${q}`,
      sendEventPostUri: `${inst}/raiseEvent/{eventName}?${q}`,
      terminatePostUri: `${inst}/terminate?reason={text}&${q}`,
      rewindPostUri: `${inst}/rewind?reason={text}&${q}`,
      purgeHistoryDeleteUri: `${inst}?${q}`,
      restartPostUri: `${inst}/restart?${q}`,
      suspendPostUri: `${inst}/suspend?reason={text}&${q}`,
      resumePostUri: `${inst}/resume?reason={text}&${q}`,
    },
    baseUrl: webhooks,
    requiredQueryStringParameters: "code=local",
    rpcBaseUrl: `${withUserinfo(baseUrl, token)}/durabletask/`,
    httpBaseUrl: webhooks,
  };
}

function withUserinfo(baseUrl: string, token: string | undefined): string {
  if (token === undefined) {
    return baseUrl;
  }
  const url = new URL(baseUrl);
  url.username = CLIENT_USER;
  url.password = token;
  return url.href.replace(/\/$/, "");
}

/**
 * The management links of one instance (the check-status payload).
 *
 * @param baseUrl - host base URL
 * @param taskHubName - task hub name
 * @param id - instance id
 */
export function managementPayload(
  baseUrl: string,
  taskHubName: string,
  id: string,
): Record<string, string> {
  const urls = clientBindingData(baseUrl, taskHubName).managementUrls as Record<string, string>;
  const out: Record<string, string> = { id };
  for (const [k, v] of Object.entries(urls)) {
    if (k !== "id") {
      out[k] = v.replace("INSTANCEID", encodeURIComponent(id));
    }
  }
  return out;
}

function clientBindingName(fn: RegisteredFunction): string | undefined {
  return Object.entries(fn.metadata.bindings).find(
    ([, b]) =>
      b.direction === "in" && (b.type === "durableClient" || b.type === "orchestrationClient"),
  )?.[0];
}

/**
 * Invokes a client function (HTTP or timer) through the worker invocation model, adding the
 * `durableClient` binding value when the function declares one.
 *
 * @param ctx - host context
 * @param fn - the function
 * @param trigger - RPC data of the trigger
 */
export async function invokeClientFunction(
  ctx: HttpContext,
  fn: RegisteredFunction,
  trigger: RpcTypedData,
): Promise<RpcTypedData | null | undefined> {
  const inputs: Record<string, RpcTypedData | undefined> = { [fn.triggerBindingName]: trigger };
  const clientName = clientBindingName(fn);
  if (clientName) {
    inputs[clientName] = {
      string: JSON.stringify(clientBindingData(ctx.baseUrl(), ctx.taskHubName, ctx.access?.token)),
    };
  }
  const response = await invokeFunction(fn, inputs);
  return response.returnValue;
}
