/**
 * Counts what would have taken the process down: unhandled rejections and uncaught exceptions.
 * Every role runs in the test's process, so without this the first crash would end the run (and the
 * report) instead of being one counted failure among the others.
 */
export interface CrashWatch {
  readonly crashes: string[];
  stop(): void;
}

export function watchCrashes(): CrashWatch {
  const crashes: string[] = [];
  const record = (kind: string) => (err: unknown) => {
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    crashes.push(`${kind}: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
  };
  const rejection = record('unhandledRejection');
  const exception = record('uncaughtException');
  process.on('unhandledRejection', rejection);
  process.on('uncaughtException', exception);
  return {
    crashes,
    stop() {
      process.off('unhandledRejection', rejection);
      process.off('uncaughtException', exception);
    },
  };
}
