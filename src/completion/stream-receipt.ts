/**
 * What the last chunk of a stream carries, whoever served it (an upstream,
 * or the response cache): the receipt, and the gateway's own token count
 * when the client asked for usage and the upstream sent none.
 */
import type { Bill } from '../metering/admission.js';
import type { RelayOutcome } from '../openai/chunk-relay.js';

export function streamFinalFields(bill: (o: RelayOutcome) => Bill, clientWantsUsage: boolean) {
  return (o: RelayOutcome): Record<string, unknown> => {
    const b = bill(o);
    // A failed stream's fields go on its error event, where a usage object has no place.
    if (!clientWantsUsage || o.usage || !o.completed) return { taogate_receipt: b.receipt };
    const usage = { prompt_tokens: b.promptTokens, completion_tokens: b.completionTokens, total_tokens: b.promptTokens + b.completionTokens };
    return { taogate_receipt: b.receipt, usage };
  };
}
