// A full re-link is seconds of arithmetic for a town and minutes for a borough. It runs on a worker thread, so
// the platform keeps answering requests meanwhile; this file is both the worker and the way to start it.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { MIN_TRAINING_RECORDS, relinkAll, starterModel, type Decision, type Relinked, type StoredRecord } from './matcher.js';
import type { LinkageModel } from './linkage/index.js';

interface RelinkJob {
  relink: { records: readonly StoredRecord[]; decisions: readonly Decision[]; model: LinkageModel | undefined };
}

/** relinkAll on a worker thread; stopping ends the worker and rejects. */
export function relinkOffThread(records: readonly StoredRecord[], decisions: readonly Decision[], stopping?: AbortSignal): Promise<Relinked> {
  // The starter model is trained once per process: the worker is given it rather than training it again.
  const job: RelinkJob = { relink: { records, decisions, model: records.length < MIN_TRAINING_RECORDS ? starterModel() : undefined } };
  return new Promise((resolve, reject) => {
    if (stopping?.aborted) return reject(new RelinkStopped());
    const worker = startWorker(job);
    const stop = () => void worker.terminate();
    stopping?.addEventListener('abort', stop, { once: true });
    worker.once('message', (result: Relinked) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', () => {
      stopping?.removeEventListener('abort', stop);
      // After a result this does nothing; otherwise the worker was stopped or died.
      reject(stopping?.aborted ? new RelinkStopped() : new Error('The re-link ended without a result'));
    });
  });
}

function startWorker(job: RelinkJob): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL(self), { workerData: job });
  // Run from TypeScript source, as the tests are: a worker does not inherit the TypeScript loader, so it loads it first.
  const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${loader}).then((tsx) => { tsx.register(); return import(${JSON.stringify(self)}); })`, { eval: true, workerData: job });
}

export class RelinkStopped extends Error {
  constructor() {
    super('The re-link was stopped because the platform is stopping');
  }
}

if (!isMainThread && (workerData as Partial<RelinkJob> | undefined)?.relink) {
  const { records, decisions, model } = (workerData as RelinkJob).relink;
  parentPort?.postMessage(relinkAll(records, decisions, model));
}
