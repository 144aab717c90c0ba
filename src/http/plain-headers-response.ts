/**
 * Responses whose headers stay a plain record. Hono's c.json and c.body copy
 * two or more headers into a WHATWG Headers object (validating each name and
 * value), which @hono/node-server then iterates back into a record for
 * writeHead; a record goes to writeHead as it is. For hot routes whose
 * headers come from the handler alone: headers set earlier with c.header()
 * are not merged in (no middleware on those routes sets any).
 */
export function jsonResponse(payload: unknown, status: number, headers: Readonly<Record<string, string>>): Response {
  return new Response(JSON.stringify(payload), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function streamResponse(body: ReadableStream<Uint8Array>, status: number, headers: Readonly<Record<string, string>>): Response {
  return new Response(body, { status, headers });
}
