/**
 * Chat completion chunks → the Responses API event stream, in OpenAI's
 * order: response.created, response.in_progress; per output item
 * output_item.added, (message) content_part.added, output_text.delta…,
 * output_text.done, content_part.done / (function call)
 * function_call_arguments.delta…, function_call_arguments.done;
 * output_item.done; and response.completed (or .incomplete) carrying the
 * whole response with its usage. A stream cut after it started ends with an
 * `error` event and response.failed, whose response carries the receipt of
 * what was delivered as response.completed's does. Every event has a
 * sequence_number.
 *
 * A pure state machine: chunks in, events out, no I/O.
 */
import type { RelayError } from '../openai/chunk-relay.js';
import { ChatDeltaEncoder, type StreamEvent, type ToolCallDelta } from './event-stream.js';
import {
  fallbackCallId,
  functionCallItemId,
  incompleteReasonOf,
  messageItemId,
  outputText,
  responseObject,
  type FunctionCallItem,
  type MessageItem,
  type OutputItem,
  type ResponseState,
  type ResponsesContext,
} from './responses-response.js';

interface OpenMessage {
  readonly kind: 'message';
  readonly item: MessageItem;
  readonly outputIndex: number;
  text: string;
}

interface OpenCall {
  readonly kind: 'call';
  readonly item: FunctionCallItem;
  readonly outputIndex: number;
}

export class ResponsesStreamEncoder extends ChatDeltaEncoder {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  /** The item deltas currently go to; items are finished (…done events) when the next one opens. */
  private current: OpenMessage | OpenCall | null = null;
  /** Function calls by their chat tool-call index (argument deltas may name an earlier one). */
  private readonly calls = new Map<number, OpenCall>();
  private messages = 0;

  constructor(private readonly ctx: ResponsesContext) {
    super();
  }

  start(): StreamEvent[] {
    const response = this.response('in_progress');
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  end(): StreamEvent[] {
    const events = this.closeCurrent();
    const incompleteReason = incompleteReasonOf(this.finish);
    const status = incompleteReason ? 'incomplete' : 'completed';
    const response = this.response(status, { incompleteReason });
    events.push(this.event(incompleteReason ? 'response.incomplete' : 'response.completed', { response }));
    return events;
  }

  protected failed(error: RelayError): StreamEvent[] {
    const events = [this.event('error', { code: error.code, message: error.message, param: null })];
    const response = this.response('failed', { error: { code: 'server_error', message: error.message } });
    events.push(this.event('response.failed', { response }));
    return events;
  }

  protected text(text: string): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (this.current?.kind !== 'message') {
      events.push(...this.closeCurrent());
      const item: MessageItem = { id: messageItemId(this.ctx, this.messages++), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      const open: OpenMessage = { kind: 'message', item, outputIndex: this.output.length, text: '' };
      this.output.push(item);
      this.current = open;
      events.push(
        this.event('response.output_item.added', { output_index: open.outputIndex, item: { ...item } }),
        this.event('response.content_part.added', { item_id: item.id, output_index: open.outputIndex, content_index: 0, part: outputText('') }),
      );
    }
    const open = this.current as OpenMessage;
    open.text += text;
    events.push(this.event('response.output_text.delta', { item_id: open.item.id, output_index: open.outputIndex, content_index: 0, delta: text, logprobs: [] }));
    return events;
  }

  protected toolCall(delta: ToolCallDelta): StreamEvent[] {
    const events: StreamEvent[] = [];
    let call = this.calls.get(delta.index);
    if (!call) {
      events.push(...this.closeCurrent());
      const n = this.calls.size;
      const item: FunctionCallItem = {
        id: functionCallItemId(this.ctx, n),
        type: 'function_call',
        status: 'in_progress',
        call_id: delta.id ?? fallbackCallId(this.ctx, n),
        name: delta.name ?? '',
        arguments: '',
      };
      call = { kind: 'call', item, outputIndex: this.output.length };
      this.output.push(item);
      this.calls.set(delta.index, call);
      this.current = call;
      events.push(this.event('response.output_item.added', { output_index: call.outputIndex, item: { ...item } }));
    }
    if (delta.arguments !== '') {
      call.item.arguments += delta.arguments;
      events.push(this.event('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.outputIndex, delta: delta.arguments }));
    }
    return events;
  }

  private closeCurrent(): StreamEvent[] {
    const open = this.current;
    this.current = null;
    if (!open) return [];
    const status = incompleteReasonOf(this.finish) ? 'incomplete' : 'completed';
    if (open.kind === 'call') {
      const { item, outputIndex } = open;
      item.status = 'completed';
      return [
        this.event('response.function_call_arguments.done', { item_id: item.id, output_index: outputIndex, name: item.name, arguments: item.arguments }),
        this.event('response.output_item.done', { output_index: outputIndex, item: { ...item } }),
      ];
    }
    const { item, outputIndex, text } = open;
    const part = outputText(text);
    item.status = status;
    item.content = [part];
    return [
      this.event('response.output_text.done', { item_id: item.id, output_index: outputIndex, content_index: 0, text, logprobs: [] }),
      this.event('response.content_part.done', { item_id: item.id, output_index: outputIndex, content_index: 0, part }),
      this.event('response.output_item.done', { output_index: outputIndex, item: { ...item, content: [part] } }),
    ];
  }

  private response(status: ResponseState['status'], extra: Partial<ResponseState> = {}) {
    const done = status !== 'in_progress';
    return responseObject(this.ctx, {
      status,
      output: done ? this.output.map((item) => ({ ...item })) : [],
      usage: done ? this.usage : null,
      receipt: done ? this.receipt : null,
      ...extra,
    });
  }

  private event(type: string, body: Record<string, unknown>): StreamEvent {
    return { event: type, data: { type, sequence_number: this.sequence++, ...body } };
  }
}
