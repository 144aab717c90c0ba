/**
 * GET /v1/subnets and GET /v1/subnets/:netuid/miners: the ranked snapshot the
 * router uses, with its source, version/block and age, and the subnets served
 * by their own API (with that upstream's health), so an operator can see
 * exactly why traffic goes where it goes. Chain data is public; no key needed.
 * A subnet API's origin is the operator's business: it is shown only to a
 * caller with the admin token (its key never appears at all).
 */
import { Hono } from 'hono';
import type { MetagraphSnapshot, Neuron, SubnetSnapshot } from '../src/chain/snapshot.js';
import { invalidRequest, notFound } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { requireSnapshot } from '../src/chain/require-snapshot.js';
import { isAdminAuthorization } from '../src/http/require-admin.js';
import { minerBlendOf, minerHealthOf } from '../src/router/miner-views.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { MinerListSchema, SubnetListSchema } from '../src/openapi/response-schemas.js';
import { z } from 'zod';

function neuronView(neuron: Neuron) {
  return {
    uid: neuron.uid,
    hotkey: neuron.hotkey,
    coldkey: neuron.coldkey,
    incentive: neuron.incentive,
    stake_tao: neuron.stakeTao,
    active: neuron.active,
    validator_permit: neuron.validatorPermit,
    axon: neuron.axon ? `${neuron.axon.ipType === 6 ? `[${neuron.axon.ip}]` : neuron.axon.ip}:${neuron.axon.port}` : null,
    last_update: neuron.lastUpdate,
  };
}

function subnetSummary(gw: Gateway, snapshot: MetagraphSnapshot, subnet: SubnetSnapshot) {
  return {
    netuid: subnet.netuid,
    provider: gw.providerFor(subnet.netuid).kind,
    private: gw.catalog.isPrivate(subnet.netuid),
    // What the subnet's provider offers (a configured list wins over the snapshot's), as /v1/models lists it.
    models: gw.catalog.modelIds(subnet.netuid, snapshot),
    neurons: subnet.neurons.length,
    routable: subnet.ranked.length,
    rank_policy: subnet.rankPolicy,
    block: subnet.block,
    no_route_reason: subnet.noRouteReason,
  };
}

/** A subnet served by its own API: its models, the one upstream's health, and for an admin its origin. */
function apiSubnetSummary(gw: Gateway, netuid: number, admin: boolean) {
  const provider = gw.providerFor(netuid);
  const upstream = provider.upstreams(undefined)[0];
  return {
    netuid,
    provider: provider.kind,
    private: gw.catalog.isPrivate(netuid),
    models: gw.catalog.modelIds(netuid, null),
    ...(admin && { origin: upstream?.origin ?? null }),
    routable: 1,
    health: upstream ? gw.reliability.health.view(upstream.id) : null,
  };
}

export function subnetsRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  const isApi = (netuid: number) => gw.providerFor(netuid).source === 'config';

  app.get(
    '/v1/subnets',
    describeRoute({
      summary: 'The ranked snapshot the router uses (source, version/block, age) and each served subnet, miner subnets and subnet APIs alike',
      tags: ['Chain'],
      auth: 'public',
      responses: { 200: { description: 'Served subnets', json: { name: 'SubnetList', schema: SubnetListSchema } } },
      errors: [503],
    }),
    (c) => {
      // Subnet APIs need no snapshot; miners do.
      const snapshot = gw.catalog.netuids.some(isApi) ? gw.metagraph.current() : requireSnapshot(gw.metagraph);
      const status = gw.metagraph.status();
      const admin = isAdminAuthorization(c.req.header('authorization'), gw.config.ADMIN_TOKEN);
      return c.json({
        object: 'list',
        source: snapshot?.source ?? null,
        version: snapshot?.version ?? null,
        block: snapshot?.block ?? null,
        taken_at: snapshot ? new Date(snapshot.takenAt).toISOString() : null,
        age_s: snapshot ? Math.round((Date.now() - snapshot.takenAt) / 1000) : null,
        status: { state: status.state, endpoint: status.endpoint, error: status.error },
        data: gw.catalog.netuids.flatMap((netuid): object[] => {
          if (isApi(netuid)) return [apiSubnetSummary(gw, netuid, admin)];
          const subnet = snapshot?.subnets.get(netuid);
          return subnet && snapshot ? [subnetSummary(gw, snapshot, subnet)] : [];
        }),
      });
    },
  );

  app.get(
    '/v1/subnets/:netuid/miners',
    describeRoute({
      summary: "A subnet's ranked miners with rank, score, axon and what traffic taught the gateway about each (health)",
      tags: ['Chain'],
      auth: 'public',
      params: { netuid: { description: 'The subnet', schema: z.string().regex(/^\d+$/) } },
      query: { include: { description: '`unroutable` also lists the miners that are not routable, with the reason', schema: z.enum(['unroutable']) } },
      responses: { 200: { description: 'Ranked miners', json: { name: 'MinerList', schema: MinerListSchema } } },
      errors: [400, 404, 503],
    }),
    (c) => {
      const netuid = Number(c.req.param('netuid'));
      if (!Number.isInteger(netuid) || netuid < 0) throw invalidRequest('netuid must be a non-negative integer', 'netuid');
      if (gw.catalog.netuids.includes(netuid) && isApi(netuid)) {
        throw notFound(`subnet ${netuid} is served by its own API, not by miners the gateway picks; its health is in GET /v1/subnets`, 'subnet_has_no_miners');
      }
      const snapshot = requireSnapshot(gw.metagraph);
      const subnet = gw.catalog.netuids.includes(netuid) ? snapshot.subnets.get(netuid) : undefined;
      if (!subnet) throw notFound(`subnet ${netuid} is not served by this gateway`, 'subnet_not_found');
      const includeUnroutable = c.req.query('include') === 'unroutable';
      const health = minerHealthOf(gw, subnet);
      const blend = minerBlendOf(gw, subnet);
      const reasons: Record<string, number> = {};
      for (const reason of subnet.unroutable.values()) reasons[reason] = (reasons[reason] ?? 0) + 1;
      return c.json({
        object: 'list',
        ...subnetSummary(gw, snapshot, subnet),
        source: snapshot.source,
        version: snapshot.version,
        unroutable_by_reason: reasons,
        ...health.subnet,
        ...blend?.subnet,
        data: subnet.ranked.map((m) => ({
          rank: m.rank,
          score: m.score,
          routable: true,
          ...neuronView(m.neuron),
          health: health.of(m.neuron.uid),
          ...(blend && { blend: blend.of(m.neuron.uid) }),
        })),
        ...(includeUnroutable && {
          unroutable: subnet.neurons
            .filter((n) => subnet.unroutable.has(n.uid))
            .map((n) => ({ ...neuronView(n), routable: false, reason: subnet.unroutable.get(n.uid) })),
        }),
      });
    },
  );
  return app;
}
