/**
 * GET /docs: the OpenAPI document as one server-rendered HTML page, with no
 * script and nothing fetched from elsewhere, so it works offline and behind
 * any content security policy.
 */
import type { OpenApiDocument } from './document.js';

type Json = Record<string, unknown>;

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const SECURITY_TEXT: Readonly<Record<string, string>> = {
  bearerKey: 'API key',
  apiKeyHeader: 'API key',
  adminToken: 'admin token',
  metricsToken: 'metrics token',
};

function authOf(operation: Json): string {
  const security = (operation.security as Json[] | undefined) ?? [];
  if (security.length === 0) return 'public';
  const names = new Set(security.flatMap((s) => Object.keys(s)).map((n) => SECURITY_TEXT[n] ?? n));
  return [...names].join(' or ');
}

function schemaBlock(title: string, schema: unknown, doc: OpenApiDocument): string {
  const ref = (schema as Json | undefined)?.$ref;
  const name = typeof ref === 'string' ? ref.split('/').at(-1) : undefined;
  const resolved = name ? doc.components.schemas[name] : schema;
  return `<details><summary>${escape(title)}${name ? ` <code>${escape(name)}</code>` : ''}</summary><pre>${escape(JSON.stringify(resolved, null, 2))}</pre></details>`;
}

function operationHtml(method: string, path: string, operation: Json, doc: OpenApiDocument): string {
  const parts: string[] = [];
  parts.push(`<h3 id="${escape(String(operation.operationId))}"><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>`);
  parts.push(`<p><strong>${escape(String(operation.summary ?? ''))}</strong> <span class="auth">auth: ${escape(authOf(operation))}</span></p>`);
  if (typeof operation.description === 'string') parts.push(`<p>${escape(operation.description)}</p>`);
  const params = (operation.parameters as Json[] | undefined) ?? [];
  if (params.length > 0) {
    const rows = params.map((p) => `<tr><td><code>${escape(String(p.name))}</code></td><td>${escape(String(p.in))}</td><td>${escape(String(p.description ?? ''))}</td></tr>`);
    parts.push(`<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>${rows.join('')}</table>`);
  }
  const body = (operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  if (body?.['application/json']) parts.push(schemaBlock('Request body', body['application/json'].schema, doc));
  const responses = Object.entries((operation.responses as Record<string, Json>) ?? {});
  const items = responses.map(([status, response]) => {
    const content = (response.content as Record<string, Json> | undefined) ?? {};
    const types = Object.keys(content);
    const json = content['application/json'];
    const stream = content['text/event-stream']?.schema as Json | undefined;
    return `<li><code>${escape(status)}</code> ${escape(String(response.description))}${types.length ? ` <small>(${escape(types.join(', '))})</small>` : ''}` +
      `${stream?.description ? `<br><small>${escape(String(stream.description))}</small>` : ''}` +
      `${json && status.startsWith('2') ? schemaBlock('Schema', json.schema, doc) : ''}</li>`;
  });
  parts.push(`<ul>${items.join('')}</ul>`);
  return `<section>${parts.join('\n')}</section>`;
}

export function renderDocsPage(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  const toc = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const tag = ((operation.tags as string[] | undefined) ?? ['other'])[0] ?? 'other';
      (byTag.get(tag) ?? byTag.set(tag, []).get(tag))?.push(operationHtml(method, path, operation, doc));
      (toc.get(tag) ?? toc.set(tag, []).get(tag))?.push(
        `<li><a href="#${escape(String(operation.operationId))}">${method.toUpperCase()} ${escape(path)}</a></li>`,
      );
    }
  }
  const nav = [...toc].map(([tag, links]) => `<h4>${escape(tag)}</h4><ul>${links.join('')}</ul>`).join('');
  const body = [...byTag].map(([tag, sections]) => `<h2>${escape(tag)}</h2>${sections.join('\n')}`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(doc.info.title)} — API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;display:flex;color:#1d1d1f}
nav{width:300px;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f5f5f7;padding:1em;box-sizing:border-box;font-size:13px}
nav ul{list-style:none;padding-left:0;margin:0 0 1em}nav a{color:#06c;text-decoration:none}
main{padding:1em 2em;max-width:960px;min-width:0}section{border-top:1px solid #ddd;padding:.5em 0}
.m{display:inline-block;min-width:4em;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px}
.get{background:#2e7d32}.post{background:#1565c0}.delete{background:#c62828}.put,.patch{background:#ef6c00}
.auth{color:#666;font-size:13px;margin-left:1em}pre{background:#f5f5f7;padding:.75em;overflow:auto;font-size:12px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;font-size:13px}
</style></head>
<body><nav><p><strong>${escape(doc.info.title)}</strong> ${escape(doc.info.version)}</p><p><a href="/openapi.json">openapi.json</a></p>${nav}</nav>
<main><h1>${escape(doc.info.title)}</h1><p>${escape(doc.info.description)}</p>
<p>Authenticate with an API key as <code>Authorization: Bearer sk-tao-…</code> or <code>x-api-key</code>; admin routes take <code>Authorization: Bearer $ADMIN_TOKEN</code>.</p>
${body}</main></body></html>`;
}
