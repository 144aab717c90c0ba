/** Runs `npm start`'s real entry (src/server.ts) in a child process, for the tests of what start-up does. */
import { spawn } from 'node:child_process';

export interface NpmStart {
  /** Settles once `ready` matches the output (code null), or the process exits first (its code). */
  readonly done: Promise<{ code: number | null; output: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the entry with the given environment on top of this one, minus the
 * variables that choose the metagraph source and store (a test sets the ones it means).
 */
export function startNpmStart(env: NodeJS.ProcessEnv, ready: RegExp): NpmStart {
  const full: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  for (const name of ['SUBTENSOR_URL', 'METAGRAPH_FILE', 'REDIS_URL', 'NETUIDS']) delete full[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...full, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const done = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 25 s:\n${output}`)), 25_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ code: null, output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return { done, stop };
}
