import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { coalescedFlush } from '../src/worker/usage-flush.js';
import { variablesOf, type WorkerBindings } from '../src/worker/worker-env.js';

describe('Worker bindings as configuration', () => {
  it('reads [vars] written as TOML numbers, booleans and tables as the Node variables would read, and leaves resource bindings out', () => {
    class Namespace {
      idFromName() {
        return 'id';
      }
    }
    const env = {
      STORE: new Namespace(),
      METAGRAPH: new Namespace(),
      NETUIDS: '4,62',
      METAGRAPH_REFRESH_S: 15,
      ALLOW_PRIVATE_AXONS: true,
      SUBNET_MODELS: { '4': ['llama-3.1-8b'] },
    } as unknown as WorkerBindings;
    const variables = variablesOf(env);
    expect(Object.keys(variables).sort()).toEqual(['ALLOW_PRIVATE_AXONS', 'METAGRAPH_REFRESH_S', 'NETUIDS', 'SUBNET_MODELS']);
    const config = loadConfig(variables);
    expect(config).toMatchObject({ NETUIDS: [4, 62], METAGRAPH_REFRESH_S: 15, ALLOW_PRIVATE_AXONS: true, SUBNET_MODELS: { '4': ['llama-3.1-8b'] } });
  });
});

describe('usage writes on Workers', () => {
  it('coalesces the responses of one interval into one write, and schedules the next once a write has started', async () => {
    const written: number[][] = [];
    let journal: number[] = [];
    const schedule = coalescedFlush(async () => {
      written.push(journal);
      journal = [];
    }, 60);
    journal.push(1);
    const first = schedule();
    journal.push(2);
    const second = schedule(); // rides on the first
    await second;
    expect(written).toEqual([]);
    await first;
    expect(written).toEqual([[1, 2]]);
    journal.push(3);
    await schedule();
    expect(written).toEqual([[1, 2], [3]]);
  });
});
