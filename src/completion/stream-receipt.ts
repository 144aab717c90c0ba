/**
 * What the last chunk of a stream carries, whoever served it (an upstream,
 * or the response cache): the receipt, and the gateway's own token count
 * when the client asked for usage and the upstream sent none. A JSON answer
 * without usage gets the same count (`withBilledUsage`).
 */
import type { Bill } from '../metering/admission.js';
import type { RelayOutcome } from '../openai/chunk-relay.js';
import type { CompletionResponse, Usage } from '../openai/responses.js';

/** The tokens a request was billed for, as an OpenAI usage object. */
export function billedUsage(b: Bill): Usage {
  return { prompt_tokens: b.promptTokens, completion_tokens: b.completionTokens, total_tokens: b.promptTokens + b.completionTokens };
}

/** The answer with the billed count as its usage when the upstream reported none, so every wire API states what was billed. */
export function withBilledUsage<T extends CompletionResponse>(payload: T, b: Bill): T {
  return payload.usage ? payload : { ...payload, usage: billedUsage(b) };
}

export function streamFinalFields(bill: (o: RelayOutcome) => Bill, clientWantsUsage: boolean) {
  return (o: RelayOutcome): Record<string, unknown> => {
    const b = bill(o);
    // A failed stream's fields go on its error event, where a usage object has no place.
    if (!clientWantsUsage || o.usage || !o.completed) return { taogate_receipt: b.receipt };
    return { taogate_receipt: b.receipt, usage: billedUsage(b) };
  };
}
