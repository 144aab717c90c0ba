/** @jsxImportSource hono/jsx */
/**
 * /dashboard: each served subnet, in catalog order: a metagraph subnet with
 * its ranked miners, health and the snapshot they come from; a subnet served
 * by its own API with its models and that one upstream's health.
 */
import type { MetagraphSnapshot, SourceStatus, SubnetSnapshot } from '../chain/snapshot.js';
import type { MinerHealthView } from '../router/miner-health.js';
import type { BlendComponents } from '../router/blend.js';
import { Layout, percent, shortHotkey } from './layout.js';

export interface SubnetMinersView {
  readonly kind: 'miners';
  readonly subnet: SubnetSnapshot;
  readonly healthOf: (uid: number) => MinerHealthView | null;
  readonly blendOf: ((uid: number) => (BlendComponents & { blend_rank: number }) | null) | null;
}

export interface SubnetApiView {
  readonly kind: 'api';
  readonly netuid: number;
  /** The provider, e.g. subnet-api:chutes. */
  readonly provider: string;
  readonly models: readonly string[];
  readonly health: MinerHealthView | null;
}

export interface SubnetsPageProps {
  readonly admin: boolean;
  /** null while there is none: subnets served by their own API need none. */
  readonly snapshot: MetagraphSnapshot | null;
  readonly status: SourceStatus;
  readonly subnets: ReadonlyArray<SubnetMinersView | SubnetApiView>;
}

function HealthBadge({ health }: { health: MinerHealthView | null }) {
  if (!health) return <span class="badge new">no traffic yet</span>;
  return <span class={`badge ${health.state}`}>{health.state.replace('_', '-')}</span>;
}

/** What traffic taught the gateway about one upstream, a miner or a subnet's API alike. */
function HealthHeads() {
  return (
    <>
      <th>health</th>
      <th class="num">routing factor</th>
      <th class="num">latency</th>
      <th class="num">error rate</th>
    </>
  );
}

function HealthCells({ health }: { health: MinerHealthView | null }) {
  return (
    <>
      <td>
        <HealthBadge health={health} />
      </td>
      <td class="num">{health ? health.routing_factor.toFixed(3) : '1.000'}</td>
      <td class="num">{health?.ewma_latency_ms != null ? `${Math.round(health.ewma_latency_ms)} ms` : '-'}</td>
      <td class="num">{health ? percent(health.error_rate) : '-'}</td>
    </>
  );
}

function SubnetPanel({ view }: { view: SubnetMinersView }) {
  const { subnet } = view;
  return (
    <section class="panel" data-netuid={String(subnet.netuid)}>
      <h2>
        sn{subnet.netuid} <span class="muted">· {subnet.models.join(', ') || 'any model'} · RANK_BY={subnet.rankPolicy} · block {subnet.block ?? '-'}</span>
      </h2>
      {subnet.noRouteReason && <p class="error">{subnet.noRouteReason}</p>}
      <table>
        <thead>
          <tr>
            <th class="num">rank</th>
            <th class="num">uid</th>
            <th>hotkey</th>
            <th class="num">incentive</th>
            <th class="num">share</th>
            {view.blendOf && <th class="num">blend</th>}
            <HealthHeads />
          </tr>
        </thead>
        <tbody>
          {subnet.ranked.map((m) => {
            const health = view.healthOf(m.neuron.uid);
            const blend = view.blendOf?.(m.neuron.uid) ?? null;
            return (
              <tr>
                <td class="num">{m.rank}</td>
                <td class="num">{m.neuron.uid}</td>
                <td class="mono" title={m.neuron.hotkey}>
                  {shortHotkey(m.neuron.hotkey)}
                </td>
                <td class="num">{m.neuron.incentive.toFixed(4)}</td>
                <td class="num">{percent(m.score)}</td>
                {view.blendOf && <td class="num">{blend ? `${percent(blend.weight)} (#${blend.blend_rank})` : '-'}</td>}
                <HealthCells health={health} />
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="muted">
        {subnet.ranked.length} routable of {subnet.neurons.length} neurons
      </p>
    </section>
  );
}

function ApiPanel({ view }: { view: SubnetApiView }) {
  const { health } = view;
  return (
    <section class="panel" data-netuid={String(view.netuid)}>
      <h2>
        sn{view.netuid} <span class="muted">· served by its own API ({view.provider}) · {view.models.join(', ')}</span>
      </h2>
      <table>
        <thead>
          <tr>
            <th>upstream</th>
            <HealthHeads />
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>the subnet's API</td>
            <HealthCells health={health} />
          </tr>
        </tbody>
      </table>
    </section>
  );
}

export function SubnetsPage(props: SubnetsPageProps) {
  const { snapshot, status } = props;
  return (
    <Layout title="Subnets" tab="subnets" admin={props.admin}>
      <h1>Subnets and their upstreams</h1>
      <p class="muted" id="snapshot">
        {snapshot
          ? `Snapshot from ${snapshot.source} ${status.endpoint} · block ${snapshot.block ?? '-'} · version ${snapshot.version} · ${Math.round((Date.now() - snapshot.takenAt) / 1000)} s old · source ${status.state}`
          : `No metagraph snapshot yet · source ${status.state}`}
        {status.error ? ` (${status.error})` : ''}
      </p>
      {props.subnets.map((view) => (view.kind === 'api' ? <ApiPanel view={view} /> : <SubnetPanel view={view} />))}
    </Layout>
  );
}
