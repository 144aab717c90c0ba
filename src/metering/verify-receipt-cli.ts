/**
 * `npm run verify-receipt -- <receipt> --public-key <hex|base64>`: checks a
 * taogate receipt offline (no gateway, no network). The receipt is the
 * `x-taogate-receipt` header or a stream's `taogate_receipt` field; `-` reads
 * it from stdin. The public key comes from GET /v1/receipts/public-key (or
 * RECEIPT_PUBLIC_KEY). Prints the signed content; exits 0 when the signature
 * holds, 1 when it does not, 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePublicKey, verifyReceipt } from './receipts.js';

const USAGE = 'usage: npm run verify-receipt -- <receipt | -> --public-key <hex|base64>   (or RECEIPT_PUBLIC_KEY=…)';

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { 'public-key': { type: 'string' } } });
  const keyText = values['public-key'] ?? process.env.RECEIPT_PUBLIC_KEY;
  const [source] = positionals;
  if (!keyText || !source) {
    console.error(USAGE);
    return 2;
  }
  let publicKey: Uint8Array;
  try {
    publicKey = parsePublicKey(keyText);
  } catch {
    console.error('the public key must be 32 bytes, as 64 hex characters or base64');
    return 2;
  }
  const receipt = source === '-' ? readFileSync(0, 'utf8') : source;
  const check = verifyReceipt(receipt, publicKey);
  if (!check.valid) {
    console.log(JSON.stringify({ valid: false, reason: check.reason }, null, 2));
    return 1;
  }
  console.log(JSON.stringify({ valid: true, receipt: check.body }, null, 2));
  return 0;
}

process.exit(main(process.argv.slice(2)));
