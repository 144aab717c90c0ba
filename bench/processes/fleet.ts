/**
 * A fleet of bench miners in one process, one per entry of FLEET_FAULTS
 * (comma-separated fault modes, `none` for a healthy miner). Prints
 * `{ miners: [{ url, port, hotkey, fault }] }` as one JSON line.
 */
import { FAULT_MODES, startMiner, type FaultMode } from '../../src/devnet/miner.js';

const faults = (process.env.FLEET_FAULTS ?? 'none').split(',').map((f) => f.trim()) as FaultMode[];
const unknown = faults.filter((f) => !FAULT_MODES.includes(f));
if (unknown.length > 0) throw new Error(`unknown fault modes: ${unknown.join(', ')}`);
const slowMs = Number(process.env.SLOW_MS ?? 1500);

const miners = await Promise.all(
  faults.map((fault, i) => startMiner({ hotkeyUri: `//BenchFleet${i}`, name: `fleet${i}`, fault, slowMs, verifySignatures: process.env.VERIFY === '1' })),
);
console.log(JSON.stringify({ miners: miners.map((m) => ({ url: m.url, port: m.port, hotkey: m.hotkey, fault: m.fault })) }));
process.on('SIGTERM', () => void Promise.all(miners.map((m) => m.close())).then(() => process.exit(0)));
