/**
 * Structured logs (pino). Keys, Authorization headers and prompt bodies are
 * never logged by default: call sites log ids and sizes, and the redaction
 * list below catches the obvious fields if someone passes an object through.
 * The Workers bundle gets pino's browser build (it resolves the package's
 * "browser" entry), which honours the same redaction and writes one JSON
 * line per entry to the console, where Workers Logs collect it.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level?: string;
  /** Tests pass a destination to capture or silence output. */
  readonly destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? globalThis.process?.env.LOG_LEVEL ?? 'info';
  const config: pino.LoggerOptions = {
    level,
    base: { service: 'taogate' },
    redact: {
      paths: ['key', 'apiKey', 'authorization', 'headers.authorization', 'req.headers.authorization', 'messages', 'prompt', 'body'],
      censor: '[redacted]',
    },
    browser: { write: (entry: object) => console.log(JSON.stringify(entry)) },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A logger that drops everything: for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
