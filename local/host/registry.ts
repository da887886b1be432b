/**
 * Stand-in for the `@azure/functions-core` module the Node worker injects, and the
 * process-wide registry of function registrations it collects.
 *
 * Rule for several hosts in one process: Node caches app modules, so importing a module a
 * second time does not register its functions again. The registry is therefore filled once
 * per process (it lives on `globalThis`, so even a second copy of this file shares it) and
 * every host sees every function registered so far. Registering a name again replaces it.
 */
import Module from "node:module";
import { randomUUID } from "node:crypto";

/** RPC typed data, as the worker exchanges it with `@azure/functions`. */
export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  int?: number;
  double?: number;
  http?: RpcHttpData;
}

/** RPC HTTP data, request or response. */
export interface RpcHttpData {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: RpcTypedData;
  statusCode?: string;
}

/** One binding of a function's metadata. */
export interface BindingMetadata {
  type: string;
  direction: "in" | "out";
  name?: string;
  route?: string;
  methods?: string[];
  authLevel?: string;
  schedule?: string;
  runOnStartup?: boolean;
}

/** What `registerFunction` receives from `@azure/functions`. */
export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingMetadata>;
}

/** A registered function: metadata plus the real handler `@azure/functions` built. */
export interface RegisteredFunction {
  name: string;
  trigger: string;
  triggerBindingName: string;
  metadata: FunctionMetadata;
  callback: (...args: unknown[]) => unknown;
}

interface InvocationResponse {
  returnValue?: RpcTypedData | null;
  outputData?: { name: string; data: RpcTypedData }[];
}

interface InvocationModelLike {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: unknown): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<InvocationResponse>;
}

interface ProgrammingModelLike {
  getInvocationModel(coreCtx: unknown): InvocationModelLike;
}

/** Receives every log line a function writes through its context or the library. */
export type LogSink = (level: string, category: string, message: string) => void;

interface RegistryState {
  functions: Map<string, RegisteredFunction>;
  model?: ProgrammingModelLike;
  hooked: boolean;
  sink: LogSink;
}

const KEY = Symbol.for("mfa-prepopulate.localHost.registry");
const globals = globalThis as unknown as Record<symbol, RegistryState | undefined>;
const state: RegistryState = (globals[KEY] ??= {
  functions: new Map(),
  hooked: false,
  sink: () => undefined,
});

const TRIGGER_TYPES = ["orchestrationTrigger", "activityTrigger", "entityTrigger"];

function isTriggerType(type: string): boolean {
  return type.toLowerCase().endsWith("trigger") || TRIGGER_TYPES.includes(type);
}

const fakeCore = {
  version: "3.10.1",
  hostVersion: "4.1000.0",
  setProgrammingModel(model: ProgrammingModelLike): void {
    state.model = model;
  },
  getProgrammingModel(): ProgrammingModelLike | undefined {
    return state.model;
  },
  registerFunction(
    metadata: FunctionMetadata,
    callback: (...args: unknown[]) => unknown,
  ): { dispose(): void } {
    const entry = Object.entries(metadata.bindings).find(
      ([, b]) => b.direction === "in" && isTriggerType(b.type),
    );
    if (!entry) {
      throw new Error(`LocalHost: function '${metadata.name}' has no trigger binding.`);
    }
    state.functions.set(metadata.name, {
      name: metadata.name,
      trigger: entry[1].type,
      triggerBindingName: entry[0],
      metadata,
      callback,
    });
    return { dispose: () => state.functions.delete(metadata.name) };
  },
  // Hooks (appStart, preInvocation ...) are accepted so apps load, but the host does not run them.
  registerHook(): { dispose(): void } {
    return { dispose: () => undefined };
  },
  log(level: string, category: string, message: string): void {
    state.sink(level, category, message);
  },
};

/**
 * Installs the `Module._load` hook that answers `require("@azure/functions-core")` with the
 * fake core, as the worker does. Idempotent; must run before the first `app.*` call in the
 * process, because `@azure/functions` caches a failed lookup and then stays in test mode.
 */
export function installCoreHook(): void {
  if (state.hooked) {
    return;
  }
  const loader = Module as unknown as {
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  };
  const original = loader._load;
  loader._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
    if (request === "@azure/functions-core") {
      return fakeCore;
    }
    return original.call(this, request, parent, isMain);
  };
  state.hooked = true;
}

/**
 * Routes function and library log lines to a sink (the last host started wins).
 *
 * @param sink - receives level, category (`user`/`system`) and the message
 */
export function setLogSink(sink: LogSink): void {
  state.sink = sink;
}

/** Every function registered in this process so far. */
export function registeredFunctions(): RegisteredFunction[] {
  return [...state.functions.values()];
}

/**
 * Looks a registered function up by name.
 *
 * @param name - function name as registered
 */
export function findFunction(name: string): RegisteredFunction | undefined {
  return state.functions.get(name);
}

/**
 * Invokes a registered function exactly as the worker does: builds the core invocation
 * context from RPC input data and runs `getArguments → invokeFunction → getResponse`.
 *
 * @param fn - the registered function
 * @param inputData - RPC input per binding name (trigger and extra inputs)
 * @param observe - sees the handler's result before it is serialised (read-only inspection)
 * @returns the worker's invocation response (`returnValue`, `outputData`)
 */
export async function invokeFunction(
  fn: RegisteredFunction,
  inputData: Record<string, RpcTypedData | undefined>,
  observe?: (result: unknown) => void,
): Promise<InvocationResponse> {
  const model = state.model;
  if (!model) {
    throw new Error("LocalHost: no programming model was registered by '@azure/functions'.");
  }
  const invocationId = randomUUID();
  const coreCtx = {
    invocationId,
    metadata: fn.metadata,
    state: "invocation",
    request: {
      invocationId,
      inputData: Object.entries(inputData)
        .filter(([, data]) => data !== undefined)
        .map(([name, data]) => ({ name, data })),
      triggerMetadata: {},
    },
    log: (level: string, category: string, message: string) => state.sink(level, category, message),
  };
  const invocation = model.getInvocationModel(coreCtx);
  const { context, inputs } = await invocation.getArguments();
  const handler = observe
    ? async (...args: unknown[]): Promise<unknown> => {
        const value = await fn.callback(...args);
        observe(value);
        return value;
      }
    : fn.callback;
  const result = await invocation.invokeFunction(context, inputs, handler);
  return invocation.getResponse(context, result);
}

/**
 * Decodes RPC typed data to a value, the way `@azure/functions` does for inputs.
 *
 * @param data - typed data from a response
 */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) {
    return undefined;
  }
  if (data.string !== undefined && data.string !== null) {
    return data.string;
  }
  if (data.json !== undefined && data.json !== null) {
    return JSON.parse(data.json) as unknown;
  }
  if (data.bytes !== undefined && data.bytes !== null) {
    return Buffer.from(data.bytes);
  }
  if (data.int !== undefined && data.int !== null) {
    return Number(data.int);
  }
  if (data.double !== undefined && data.double !== null) {
    return Number(data.double);
  }
  return undefined;
}
