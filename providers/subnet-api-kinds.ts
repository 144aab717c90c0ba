/** Every `api.kind` a subnet in taogate.config.json may name, and its adapter. */
import { chutesApi } from './chutes.js';
import { nineteenApi } from './nineteen.js';
import { openAiCompatibleApi, type SubnetApiAdapter } from './subnet-api.js';
import { targonApi } from './targon.js';

export const SUBNET_API_ADAPTERS: Readonly<Record<string, SubnetApiAdapter>> = Object.freeze(
  Object.fromEntries([chutesApi, targonApi, nineteenApi, openAiCompatibleApi].map((a) => [a.kind, a])),
);

export const SUBNET_API_KINDS = Object.keys(SUBNET_API_ADAPTERS) as [string, ...string[]];
