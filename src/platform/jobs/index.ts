import PgBoss from 'pg-boss';
import type { SqlPool } from '#platform/db/index';
import type { Logger } from '#platform/logging/index';

/**
 * Background jobs on the platform's own database through pg-boss. Queues are created on first
 * use with retries and exponential backoff, so a job that fails for a passing reason (a mail
 * server down, a deadlock) is tried again later rather than lost.
 */

export type Job<T = object> = PgBoss.Job<T>;
export type SendOptions = PgBoss.SendOptions;
export type WorkOptions = PgBoss.WorkOptions;
export type QueueOptions = Omit<PgBoss.Queue, 'name'>;
export type ScheduleOptions = PgBoss.ScheduleOptions;
/** `stopping` is aborted when the process starts to stop: a long job ends at its next safe point. */
export type JobHandler<T> = (jobs: Job<T>[], context: { stopping: AbortSignal }) => Promise<unknown>;

/** Waits `ms`, or less if the process starts to stop meanwhile; true when it waited the whole time. */
export function waitUnlessStopping(ms: number, stopping: AbortSignal): Promise<boolean> {
  if (stopping.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onStop = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      stopping.removeEventListener('abort', onStop);
      resolve(true);
    }, ms);
    stopping.addEventListener('abort', onStop, { once: true });
  });
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = { retryLimit: 5, retryBackoff: true, retryDelay: 5 };

export interface JobsOptions {
  pool: SqlPool;
  logger: Logger;
  /** How often idle workers look for new jobs. pg-boss's minimum is 0.5 s. */
  pollingIntervalSeconds?: number;
  /** Time zone for cron schedules. */
  timeZone?: string;
  /** How long `stop()` waits for running jobs to finish before giving up on them. */
  stopTimeoutMs?: number;
}

export interface Jobs {
  start(): Promise<void>;
  /** Stops taking jobs, waits briefly for running ones, and leaves the database pool open. */
  stop(): Promise<void>;
  send<T extends object>(name: string, data?: T, options?: SendOptions): Promise<string | null>;
  work<T extends object>(name: string, options: WorkOptions, handler: JobHandler<T>): Promise<string>;
  /** Runs a job on a cron schedule (minute resolution), in the configured time zone. */
  schedule<T extends object>(name: string, cron: string, data?: T, options?: ScheduleOptions): Promise<void>;
  /** Creates a queue with its own options; queues used without this get the defaults. */
  createQueue(name: string, options?: QueueOptions): Promise<void>;
  /** Wakes this process's worker for a queue so it fetches now rather than at its next poll. */
  notifyWorker(workerId: string): void;
  readonly started: boolean;
  boss: PgBoss;
}

export function createJobs(opts: JobsOptions): Jobs {
  const { pool, logger } = opts;
  const pollingIntervalSeconds = opts.pollingIntervalSeconds ?? 2;
  const timeZone = opts.timeZone ?? 'Europe/London';
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  const log = logger.child({ component: 'jobs' });

  let pendingSql = 0;
  let runningHandlers = 0;
  let started = false;
  let stopping = false;
  let stopSignal = new AbortController();

  const boss = new PgBoss({
    db: {
      async executeSql(text: string, values?: unknown[]) {
        pendingSql++;
        try {
          return await pool.query(text, values ?? []);
        } finally {
          pendingSql--;
        }
      },
    },
    pollingIntervalSeconds,
    ...DEFAULT_QUEUE_OPTIONS,
  });
  boss.on('error', (err: Error & { queue?: string }) => {
    if (stopping) return;
    log.error({ err: { message: err.message, name: err.name }, queue: err.queue }, 'job queue error');
  });

  const queues = new Map<string, Promise<void>>();
  function ensureQueue(name: string, options?: QueueOptions): Promise<void> {
    let ready = queues.get(name);
    if (!ready || options) {
      const settings = { ...DEFAULT_QUEUE_OPTIONS, ...options, name };
      const previous = ready ?? Promise.resolve();
      // Creating is a no-op for an existing queue, so explicit options are applied as an update.
      ready = previous
        .catch(() => undefined)
        .then(() => boss.createQueue(name, settings))
        .then(() => (options ? boss.updateQueue(name, settings) : undefined));
      const attempt = ready;
      attempt.catch(() => {
        if (queues.get(name) === attempt) queues.delete(name);
      });
      queues.set(name, attempt);
    }
    return ready;
  }

  async function quiet(deadline: number): Promise<void> {
    while ((pendingSql > 0 || runningHandlers > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  return {
    boss,
    get started() {
      return started;
    },
    async start() {
      if (started) return;
      stopping = false;
      stopSignal = new AbortController();
      await boss.start();
      started = true;
    },
    async stop() {
      if (!started) return;
      stopping = true;
      stopSignal.abort();
      const deadline = Date.now() + stopTimeoutMs;
      await boss.stop({ graceful: true, close: false, timeout: stopTimeoutMs, wait: true });
      // A worker may be part-way through a fetch when asked to stop; let it settle before the
      // caller closes the pool underneath it.
      await quiet(deadline);
      started = false;
      queues.clear();
    },
    async send(name, data, options) {
      await ensureQueue(name);
      return boss.send(name, data ?? {}, options ?? {});
    },
    async work<T extends object>(name: string, options: WorkOptions, handler: JobHandler<T>) {
      await ensureQueue(name);
      return boss.work<T>(name, options, async (jobs) => {
        runningHandlers++;
        try {
          return await handler(jobs, { stopping: stopSignal.signal });
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          log.warn(
            { queue: name, jobIds: jobs.map((j) => j.id), err: { message: e.message, name: e.name } },
            'job failed; it will be retried if attempts remain',
          );
          throw e;
        } finally {
          runningHandlers--;
        }
      });
    },
    async schedule(name, cron, data, options) {
      await ensureQueue(name);
      await boss.schedule(name, cron, data ?? {}, { tz: timeZone, ...options });
    },
    async createQueue(name, options) {
      await ensureQueue(name, options ?? {});
    },
    notifyWorker(workerId) {
      boss.notifyWorker(workerId);
    },
  };
}
