import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileSource, MetagraphFileError, readMetagraphFile } from '../src/chain/file-source.js';
import { silentLogger } from '../src/log.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'taogate-mg-')), 'metagraph.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const miner = (uid: number, hotkey: string, incentive: number, extra: Record<string, unknown> = {}) => ({
  uid,
  hotkey,
  ip: '45.76.1.5',
  port: 9000 + uid,
  incentive,
  stake: 10,
  active: true,
  ...extra,
});

describe('METAGRAPH_FILE', () => {
  it('errors name the path and the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{oops', /not valid JSON/],
      [{ subnets: [{ netuid: 4, miners: [miner(0, 'not-an-address', 0.5)] }] }, /field subnets\[0\]\.miners\[0\]\.hotkey: must be an ss58 address/],
      [{ subnets: [{ netuid: 4, miners: [miner(0, ALICE, 1.5)] }] }, /field subnets\[0\]\.miners\[0\]\.incentive/],
      [{ subnets: [{ netuid: 4, miners: [miner(0, ALICE, 0.5, { ip: 'nowhere' })] }] }, /miners\[0\]\.ip: must be an IPv4 or IPv6 address/],
      [{ nets: [] }, /field subnets/],
    ];
    for (const [content, pattern] of cases) {
      const path = file(content);
      expect(() => readMetagraphFile(path)).toThrow(MetagraphFileError);
      expect(() => readMetagraphFile(path)).toThrow(new RegExp(`METAGRAPH_FILE ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      expect(() => readMetagraphFile(path)).toThrow(pattern);
    }
    expect(() => readMetagraphFile('/nonexistent/metagraph.json')).toThrow(/cannot read/);
  });

  it('ranks by incentive, keeps unroutable neurons with their reason, and stops start-up on a bad file', async () => {
    const path = file({
      subnets: [{ netuid: 4, models: ['m'], miners: [miner(0, ALICE, 0.2), miner(1, BOB, 0.6), miner(2, ALICE, 0.9, { port: 0 }), miner(3, BOB, 0.9, { active: false })] }],
    });
    const source = createFileSource({ path, addressPolicy: { allowPrivate: false }, logger: silentLogger() });
    await source.start();
    const subnet = source.current()?.subnets.get(4);
    expect(subnet?.ranked.map((m) => m.neuron.uid)).toEqual([1, 0]);
    expect(subnet?.ranked[0]?.score).toBeCloseTo(0.75, 10);
    expect(subnet?.ranked[1]?.score).toBeCloseTo(0.25, 10);
    expect(subnet?.unroutable.get(2)).toBe('no_axon');
    expect(subnet?.unroutable.get(3)).toBe('inactive');
    await source.stop();

    const bad = createFileSource({ path: file('[]'), addressPolicy: { allowPrivate: false }, logger: silentLogger() });
    await expect(bad.start()).rejects.toThrow(MetagraphFileError);
  });

  it('re-reads the file when it changes and keeps the last good one on a bad edit', async () => {
    const path = file({ subnets: [{ netuid: 4, models: ['m'], miners: [miner(0, ALICE, 0.2), miner(1, BOB, 0.6)] }] });
    const source = createFileSource({ path, addressPolicy: { allowPrivate: false }, logger: silentLogger(), pollMs: 20 });
    await source.start();
    try {
      expect(source.current()?.subnets.get(4)?.ranked[0]?.neuron.uid).toBe(1);
      const firstVersion = source.current()?.version;
      writeFileSync(path, JSON.stringify({ subnets: [{ netuid: 4, models: ['m'], miners: [miner(0, ALICE, 0.9), miner(1, BOB, 0.1)] }] }));
      await expect.poll(() => source.current()?.subnets.get(4)?.ranked[0]?.neuron.uid, { timeout: 5000 }).toBe(0);
      expect(source.current()?.version).not.toBe(firstVersion);
      writeFileSync(path, '{ broken');
      await expect.poll(() => source.status().state, { timeout: 5000 }).toBe('degraded');
      expect(source.status().error).toMatch(/not valid JSON/);
      expect(source.current()?.subnets.get(4)?.ranked[0]?.neuron.uid).toBe(0);
    } finally {
      await source.stop();
    }
  });
});
