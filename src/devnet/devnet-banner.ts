/**
 * What `npm start` prints on the devnet: loud enough that nobody mistakes it
 * for the real network, and everything needed to send a first request.
 */
import type { Devnet } from './devnet.js';

export interface BannerInput {
  readonly baseUrl: string;
  /** The address the gateway listens on (HOST). */
  readonly host: string;
  readonly apiKey: string;
  readonly adminToken: string;
  readonly devnet: Devnet;
}

/** Whether anyone but this machine can reach the gateway, said next to the key that would let them in. */
function reachability(host: string): string {
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') return `  listening on ${host} only: nothing is reachable from other machines (HOST=0.0.0.0 to serve the network)`;
  return `  listening on ${host} (HOST): anyone who can reach this machine can use the key and token below`;
}

export function devnetBanner({ baseUrl, host, apiKey, adminToken, devnet }: BannerInput): string {
  const firstModel = `sn${devnet.netuids[0]}/${devnet.modelsFor(devnet.netuids[0] ?? 0)[0] ?? 'model'}`;
  const body = JSON.stringify({ model: firstModel, messages: [{ role: 'user', content: 'Hello from the devnet!' }] });
  const judgeNetuid = devnet.netuids[1] ?? devnet.netuids[0] ?? 0;
  const compareBody = JSON.stringify({ prompt: 'What is a subnet?', top_n: 3, subnet: `sn${devnet.netuids[0]}`, judge: `sn${judgeNetuid}/${devnet.modelsFor(judgeNetuid)[0] ?? 'model'}` });
  const rule = '='.repeat(78);
  const origin = baseUrl.replace(/\/v1$/, '');
  const { chutes, nineteen } = devnet.apis;
  const config = devnet.subnetConfig();
  const apiModels = config.subnets.flatMap((s) => s.models.map((m) => `sn${s.netuid}/${m.name}`));
  const aliases = Object.keys(config.aliases);
  return [
    rule,
    '  TAOGATE IS RUNNING ON AN EMBEDDED LOCAL DEVNET (SUBTENSOR_URL and METAGRAPH_FILE are unset)',
    `  simulated subtensor: ${devnet.chain.url}   local miners: ${devnet.miners.length} on 127.0.0.1`,
    `  fake subnet APIs:    sn64 "Chutes" (private) ${chutes.baseUrl}   sn19 "Nineteen" ${nineteen.baseUrl}`,
    '  Nothing here touches the real Bittensor network. Answers come from devnet miners and fake APIs.',
    reachability(host),
    '',
    `  base URL:    ${baseUrl}`,
    `  API key:     ${apiKey}`,
    `  admin token: ${adminToken}`,
    `  models:      ${[...devnet.netuids.flatMap((n) => devnet.modelsFor(n).map((m) => `sn${n}/${m}`)), ...apiModels].join(', ')}`,
    `  aliases:     ${aliases.map((a) => `${a} (${config.aliases[a]?.targets.join(' → ')})`).join(', ')}, auto`,
    `  dashboard:   ${origin}/dashboard  (compare with the API key above; admin login with the token)`,
    '',
    '  try it:',
    `  curl ${baseUrl}/chat/completions -H "Authorization: Bearer ${apiKey}" \\`,
    `    -H "content-type: application/json" -d '${body}'`,
    '',
    '  failover across subnets: take the fake Chutes down, then ask for "deepseek" again (served by sn19):',
    `  curl -X POST ${chutes.baseUrl.replace(/\/v1$/, '')}/_devnet/fault -d '{"mode":"down"}'     (back: {"mode":"none"})`,
    '  private mode: add -H "x-taogate-private: 1" (routes only to sn64, marked private)',
    '',
    `  API reference: ${origin}/docs   (OpenAPI 3.1: ${origin}/openapi.json)`,
    `  Responses API (Codex CLI, OpenAI SDK):  OPENAI_BASE_URL=${baseUrl} OPENAI_API_KEY=${apiKey}`,
    `  Messages API (Claude Code, Anthropic SDK):  ANTHROPIC_BASE_URL=${origin} ANTHROPIC_API_KEY=${apiKey}`,
    "  (devnet miners call a tool the request offers, then answer from the tool's result)",
    '',
    '  compare subnets and miners, judged by another subnet:',
    `  curl ${baseUrl}/compare -H "Authorization: Bearer ${apiKey}" -H "content-type: application/json" \\`,
    `    -d '${compareBody}'`,
    '',
    '  the real chain:  SUBTENSOR_URL=finney npm start   (sn4, sn19, sn62, sn64; NETUIDS=4,64 to choose)',
    '  your subnets:    TAOGATE_CONFIG=taogate.config.json npm start',
    rule,
  ].join('\n');
}

export function printDevnetBanner(input: BannerInput): void {
  // stdout, not the JSON log: this is for the person at the terminal.
  process.stdout.write(`\n${devnetBanner(input)}\n\n`);
}
