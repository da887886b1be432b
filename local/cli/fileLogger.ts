/**
 * The local host's log for commands that show a progress bar: lines go to a file so they do not
 * tear the bar.
 */
import { createWriteStream } from "node:fs";
import type { HostLogger } from "../host/types.js";

/** A host logger that appends to a file, and closes it. */
export interface FileLogger extends HostLogger {
  close(): Promise<void>;
}

/**
 * Opens a log file for appending.
 *
 * @param file - the log file.
 */
export function fileLogger(file: string): FileLogger {
  const out = createWriteStream(file, { flags: "a" });
  const write = (level: string, m: string): void => {
    out.write(`${new Date().toISOString()} ${level} ${m}\n`);
  };
  return {
    info: (m) => write("info", m),
    warn: (m) => write("warn", m),
    error: (m) => write("error", m),
    close: () => new Promise((resolve) => out.end(resolve)),
  };
}
