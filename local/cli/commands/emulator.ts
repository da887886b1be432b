/**
 * `mfa-prepopulate emulator [--port N] [--users N] [--seed N] [--tenant-file F] [--profile NAME]`:
 * starts the offline Graph emulator and prints one JSON line on stdout once it listens; runs
 * until SIGTERM or SIGINT.
 */
import { Option, type Command } from "commander";
import { fail } from "../fail.js";
import { positive, wholeNumber } from "../numberFlags.js";

interface EmulatorOptions {
  port: string;
  users: string;
  seed: string;
  tenantFile?: string;
  profile: "fast" | "realistic" | "hostile";
  timeScale?: string;
}

/**
 * Adds `emulator`.
 *
 * @param program - the CLI program.
 */
export function addEmulatorCommand(program: Command): Command {
  return program
    .command("emulator")
    .description("start the offline Graph emulator; prints one JSON line when it listens")
    .option("--port <n>", "https Graph port (0 = any)", "0")
    .option("--users <n>", "synthetic tenant size", "1000")
    .option("--seed <n>", "synthetic tenant seed", "1")
    .option("--tenant-file <file>", "tenant fixture JSON instead of a synthetic tenant")
    .addOption(
      new Option("--profile <name>", "fault and latency profile")
        .choices(["fast", "realistic", "hostile"])
        .default("fast"),
    )
    .option(
      "--time-scale <x>",
      "multiply latencies, quotas windows and token lifetimes (0.01 = 100x faster)",
    )
    .action(async (opts: EmulatorOptions) => {
      try {
        await runEmulator(opts);
      } catch (error) {
        fail(error);
      }
    });
}

async function runEmulator(opts: EmulatorOptions): Promise<void> {
  const { startEmulator } = await import("../../graph-emulator/index.js");
  const { loadTenantFile } = await import("../../graph-emulator/tenant/fixture.js");
  const { generateTenant } = await import("../../graph-emulator/tenant/generate.js");
  const tenant = opts.tenantFile
    ? await loadTenantFile(opts.tenantFile)
    : generateTenant({
        users: wholeNumber("--users", opts.users),
        seed: wholeNumber("--seed", opts.seed),
      });
  const emulator = await startEmulator({
    tenant,
    profile: opts.profile,
    port: wholeNumber("--port", opts.port),
    config: opts.timeScale ? { timeScale: positive("--time-scale", opts.timeScale) } : {},
  });
  process.stdout.write(
    `${JSON.stringify({
      graphBaseUrl: emulator.graphBaseUrl,
      identityEndpoint: emulator.identityEndpoint,
      identityHeader: emulator.identityHeader,
      adminUrl: emulator.adminUrl,
      caCertPath: emulator.caCertPath,
    })}\n`,
  );
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
