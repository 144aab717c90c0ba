/**
 * Chat completion chunks → the Messages API event stream, in Anthropic's
 * order: message_start, ping, then per content block content_block_start,
 * content_block_delta… (text_delta, or input_json_delta for tool_use),
 * content_block_stop; message_delta with stop_reason and usage; and
 * message_stop. A stream cut after it started ends with an `error` event,
 * which the Anthropic SDK raises as an APIError, carrying the receipt of
 * what was delivered.
 *
 * A pure state machine: chunks in, events out, no I/O.
 */
import type { RelayError } from '../openai/chunk-relay.js';
import { ChatDeltaEncoder, type StreamEvent, type ToolCallDelta } from './event-stream.js';
import { fallbackToolUseId, messageUsage, stopReasonOf, type MessagesContext } from './messages-response.js';

type OpenBlock = { readonly kind: 'text'; readonly index: number } | { readonly kind: 'tool_use'; readonly index: number };

export class MessagesStreamEncoder extends ChatDeltaEncoder {
  private blocks = 0;
  /** The block deltas currently go to; it is stopped when the next one starts. */
  private current: OpenBlock | null = null;
  /** tool_use block index by chat tool-call index (argument deltas may name an earlier call). */
  private readonly toolBlocks = new Map<number, number>();

  constructor(private readonly ctx: MessagesContext) {
    super();
  }

  start(): StreamEvent[] {
    const { ctx } = this;
    const message = {
      id: ctx.id,
      type: 'message',
      role: 'assistant',
      model: ctx.request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: messageUsage({ prompt_tokens: ctx.inputTokens(), completion_tokens: 0 }, ctx),
    };
    return [this.event('message_start', { message }), this.event('ping', {})];
  }

  end(): StreamEvent[] {
    const events = this.stopCurrent();
    const usage = messageUsage(this.usage, this.ctx);
    events.push(
      this.event('message_delta', {
        delta: { stop_reason: stopReasonOf(this.finish, this.toolBlocks.size > 0), stop_sequence: null },
        usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens },
        ...(this.receipt ? { taogate_receipt: this.receipt } : {}),
      }),
      this.event('message_stop', {}),
    );
    return events;
  }

  protected failed(error: RelayError): StreamEvent[] {
    const type = error.code === 'deadline_exceeded' ? 'timeout_error' : 'api_error';
    // Beside `error`, where message_delta carries it too: the SDK's APIError keeps the whole body.
    return [this.event('error', { error: { type, message: error.message }, ...(this.receipt ? { taogate_receipt: this.receipt } : {}) })];
  }

  protected text(text: string): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (this.current?.kind !== 'text') {
      events.push(...this.stopCurrent());
      this.current = { kind: 'text', index: this.blocks++ };
      events.push(this.event('content_block_start', { index: this.current.index, content_block: { type: 'text', text: '' } }));
    }
    events.push(this.event('content_block_delta', { index: this.current.index, delta: { type: 'text_delta', text } }));
    return events;
  }

  protected toolCall(delta: ToolCallDelta): StreamEvent[] {
    const events: StreamEvent[] = [];
    let index = this.toolBlocks.get(delta.index);
    if (index === undefined) {
      events.push(...this.stopCurrent());
      index = this.blocks++;
      const id = delta.id ?? fallbackToolUseId(this.ctx, this.toolBlocks.size);
      this.toolBlocks.set(delta.index, index);
      this.current = { kind: 'tool_use', index };
      events.push(this.event('content_block_start', { index, content_block: { type: 'tool_use', id, name: delta.name ?? '', input: {} } }));
    }
    if (delta.arguments !== '') {
      events.push(this.event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: delta.arguments } }));
    }
    return events;
  }

  private stopCurrent(): StreamEvent[] {
    const open = this.current;
    this.current = null;
    return open ? [this.event('content_block_stop', { index: open.index })] : [];
  }

  private event(type: string, body: Record<string, unknown>): StreamEvent {
    return { event: type, data: { type, ...body } };
  }
}
