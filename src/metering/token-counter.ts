/**
 * Counts tokens with a real BPE tokenizer (gpt-tokenizer, cl100k_base) when a
 * miner does not report usage, and to estimate a prompt before it is sent
 * (TPM limits, credit reservations). Subnet models use their own
 * tokenizers, so these counts are estimates and marked as such wherever they
 * are used; they are never a characters/4 guess.
 *
 * The encoding is a plain JS module (no file reads: it bundles for Workers),
 * loaded once at start-up so counting on the request path is synchronous.
 */
import type { ChatCompletionRequest, CompletionLikeRequest, CompletionRequest } from '../openai/requests.js';

type CountTokens = (text: string) => number;

/** Per OpenAI's published chat format: each message costs a few tokens of framing, the reply 3 more. */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;

export class TokenCounter {
  private constructor(private readonly count: CountTokens) {}

  static async load(): Promise<TokenCounter> {
    const { countTokens } = await import('gpt-tokenizer/encoding/cl100k_base');
    return new TokenCounter((text) => (text ? countTokens(text) : 0));
  }

  text(text: string): number {
    return this.count(text);
  }

  /** Prompt tokens of a chat or legacy completion request, as the model would see them. */
  prompt(request: CompletionLikeRequest): number {
    const chat = request as ChatCompletionRequest;
    if (Array.isArray(chat.messages)) {
      let total = REPLY_PRIMING_TOKENS;
      for (const message of chat.messages) {
        total += TOKENS_PER_MESSAGE + this.count(contentText(message.content));
        if (message.name) total += TOKENS_PER_NAME + this.count(message.name);
        if (message.tool_calls) total += this.count(JSON.stringify(message.tool_calls));
      }
      if (chat.tools) total += this.count(JSON.stringify(chat.tools));
      return total;
    }
    const legacy = request as CompletionRequest;
    const prompt = Array.isArray(legacy.prompt) ? (legacy.prompt[0] ?? '') : legacy.prompt;
    return this.count(prompt) + this.count(legacy.suffix ?? '');
  }
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content as Array<Record<string, unknown>>) if (typeof part.text === 'string') text += part.text;
  return text;
}
