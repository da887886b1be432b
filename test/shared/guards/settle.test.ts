import { describe, expect, it } from "vitest";
import { settleValue, type HistoryEntry } from "../../../shared/guards/settle.js";

const now = new Date("2026-12-10T02:00:00.000Z");
const days = (n: number): string => new Date(now.getTime() - n * 86_400_000).toISOString();

describe("settleValue", () => {
  it("settles a number the history has seen for the whole period", () => {
    const entry: HistoryEntry = { h: "A", f: days(5), l: days(1) };
    const r = settleValue(entry, { userId: "u1", h: "A" }, undefined, now, 3);
    expect(r.settlement).toEqual({ settled: true, since: days(5) });
    expect(r.next).toEqual({ h: "A", f: days(5), l: now.toISOString() });
    expect(r.change).toBeUndefined();
  });

  it("holds a number first seen within the period until the period has passed", () => {
    const entry: HistoryEntry = { h: "A", f: days(2), l: days(1) };
    expect(settleValue(entry, { userId: "u1", h: "A" }, undefined, now, 3).settlement).toEqual({
      settled: false,
      since: days(2),
      until: days(-1),
      why: "changed",
    });
  });

  it("treats a number that differs from the history as changed now, whatever the audit log omits", () => {
    const entry: HistoryEntry = { h: "A", f: days(100), l: days(1) };
    const r = settleValue(entry, { userId: "u1", h: "B" }, undefined, now, 3);
    expect(r.settlement).toMatchObject({
      settled: false,
      since: now.toISOString(),
      why: "changed",
    });
    expect(r.next).toEqual({ h: "B", f: now.toISOString(), l: now.toISOString() });
    expect(r.change).toEqual({ at: now.toISOString(), why: "changed" });
  });

  it("dates a change from the audit log when it falls after the last sighting, and names who made it", () => {
    const entry: HistoryEntry = { h: "A", f: days(100), l: days(1) };
    const audit = { at: days(0.5), by: "helpdesk@contoso.example" };
    const r = settleValue(entry, { userId: "u1", h: "B" }, audit, now, 3);
    expect(r.settlement).toMatchObject({
      settled: false,
      since: days(0.5),
      by: "helpdesk@contoso.example",
    });
    expect(r.change).toEqual({ at: days(0.5), why: "changed", by: "helpdesk@contoso.example" });
  });

  it("counts a number that appeared where the user had none as a change", () => {
    const entry: HistoryEntry = { h: "", f: days(100), l: days(1) };
    const r = settleValue(entry, { userId: "u1", h: "B" }, undefined, now, 3);
    expect(r.settlement.settled).toBe(false);
  });

  it("without history, holds a number the audit log shows changed within the period", () => {
    const r = settleValue(undefined, { userId: "u1", h: "A" }, { at: days(1) }, now, 3);
    expect(r.settlement).toMatchObject({ settled: false, since: days(1), why: "auditChange" });
    expect(r.change).toEqual({ at: days(1), why: "auditChange" });
  });

  it("without history, holds the number of an account created within the period", () => {
    const r = settleValue(undefined, { userId: "u1", h: "A", created: days(1) }, undefined, now, 3);
    expect(r.settlement).toMatchObject({ settled: false, since: days(1), why: "createdRecently" });
  });

  it("without history, settles a number the directory shows no recent change of, so the first run is not blocked", () => {
    const r = settleValue(
      undefined,
      { userId: "u1", h: "A", created: days(400) },
      undefined,
      now,
      3,
    );
    expect(r.settlement).toEqual({ settled: true, since: days(3) });
    // The history starts from the evidence, so the next run settles it from its own record.
    expect(r.next).toEqual({ h: "A", f: days(3), l: now.toISOString() });
  });

  it("settles everything when the guard is off, and still records the history", () => {
    const entry: HistoryEntry = { h: "A", f: days(100), l: days(1) };
    const r = settleValue(entry, { userId: "u1", h: "B" }, undefined, now, 0);
    expect(r.settlement.settled).toBe(true);
    expect(r.next.h).toBe("B");
  });
});
