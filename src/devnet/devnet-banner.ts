/**
 * What `npm start` prints on the devnet: loud enough that nobody mistakes it
 * for the real network, and everything needed to send a first request.
 */
import type { Devnet } from './devnet.js';

export interface BannerInput {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly adminToken: string;
  readonly devnet: Devnet;
}

export function devnetBanner({ baseUrl, apiKey, adminToken, devnet }: BannerInput): string {
  const firstModel = `sn${devnet.netuids[0]}/${devnet.modelsFor(devnet.netuids[0] ?? 0)[0] ?? 'model'}`;
  const body = JSON.stringify({ model: firstModel, messages: [{ role: 'user', content: 'Hello from the devnet!' }] });
  const judgeNetuid = devnet.netuids[1] ?? devnet.netuids[0] ?? 0;
  const compareBody = JSON.stringify({ prompt: 'What is a subnet?', top_n: 3, subnet: `sn${devnet.netuids[0]}`, judge: `sn${judgeNetuid}/${devnet.modelsFor(judgeNetuid)[0] ?? 'model'}` });
  const rule = '='.repeat(78);
  const origin = baseUrl.replace(/\/v1$/, '');
  return [
    rule,
    '  TAOGATE IS RUNNING ON AN EMBEDDED LOCAL DEVNET (SUBTENSOR_URL and METAGRAPH_FILE are unset)',
    `  simulated subtensor: ${devnet.chain.url}   local miners: ${devnet.miners.length} on 127.0.0.1`,
    '  Nothing here touches the real Bittensor network. Answers come from devnet miners.',
    '',
    `  base URL:    ${baseUrl}`,
    `  API key:     ${apiKey}`,
    `  admin token: ${adminToken}`,
    `  models:      ${devnet.netuids.flatMap((n) => devnet.modelsFor(n).map((m) => `sn${n}/${m}`)).join(', ')}, auto`,
    `  dashboard:   ${baseUrl.replace(/\/v1$/, '')}/dashboard  (compare with the API key above; admin login with the token)`,
    '',
    '  try it:',
    `  curl ${baseUrl}/chat/completions -H "Authorization: Bearer ${apiKey}" \\`,
    `    -H "content-type: application/json" -d '${body}'`,
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
    '  the real chain:  SUBTENSOR_URL=finney NETUIDS=4 npm start',
    rule,
  ].join('\n');
}

export function printDevnetBanner(input: BannerInput): void {
  // stdout, not the JSON log: this is for the person at the terminal.
  process.stdout.write(`\n${devnetBanner(input)}\n\n`);
}
