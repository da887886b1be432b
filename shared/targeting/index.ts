/**
 * Targeting: which users get which authentication method written, and which are skipped and why.
 * The vocabulary of decisions and reasons lives in the run model (`shared/run/decisions.ts`).
 */
export { decideMethod, decideUser, type TargetingSettings, type UserContext } from "./decide.js";
