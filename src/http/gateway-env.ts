/** Types shared by the Hono app, its middleware and every router. */
import type { ApiKeyRecord } from '../metering/api-keys.js';

export interface GatewayVariables {
  requestId: string;
  /** Set by requireApiKey on authenticated routes. */
  apiKey: ApiKeyRecord;
  /** "<netuid>/<uid>/<hotkey>" of the upstream that answered, for the access log. */
  upstreamId: string;
  /** The model a completion request asked for (labels it in the metrics, bounded there). */
  model: string;
}

export interface GatewayEnv {
  Variables: GatewayVariables;
}
