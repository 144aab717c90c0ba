/**
 * Chat completion chunks → the Messages API event stream, in Anthropic's
 * order: message_start, ping, then per content block content_block_start,
 * content_block_delta… (text_delta, or input_json_delta for tool_use),
 * content_block_stop; message_delta with stop_reason and usage; and
 * message_stop. A stream cut after it started ends with an `error` event,
 * which the Anthropic SDK raises as an APIError, carrying the receipt of
 * what was delivered.
 *
 * Anthropic's blocks come one after another, but a chat stream may
 * interleave parallel tool calls (pieces of call 0 after call 1 began). So
 * one block is open at a time and a later block's pieces wait, buffered,
 * until every earlier block is complete: a text block once anything follows
 * it, a tool_use block once its arguments are whole JSON. At the end every
 * block still waiting is sent in order. A miner that sends each call whole
 * before the next (OpenAI's order) streams every block as it comes.
 *
 * A pure state machine: chunks in, events out, no I/O.
 */
import type { RelayError } from '../openai/chunk-relay.js';
import { ChatDeltaEncoder, wholeArguments, type StreamEvent, type ToolCallDelta } from './event-stream.js';
import { fallbackToolUseId, messageUsage, stopReasonOf, type MessagesContext } from './messages-response.js';

interface Block {
  /** Its index among the message's content blocks. */
  readonly index: number;
  readonly start: { type: 'text'; text: '' } | { type: 'tool_use'; id: string; name: string; input: Record<string, never> };
  /** waiting: not started (an earlier block is still open); open: deltas go out as they come. */
  state: 'waiting' | 'open' | 'closed';
  /** What arrived while it was waiting, sent as one delta when it starts. */
  pending: string;
  /** tool_use: its arguments so far, to tell when they are whole. */
  json: string;
}

export class MessagesStreamEncoder extends ChatDeltaEncoder {
  private readonly blocks: Block[] = [];
  /** Every block before this one is closed. */
  private live = 0;
  /** tool_use blocks by chat tool-call index (argument deltas may name an earlier call). */
  private readonly toolBlocks = new Map<number, Block>();

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
    const events: StreamEvent[] = [];
    for (const block of this.blocks.slice(this.live)) {
      if (block.state === 'waiting') events.push(...this.open(block));
      events.push(this.close(block));
    }
    this.live = this.blocks.length;
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
    const last = this.blocks.at(-1);
    // Text goes on the last block while that is text; after a tool call it starts a block of its own.
    const block = last && last.start.type === 'text' && last.state !== 'closed' ? last : this.add({ type: 'text', text: '' });
    return this.put(block, text);
  }

  protected toolCall(delta: ToolCallDelta): StreamEvent[] {
    let block = this.toolBlocks.get(delta.index);
    if (!block) {
      block = this.add({ type: 'tool_use', id: delta.id ?? fallbackToolUseId(this.ctx, this.toolBlocks.size), name: delta.name ?? '', input: {} });
      this.toolBlocks.set(delta.index, block);
    }
    block.json += delta.arguments;
    return this.put(block, delta.arguments);
  }

  private add(start: Block['start']): Block {
    const block: Block = { index: this.blocks.length, start, state: 'waiting', pending: '', json: '' };
    this.blocks.push(block);
    return block;
  }

  /** Closes the open blocks before `block` that are complete, starts the next ones, then sends `content` or keeps it for later. */
  private put(block: Block, content: string): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (let live = this.blocks[this.live]; live; live = this.blocks[this.live]) {
      if (live.state === 'waiting') events.push(...this.open(live));
      if (live === block || !this.complete(live)) break;
      events.push(this.close(live));
      this.live++;
    }
    if (block.state === 'open') {
      if (content !== '') events.push(this.delta(block, content));
    } else {
      block.pending += content;
    }
    return events;
  }

  /** Whether nothing more can come for a block (asked only once a later block has begun). */
  private complete(block: Block): boolean {
    return block.start.type === 'text' || wholeArguments(block.json);
  }

  private open(block: Block): StreamEvent[] {
    block.state = 'open';
    const events = [this.event('content_block_start', { index: block.index, content_block: block.start })];
    if (block.pending !== '') events.push(this.delta(block, block.pending));
    block.pending = '';
    return events;
  }

  private close(block: Block): StreamEvent {
    block.state = 'closed';
    return this.event('content_block_stop', { index: block.index });
  }

  private delta(block: Block, content: string): StreamEvent {
    const delta = block.start.type === 'text' ? { type: 'text_delta', text: content } : { type: 'input_json_delta', partial_json: content };
    return this.event('content_block_delta', { index: block.index, delta });
  }

  private event(type: string, body: Record<string, unknown>): StreamEvent {
    return { event: type, data: { type, ...body } };
  }
}
