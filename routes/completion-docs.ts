/** Description pieces shared by every route that runs a completion (for /openapi.json). */
import { z } from 'zod';
import { CACHE_NONDETERMINISTIC_HEADER, CACHE_TTL_HEADER } from '../src/cache/cache-policy.js';
import type { ParameterDoc } from '../src/openapi/describe-route.js';
import { ROUTE_POLICIES, ROUTE_POLICY_HEADER } from '../src/router/candidate-policy.js';
import { PIN_HEADER } from '../src/router/pinned-uids.js';
import { PRIVATE_HEADER } from '../src/router/private-routing.js';

/** What any completion may answer besides 200 (401 is added for every keyed route). */
export const COMPLETION_ERRORS = [400, 402, 404, 413, 429, 502, 503, 504] as const;

/** Request headers every completion route reads (completionCall in completion-handler.ts). */
export const COMPLETION_HEADERS_DOC: Readonly<Record<string, ParameterDoc>> = {
  [PIN_HEADER]: {
    description: 'Comma-separated uids: only these miners of the subnet may serve the request (never bypasses a guard).',
    schema: z.string().regex(/^\d+(,\d+)*$/),
  },
  [PRIVATE_HEADER]: {
    description: 'Private mode: 1 routes only to subnets marked private (503 when none can serve); never cached. A private key is always in private mode.',
    schema: z.enum(['1', '0', 'true', 'false', 'yes', 'no']),
  },
  [ROUTE_POLICY_HEADER]: {
    description: 'How the candidates of an alias or `auto` are ordered for this request.',
    schema: z.enum(ROUTE_POLICIES),
  },
  'cache-control': {
    description: '`no-store`: the response cache neither answers nor records this request (x-taogate-cache: BYPASS).',
    schema: z.string(),
  },
  [CACHE_TTL_HEADER]: {
    description: 'Seconds the answer is kept in the response cache (at most CACHE_MAX_TTL_S; 0 = do not store). Only temperature 0 or seeded requests are cached unless x-taogate-cache-nondeterministic or CACHE_NONDETERMINISTIC says otherwise.',
    schema: z.string().regex(/^\d{1,10}$/),
  },
  [CACHE_NONDETERMINISTIC_HEADER]: {
    description:
      '1: cache this request even though its sampling is not deterministic (no temperature 0, no seed): identical requests then get the same stored answer. 0: do not, even when CACHE_NONDETERMINISTIC=1. no-store, private mode and pinned miners still bypass.',
    schema: z.enum(['1', '0', 'true', 'false', 'yes', 'no']),
  },
};
