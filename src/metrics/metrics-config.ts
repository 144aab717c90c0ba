/**
 * The environment variables of GET /metrics, merged into the gateway's
 * EnvSchema (src/config.ts).
 */
import { z } from 'zod';
import { envPositiveInt } from '../env-values.js';

export const metricsEnv = {
  /**
   * Bearer token for GET /metrics. Unset: only loopback clients that did not
   * come through a proxy may scrape (see src/http/require-metrics-access.ts).
   */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Per-miner series are kept for this many best-ranked miners of each served
   * subnet; the rest are summed under uid="other". Bounds the series count
   * whatever the metagraph's size.
   */
  METRICS_MINERS_PER_SUBNET: envPositiveInt.max(256).default(16),
};
