/**
 * The settings snapshot of a run: what `METHODS` becomes in it, and how runs started before the
 * setting existed replay.
 */
import { describe, expect, it } from "vitest";
import { runSettingsFrom, runSettingsSchema } from "../../../shared/run/index.js";
import { loadSettings } from "../../../shared/settings/index.js";

describe("the run settings snapshot", () => {
  it("takes the methods from METHODS", () => {
    const settings = runSettingsFrom(loadSettings({ METHODS: "office,mobile" }));
    expect(settings.methods).toEqual(["mobile", "office"]);
    expect(runSettingsSchema.parse(settings).methods).toEqual(["mobile", "office"]);
  });

  it("gives a snapshot written before METHODS existed the mobile phone only", () => {
    const { methods: _methods, ...older } = runSettingsFrom(loadSettings({}));
    expect(runSettingsSchema.parse(older).methods).toEqual(["mobile"]);
  });

  it("refuses a hand-made snapshot with no method, an unknown one or one twice", () => {
    const base = runSettingsFrom(loadSettings({}));
    for (const methods of [[], ["fax"], ["mobile", "mobile"]]) {
      expect(runSettingsSchema.safeParse({ ...base, methods }).success).toBe(false);
    }
  });
});
