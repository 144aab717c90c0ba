/** Description pieces shared by every route that runs a completion (for /openapi.json). */
import { z } from 'zod';
import type { ParameterDoc } from '../src/openapi/describe-route.js';
import { PIN_HEADER } from '../src/router/pinned-uids.js';

/** What any completion may answer besides 200 (401 is added for every keyed route). */
export const COMPLETION_ERRORS = [400, 402, 404, 413, 429, 502, 503, 504] as const;

export const PIN_HEADER_DOC: Readonly<Record<string, ParameterDoc>> = {
  [PIN_HEADER]: {
    description: 'Comma-separated uids: only these miners of the subnet may serve the request (never bypasses a guard).',
    schema: z.string().regex(/^\d+(,\d+)*$/),
  },
};
