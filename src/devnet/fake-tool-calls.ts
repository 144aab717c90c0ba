// Tool calling for the fake miner: when a chat request offers tools, the miner calls one, deterministically
// (tool_choice's, else the first), with arguments built from the tool's JSON schema; once the request carries
// that tool's result, it answers in text that quotes it. So a client's whole tool round trip runs offline.
import { createHash } from 'node:crypto';

export interface FakeTool { name: string; parameters: Record<string, unknown> }

export interface FakeToolCall { id: string; name: string; arguments: string }

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export interface ToolContext {
  tools: FakeTool[];
  toolChoice: ToolChoice;
  /** The request's last message, and for a tool result the name of the tool that produced it. */
  lastMessage: { role: string; content: string; toolName: string | undefined } | undefined;
  lastUserMessage: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseTools(json: Record<string, unknown>): Pick<ToolContext, 'tools' | 'toolChoice'> {
  const tools: FakeTool[] = [];
  for (const tool of Array.isArray(json.tools) ? json.tools : []) {
    const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
    if (fn && typeof fn.name === 'string') tools.push({ name: fn.name, parameters: isRecord(fn.parameters) ? fn.parameters : {} });
  }
  const choice = json.tool_choice;
  let toolChoice: ToolChoice = 'auto';
  if (choice === 'none' || choice === 'required') toolChoice = choice;
  else if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') toolChoice = { name: choice.function.name };
  return { tools, toolChoice };
}

/** tool_call id → tool name, from the assistant messages' tool_calls. */
export function toolNamesById(messages: unknown[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of messages) {
    if (!isRecord(m) || !Array.isArray(m.tool_calls)) continue;
    for (const call of m.tool_calls) {
      if (isRecord(call) && typeof call.id === 'string' && isRecord(call.function) && typeof call.function.name === 'string') {
        names.set(call.id, call.function.name);
      }
    }
  }
  return names;
}

/** A value of the schema's type: strings get the user's words, so the call visibly depends on the request. */
function sampleValue(schema: unknown, userText: string): unknown {
  const type = isRecord(schema) ? schema.type : undefined;
  if (isRecord(schema) && Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (type) {
    case 'string': return userText.slice(0, 60);
    case 'integer':
    case 'number': return 42;
    case 'boolean': return true;
    case 'array': return [];
    case 'object': return {};
    default: return null;
  }
}

/** The call the miner makes, or null when it answers in text. */
export function plannedToolCall(ctx: ToolContext): FakeToolCall | null {
  if (ctx.tools.length === 0 || ctx.toolChoice === 'none' || ctx.lastMessage?.role === 'tool') return null;
  const choice = ctx.toolChoice;
  const tool = (typeof choice === 'object' ? ctx.tools.find((t) => t.name === choice.name) : undefined) ?? ctx.tools[0];
  if (!tool) return null;
  const properties = isRecord(tool.parameters.properties) ? tool.parameters.properties : {};
  const args: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(properties)) args[name] = sampleValue(schema, ctx.lastUserMessage);
  const digest = createHash('sha256').update(`${tool.name}\u0000${ctx.lastUserMessage}`).digest('hex').slice(0, 12);
  return { id: `call_${digest}`, name: tool.name, arguments: JSON.stringify(args) };
}

/** The text answer to a request whose last message is a tool result, or null. */
export function answerFromToolResult(minerName: string, ctx: ToolContext): string | null {
  const last = ctx.lastMessage;
  if (last?.role !== 'tool') return null;
  const result = last.content.length > 80 ? `${last.content.slice(0, 80)}…` : last.content;
  return `Devnet miner ${minerName} used the ${last.toolName ?? 'unknown'} tool: it returned "${result.replace(/\s+/g, ' ')}".`;
}

/** Splits into at most `count` pieces of near-equal length (JSON has no word boundaries to split at). */
export function splitEvenly(text: string, count: number): string[] {
  const n = Math.max(1, Math.min(count, text.length));
  return Array.from({ length: n }, (_, i) => text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n)));
}
