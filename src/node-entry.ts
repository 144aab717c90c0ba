/**
 * How a Node entry (`npm start`, `npm run sync`) runs: a configuration
 * error prints its message (it names the variable) and exits 2, any other
 * start-up failure exits 1, and SIGINT/SIGTERM call the entry's stop once,
 * then exit 0.
 */
import { ConfigError } from './config.js';

export type StopEntry = (signal: NodeJS.Signals) => Promise<void>;

export function runNodeEntry(start: () => Promise<StopEntry>): void {
  start().then(
    (stop) => {
      const onSignal = (signal: NodeJS.Signals) => void stop(signal).finally(() => process.exit(0));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(err instanceof ConfigError ? 2 : 1);
    },
  );
}
