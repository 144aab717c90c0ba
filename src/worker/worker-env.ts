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

/**
 * The variables and secrets as an environment record for loadConfig. A
 * [vars] entry may be written as a TOML number, boolean or table as well as
 * a string (METAGRAPH_REFRESH_S = 60, SUBNET_MODELS = { "4" = ["m"] }): each
 * becomes the text the same Node variable would hold. Resource bindings
 * (the Durable Object namespace, KV) are left out.
 */
export function variablesOf(env: WorkerBindings): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string') variables[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') variables[name] = String(value);
    else if (Array.isArray(value) || (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)) {
      variables[name] = JSON.stringify(value);
    }
  }
  return variables;
}
