/** @jsxImportSource hono/jsx */
/** /dashboard/keys (admins only): every API key with its usage and credit. */
import { Layout } from './layout.js';

export interface KeyUsageRow {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly revoked: boolean;
  readonly billing: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicroUsd: number;
  readonly creditMicroUsd: number | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
}

const usd = (micro: number) => `$${(micro / 1e6).toFixed(6)}`;

export function KeysPage(props: { readonly rows: readonly KeyUsageRow[]; readonly truncated: boolean }) {
  return (
    <Layout title="Keys" tab="keys" admin={true}>
      <h1>API keys and their usage</h1>
      <table id="keys">
        <thead>
          <tr>
            <th>id</th>
            <th>name</th>
            <th>created</th>
            <th>billing</th>
            <th class="num">requests</th>
            <th class="num">prompt / completion tokens</th>
            <th class="num">cost</th>
            <th class="num">credit left</th>
            <th class="num">rpm / tpm</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((k) => (
            <tr class={k.revoked ? 'muted' : ''}>
              <td class="mono">{k.id}</td>
              <td>
                {k.name}
                {k.revoked ? ' (revoked)' : ''}
              </td>
              <td>{k.createdAt.slice(0, 19).replace('T', ' ')}</td>
              <td>{k.billing}</td>
              <td class="num">{k.requests}</td>
              <td class="num">
                {k.promptTokens} / {k.completionTokens}
              </td>
              <td class="num">{usd(k.costMicroUsd)}</td>
              <td class="num">{k.creditMicroUsd === null ? '-' : usd(k.creditMicroUsd)}</td>
              <td class="num">
                {k.rpm ?? '-'} / {k.tpm ?? '-'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.truncated && <p class="muted">Showing the first keys only.</p>}
    </Layout>
  );
}
