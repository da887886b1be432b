/**
 * The typed Durable boundary: activities and orchestrations defined once, inputs checked,
 * results typed.
 */
export * from "./activity.js";
export * from "./input.js";
export * from "./orchestration.js";
export * from "./retry.js";
export * from "./settleAll.js";
