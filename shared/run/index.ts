/**
 * The run model: one home for what a run decides, what happens to each write, how it counts,
 * what it keeps in the run store, what it starts from and what it shows and returns.
 */
export * from "./counts.js";
export * from "./decisions.js";
export * from "./input.js";
export * from "./keys.js";
export * from "./outcomes.js";
export * from "./plan.js";
export * from "./progress.js";
export * from "./records.js";
export * from "./rerun.js";
export * from "./names.js";
export * from "./lock.js";
export * from "./turns.js";
