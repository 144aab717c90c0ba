/**
 * The few Cloudflare Workers runtime types taogate uses, declared here
 * rather than through @cloudflare/workers-types: that package redeclares
 * fetch, Request, Response and friends globally, which clashes with
 * @types/node and the DOM lib the rest of the project is checked against.
 * Shapes follow workers-types (the "latest" entry), narrowed to what is called.
 */

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  readonly props: unknown;
}

interface WorkersSqlStorage {
  exec(query: string, ...bindings: Array<string | number | null>): { toArray(): Array<Record<string, unknown>> };
}

interface DurableObjectState {
  readonly storage: {
    readonly sql: WorkersSqlStorage;
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

interface DurableObjectId {
  toString(): string;
}

/** A namespace binding; `T` is the RPC surface its stubs offer. */
interface DurableObjectNamespace<T = unknown> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): T;
}

interface KVNamespace {
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number; metadata?: unknown }): Promise<void>;
}

interface ScheduledController {
  readonly scheduledTime: number;
  readonly cron: string;
}

declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState;
    protected env: Env;
    constructor(ctx: DurableObjectState, env: Env);
    alarm?(): void | Promise<void>;
  }
}

declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
