/**
 * Instance status as the client API returns it (the SDK's `DurableOrchestrationStatus` shape),
 * and the `listInstances` filter.
 */
import { summarizeHistory } from "./history.js";
import type { Instance } from "./instance.js";
import { parseJson } from "./json.js";
import { InstanceStore } from "./store.js";
import type { InstanceFilter, InstanceStatus } from "./types.js";

/**
 * The status of one instance.
 *
 * @param inst - the instance
 * @param showHistory - include a summarised history (read back from disk once released)
 * @param showInput - include the input
 */
export function toStatus(inst: Instance, showHistory: boolean, showInput: boolean): InstanceStatus {
  const s = inst.s;
  const status: InstanceStatus = {
    name: s.name,
    instanceId: s.instanceId,
    createdTime: s.createdTime,
    lastUpdatedTime: s.lastUpdatedTime,
    input: showInput ? parseJson(s.input) : null,
    output: parseJson(s.output),
    runtimeStatus: s.runtimeStatus,
    customStatus: parseJson(s.customStatus),
  };
  if (showHistory) {
    const history = inst.released
      ? (new InstanceStore(inst.store.dir).load(true).state?.history ?? [])
      : s.history;
    status.history = summarizeHistory(history);
  }
  return status;
}

/**
 * Instances matching a filter, oldest first (ties by id).
 *
 * @param instances - all instances
 * @param filter - status/time/prefix filter
 */
export function listStatuses(
  instances: Iterable<Instance>,
  filter: InstanceFilter,
): InstanceStatus[] {
  const from = filter.createdTimeFrom?.getTime() ?? -Infinity;
  const to = filter.createdTimeTo?.getTime() ?? Infinity;
  return [...instances]
    .filter((inst) => {
      const s = inst.s;
      const created = Date.parse(s.createdTime);
      return (
        (!filter.runtimeStatus ||
          filter.runtimeStatus.length === 0 ||
          filter.runtimeStatus.includes(s.runtimeStatus)) &&
        created >= from &&
        created <= to &&
        (!filter.instanceIdPrefix || s.instanceId.startsWith(filter.instanceIdPrefix))
      );
    })
    .sort(
      (a, b) =>
        a.s.createdTime.localeCompare(b.s.createdTime) ||
        a.s.instanceId.localeCompare(b.s.instanceId),
    )
    .map((inst) => toStatus(inst, false, true));
}
