/**
 * Incremental Server-Sent Events parsing for OpenAI-style streams. Upstream
 * chunk boundaries fall anywhere (mid-line, mid-UTF-8 character), so bytes
 * are buffered only up to the next event boundary and never longer.
 */

export class SseEventSplitter {
  private readonly decoder = new TextDecoder();
  private buffer = '';

  /** Feeds bytes; returns the `data:` payloads of every event now complete. */
  push(bytes: Uint8Array): string[] {
    this.buffer += this.decoder.decode(bytes, { stream: true });
    return this.drain();
  }

  /** Payload of a final event that had no trailing blank line, if any. */
  end(): string[] {
    this.buffer += this.decoder.decode();
    const events = this.drain();
    const rest = this.buffer.trim();
    this.buffer = '';
    if (rest) {
      const data = dataOf(rest);
      if (data !== null) events.push(data);
    }
    return events;
  }

  private drain(): string[] {
    const events: string[] = [];
    for (;;) {
      const boundary = findBoundary(this.buffer);
      if (!boundary) break;
      const raw = this.buffer.slice(0, boundary.index);
      this.buffer = this.buffer.slice(boundary.index + boundary.length);
      const data = dataOf(raw);
      if (data !== null) events.push(data);
    }
    return events;
  }

  /** Bytes held waiting for an event boundary; a guard against endless lines. */
  get pendingLength(): number {
    return this.buffer.length;
  }
}

function findBoundary(text: string): { index: number; length: number } | null {
  const lf = text.indexOf('\n\n');
  const crlf = text.indexOf('\r\n\r\n');
  if (lf < 0 && crlf < 0) return null;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}

/** Joins the event's data lines; comments and other fields are ignored. */
function dataOf(rawEvent: string): string | null {
  let data: string | null = null;
  for (const line of rawEvent.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}

const encoder = new TextEncoder();

export function encodeSseData(data: string): Uint8Array {
  return encoder.encode(`data: ${data}\n\n`);
}

/** A named event (`event:` line), as the Responses and Messages APIs stream them. */
export function encodeSseEvent(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';
