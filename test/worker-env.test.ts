import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
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
