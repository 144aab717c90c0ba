/**
 * Private mode: a key created with `private: true`, or a request with
 * `x-taogate-private: 1`, is routed only to subnets marked `private` in
 * taogate.config.json (e.g. ones that serve from confidential compute). Such
 * a request is never cached and its body never reaches logs, compare
 * archives or the leaderboard; the completion call carries the flag
 * (`CompletionCall.private`) for every part that stores anything, and the
 * response says `x-taogate-private: 1`.
 */
import type { ModelCatalog, ModelTarget } from '../catalog/model-catalog.js';
import { GatewayError, invalidRequest } from '../errors.js';

export const PRIVATE_HEADER = 'x-taogate-private';

/** On every private answer and error: says so, and tells caches between here and the client not to keep it. */
export const PRIVATE_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ [PRIVATE_HEADER]: '1', 'cache-control': 'no-store' });

/** `x-taogate-private`: 1/true/yes asks for private mode; 0/false/no or no header does not. */
export function parsePrivateHeader(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'true' || v === 'yes') return true;
  if (v === '' || v === '0' || v === 'false' || v === 'no') return false;
  throw invalidRequest(`${PRIVATE_HEADER} must be 1 or 0, got "${value}"`, PRIVATE_HEADER, 'invalid_header');
}

/** The candidates on private subnets, or a 503 saying that none is (and which subnets are). */
export function privateTargets(catalog: ModelCatalog, targets: readonly ModelTarget[], requested: string): readonly ModelTarget[] {
  const kept = targets.filter((t) => catalog.isPrivate(t.netuid));
  if (kept.length > 0) return kept;
  const privateSubnets = catalog.netuids.filter((n) => catalog.isPrivate(n)).map((n) => `sn${n}`);
  const which = privateSubnets.length > 0 ? `the private subnets are ${privateSubnets.join(', ')}` : 'this gateway has no subnet marked private';
  throw new GatewayError(
    503,
    `private mode: no private subnet can serve \`${requested}\` (${which}); private requests are only routed to subnets marked "private" in the gateway's config`,
    'server_error',
    'no_private_subnet',
    null,
    { [PRIVATE_HEADER]: '1' },
  );
}
