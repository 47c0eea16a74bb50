import { mock } from 'node:test';
import { main } from '../../src/cli.js';

/** Runs the `borough` command line in-process, capturing what it prints. */
export async function borough(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const log = mock.method(console, 'log', (...a: unknown[]) => (out += `${a.join(' ')}\n`));
  const error = mock.method(console, 'error', (...a: unknown[]) => (err += `${a.join(' ')}\n`));
  try {
    return { code: await main(args), out, err };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}
