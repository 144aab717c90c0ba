/**
 * SUBTENSOR_URL: a network alias or a WebSocket URL of a subtensor node.
 */

export const SUBTENSOR_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  finney: 'wss://entrypoint-finney.opentensor.ai:443',
  test: 'wss://test.finney.opentensor.ai:443',
});

export class SubtensorUrlError extends Error {
  override readonly name = 'SubtensorUrlError';
}

export function resolveSubtensorUrl(value: string): string {
  const trimmed = value.trim();
  const alias = SUBTENSOR_ALIASES[trimmed.toLowerCase()];
  if (alias) return alias;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new SubtensorUrlError(
      `SUBTENSOR_URL ${JSON.stringify(value)} is neither a network name (${Object.keys(SUBTENSOR_ALIASES).join(', ')}) nor a ws:// or wss:// URL`,
    );
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new SubtensorUrlError(`SUBTENSOR_URL must use ws:// or wss://, got ${url.protocol}// in ${JSON.stringify(value)}`);
  }
  return trimmed;
}
