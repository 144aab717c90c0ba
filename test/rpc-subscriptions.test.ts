/** The subscription table of the chain's WebSocket provider, on its own. */
import { describe, expect, it } from 'vitest';
import { RpcResponseError } from '../src/chain/json-rpc-frame.js';
import { RpcSubscriptions, type SubscriptionRecord } from '../src/chain/rpc-subscriptions.js';

function recorder(type = 'chain_newHead') {
  const calls: Array<[Error | null, unknown]> = [];
  const record: SubscriptionRecord = { type, method: `${type}_subscribe`, params: [], callback: (error, result) => calls.push([error, result]) };
  return { calls, record };
}

describe('RpcSubscriptions', () => {
  it('delivers notifications to their subscriber, and one that arrived before the subscription id once the id is known', () => {
    const table = new RpcSubscriptions(() => {});
    const { calls, record } = recorder();
    table.notify('chain_newHead', 'sub-1', { result: { number: '0x1' } });
    expect(calls).toEqual([]);
    table.add('sub-1', record);
    expect(calls).toEqual([[null, { number: '0x1' }]]);
    table.notify('chain_newHead', 'sub-1', { result: { number: '0x2' } });
    table.notify('chain_newHead', 'sub-other', { result: { number: '0x3' } });
    expect(calls.map(([, r]) => r)).toEqual([{ number: '0x1' }, { number: '0x2' }]);
  });

  it('accepts both spellings of finalised, and passes an error notification as the error', () => {
    const table = new RpcSubscriptions(() => {});
    const { calls, record } = recorder('chain_finalizedHead');
    table.add(7, record);
    table.notify('chain_finalisedHead', 7, { result: 'a' });
    table.notify('chain_finalizedHead', 7, { error: { code: -32000, message: 'pruned' } });
    expect(calls[0]).toEqual([null, 'a']);
    expect(calls[1]?.[0]).toBeInstanceOf(RpcResponseError);
    expect(calls[1]?.[0]?.message).toBe('-32000: pruned');
  });

  it('reports a throwing subscriber instead of throwing into the socket handler', () => {
    const reported: unknown[] = [];
    const table = new RpcSubscriptions((error) => reported.push(error));
    table.add('s', { type: 't', method: 'm', params: [], callback: () => { throw new Error('subscriber bug'); } });
    expect(() => table.notify('t', 's', { result: 1 })).not.toThrow();
    expect((reported[0] as Error).message).toBe('subscriber bug');
  });

  it('holds at most 64 early notifications, forgets them on clearEarly, and hands every record over for resubscribing', () => {
    const table = new RpcSubscriptions(() => {});
    for (let i = 0; i < 100; i++) table.notify('t', `s${i}`, { result: i });
    const late = recorder('t');
    table.add('s80', late.record);
    expect(late.calls).toEqual([]);
    const kept = recorder('t');
    table.add('s10', kept.record);
    expect(kept.calls).toEqual([[null, 10]]);

    table.notify('t', 's20', { result: 20 });
    table.clearEarly();
    const cleared = recorder('t');
    table.add('s20', cleared.record);
    expect(cleared.calls).toEqual([]);

    expect(table.remove('t', 's80')).toBe(true);
    expect(table.remove('t', 's80')).toBe(false);
    expect(table.takeAll()).toEqual([kept.record, cleared.record]);
    expect(table.takeAll()).toEqual([]);
    table.notify('t', 's10', { result: 'after' });
    expect(kept.calls).toHaveLength(1);
  });
});
