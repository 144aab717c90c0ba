/**
 * The Worker's bindings (wrangler.toml documents each): the store's Durable
 * Object, the KV namespace the metagraph snapshot is shelved in, and every
 * variable and secret under the same name as the Node environment variable
 * it stands for, so one zod schema (src/config.ts) validates both.
 */
import type { StoreObjectApi } from '../store/durable-object.js';

export interface WorkerBindings {
  readonly STORE: DurableObjectNamespace<StoreObjectApi>;
  readonly METAGRAPH: KVNamespace;
  readonly [variable: string]: unknown;
}

/** The string-valued bindings (vars and secrets), as an environment record. */
export function variablesOf(env: WorkerBindings): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
