/**
 * A key's metered usage as clients and admins see it: totals, per model and
 * per UTC day (with that day's models), read from the key's usage hash.
 * Money stays in integer micro-dollars; `cost_usd` is for display only.
 */
import type { CreditBalance, Store } from '../store/store.js';
import { USAGE_METRICS, usageHashKey, type UsageMetric } from './usage-journal.js';

export type UsageCounters = Record<UsageMetric, number> & { cost_usd: number };

export interface UsageReport {
  readonly totals: UsageCounters;
  readonly models: Record<string, UsageCounters>;
  readonly days: Array<{ date: string; models: Record<string, UsageCounters> } & UsageCounters>;
}

function zero(): UsageCounters {
  const counters = { cost_usd: 0 } as UsageCounters;
  for (const metric of USAGE_METRICS) counters[metric] = 0;
  return counters;
}

function addTo(counters: UsageCounters, metric: UsageMetric, by: number): void {
  counters[metric] += by;
  if (metric === 'cost_micro_usd') counters.cost_usd = counters.cost_micro_usd / 1_000_000;
}

export async function readUsage(store: Store, keyId: string): Promise<UsageReport> {
  const fields = await store.hgetall(usageHashKey(keyId));
  const totals = zero();
  const models: Record<string, UsageCounters> = {};
  const days = new Map<string, { date: string; models: Record<string, UsageCounters> } & UsageCounters>();
  for (const [field, value] of Object.entries(fields)) {
    // `<day>|<model>|<metric>`: the model may contain "|", the other two never do.
    const first = field.indexOf('|');
    const last = field.lastIndexOf('|');
    if (first < 0 || last <= first) continue;
    const date = field.slice(0, first);
    const model = field.slice(first + 1, last);
    const metric = field.slice(last + 1) as UsageMetric;
    if (!USAGE_METRICS.includes(metric)) continue;
    const by = Number(value);
    let day = days.get(date);
    if (!day) days.set(date, (day = { date, ...zero(), models: {} }));
    addTo(totals, metric, by);
    addTo((models[model] ??= zero()), metric, by);
    addTo(day, metric, by);
    addTo((day.models[model] ??= zero()), metric, by);
  }
  return { totals, models, days: [...days.values()].sort((a, b) => a.date.localeCompare(b.date)) };
}

export function creditView(balance: CreditBalance) {
  return {
    available_micro_usd: balance.available,
    reserved_micro_usd: balance.reserved,
    spent_micro_usd: balance.spent,
    topped_up_micro_usd: balance.toppedUp,
    available_usd: balance.available / 1_000_000,
  };
}
