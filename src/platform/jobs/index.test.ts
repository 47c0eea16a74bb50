import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type Database } from '#platform/db/index';
import { createLogger } from '#platform/logging/index';
import { createJobs, waitUnlessStopping, type Jobs } from './index.js';

let database: Database;
let jobs: Jobs;
const logger = createLogger({ level: 'silent' });

function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await check()) return resolve();
      if (Date.now() > deadline) return reject(new Error('timed out waiting'));
      setTimeout(tick, 25);
    };
    void tick();
  });
}

before(async () => {
  database = await openDatabase({});
  jobs = createJobs({ pool: database.pool, logger, pollingIntervalSeconds: 0.5 });
  await jobs.start();
});

after(async () => {
  await jobs.stop();
  await closeDatabase(database);
});

/** Closes the database, and the embedded engine under it even when no query went through Kysely. */
async function closeDatabase(d: Database): Promise<void> {
  await d.close();
  const pglite = (d.pool as { pglite?: { closed: boolean } }).pglite;
  if (pglite && !pglite.closed) await d.pool.end();
}

test('a sent job reaches its worker with its data', async () => {
  const seen: { n: number }[] = [];
  await jobs.work<{ n: number }>('test-deliver', { pollingIntervalSeconds: 0.5 }, async (batch) => {
    seen.push(...batch.map((job) => job.data));
  });
  const id = await jobs.send('test-deliver', { n: 7 });
  assert.ok(id);
  await waitUntil(() => seen.length === 1);
  assert.deepEqual(seen, [{ n: 7 }]);
});

test('queues are created on first use with retries and backoff', async () => {
  await jobs.send('test-defaults', { x: 1 });
  const queue = await jobs.boss.getQueue('test-defaults');
  assert.ok(queue);
  assert.equal(queue.retryLimit, 5);
  assert.equal(queue.retryBackoff, true);
  assert.equal(queue.retryDelay, 5);
});

test('a failing job is retried', async () => {
  let calls = 0;
  await jobs.createQueue('test-retry', { retryLimit: 2, retryDelay: 0, retryBackoff: false });
  await jobs.work('test-retry', { pollingIntervalSeconds: 0.5 }, async () => {
    calls++;
    if (calls < 2) throw new Error('temporary problem');
  });
  const id = await jobs.send('test-retry', {});
  assert.ok(id);
  await waitUntil(async () => (await jobs.boss.getJobById('test-retry', id))?.state === 'completed');
  assert.equal(calls, 2);
  const job = await jobs.boss.getJobById('test-retry', id);
  assert.equal(job?.retryCount, 1);
});

test('a worker can be woken without waiting for its next poll', async () => {
  let ran = 0;
  const workerId = await jobs.work('test-wake', { pollingIntervalSeconds: 30 }, async () => {
    ran++;
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await jobs.send('test-wake', {});
  jobs.notifyWorker(workerId);
  await waitUntil(() => ran === 1, 3000);
});

test('schedules are recorded with the council time zone', async () => {
  await jobs.schedule('test-nightly', '0 2 * * *', { kind: 'nightly' });
  const schedules = await jobs.boss.getSchedules();
  const nightly = schedules.find((s) => s.name === 'test-nightly');
  assert.ok(nightly);
  assert.equal(nightly.cron, '0 2 * * *');
  assert.equal((nightly as { timezone?: string }).timezone, 'Europe/London');
});

test('stop is quick and can be called again', async () => {
  const other = createJobs({ pool: database.pool, logger, pollingIntervalSeconds: 0.5 });
  await other.start();
  await other.work('test-stop', { pollingIntervalSeconds: 0.5 }, async () => undefined);
  const startedAt = Date.now();
  await other.stop();
  await other.stop();
  assert.ok(Date.now() - startedAt < 3000, `stop took ${Date.now() - startedAt} ms`);
  assert.equal(other.started, false);
});

test('a long job is told when the process stops, and stop waits for it to end', async () => {
  const other = createJobs({ pool: database.pool, logger, pollingIntervalSeconds: 0.5 });
  await other.start();
  let steps = 0;
  let ended: 'told to stop' | 'ran out' | undefined;
  await other.work('test-long', { pollingIntervalSeconds: 0.5 }, async (_jobs, { stopping }) => {
    for (; steps < 500; steps++) {
      if (stopping.aborted) return (ended = 'told to stop');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    ended = 'ran out';
  });
  await other.send('test-long', {});
  await waitUntil(() => steps > 2);
  await other.stop();
  assert.equal(ended, 'told to stop', 'the job ended when told, before stop returned');
  assert.ok(steps < 500, `the job stopped after ${steps} of 500 steps`);
});

test('a job can wait a while, and stops waiting when the process stops', async () => {
  const running = new AbortController();
  assert.equal(await waitUnlessStopping(20, running.signal), true);
  const startedAt = Date.now();
  const waiting = waitUnlessStopping(60_000, running.signal);
  setTimeout(() => running.abort(), 20);
  assert.equal(await waiting, false);
  assert.ok(Date.now() - startedAt < 5000, `stopped waiting after ${Date.now() - startedAt} ms`);
  assert.equal(await waitUnlessStopping(60_000, running.signal), false, 'no wait at all once stopping');
});
