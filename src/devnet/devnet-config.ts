/**
 * What `npm start` changes in the gateway's configuration when it runs the
 * embedded devnet. The devnet prints a working API key and admin token and
 * promises that nothing leaves the machine, so it serves on loopback unless
 * HOST says otherwise; its miners listen on loopback too, so private axons
 * are allowed.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';

/** Where the devnet gateway listens unless HOST is set. */
export const DEVNET_HOST = '127.0.0.1';

export function devnetGatewayConfig(config: Config, env: Readonly<Record<string, string | undefined>>, netuids: readonly number[]): Config {
  return {
    ...config,
    // An empty HOST counts as unset, as everywhere in loadConfig.
    HOST: env.HOST ? config.HOST : DEVNET_HOST,
    ALLOW_PRIVATE_AXONS: true,
    NETUIDS: config.NETUIDS ?? [...netuids],
    GATEWAY_HOTKEY_URI: config.GATEWAY_HOTKEY_URI ?? '//TaogateDevnet',
    ADMIN_TOKEN: config.ADMIN_TOKEN ?? `devnet-admin-${randomBytes(12).toString('hex')}`,
  };
}
