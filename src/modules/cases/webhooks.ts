import { resolveWebhookSecret, sendWebhook, type WebhookOutcome } from '#platform/http/webhooks';
import type { Jobs } from '#platform/jobs/index';
import { scrub, type Logger } from '#platform/logging/index';
import type { CasesService } from './service.js';

/**
 * Sends the signed webhooks that case types configure for back-office systems. The service writes
 * one `case_webhooks` row per configured receiver in the same transaction as each status change;
 * this worker takes due rows with a lease, sends each row's stored payload byte for byte (so every
 * retry signs and sends the same bytes), retries passing failures with exponential backoff, and
 * marks a webhook failed after the last attempt or at once on a failure retrying will not fix.
 */

export const WEBHOOK_QUEUE = 'cases-webhooks';
export const STATUS_CHANGED_EVENT = 'case.status-changed';
export const MAX_WEBHOOK_ATTEMPTS = 5;
/** Rows taken per claim, so one run never holds the embedded database for long. */
const BATCH = 20;

export interface CaseWebhookWorkerOptions {
  service: Pick<CasesService, 'repo' | 'setWebhookNudge'>;
  jobs: Jobs;
  logger: Logger;
  /** Where the secrets named by case types' `secretEnv` are read from. */
  env: NodeJS.ProcessEnv;
  /** The wait after the first failed attempt; it doubles after each one. Default one minute. */
  retryBaseDelayMs?: number;
  /** How often due webhooks are looked for without a nudge. Default 10 seconds. */
  sweepIntervalMs?: number;
  /** How long a receiver has to answer. Default 10 seconds. */
  timeoutMs?: number;
  /** How long a claimed webhook is left to its worker before another may take it. Default 5 minutes. */
  leaseMs?: number;
}

export interface CaseWebhookWorker {
  start(): Promise<void>;
  /** Stops the sweep and waits for a run in progress to finish. */
  stop(): Promise<void>;
  /** Asks for due webhooks to be sent now; call after committing a status change. Never throws. */
  nudge(): Promise<void>;
  /** Sends every due webhook before returning. */
  deliverDueNow(): Promise<{ sent: number; retrying: number; failed: number }>;
}

type WebhookRow = Awaited<ReturnType<CasesService['repo']['claimWebhooks']>>[number];

/** The event a stored payload announces, so later kinds of case event can share the outbox. */
function eventOf(payload: string): string {
  try {
    const parsed: unknown = JSON.parse(payload);
    if (parsed !== null && typeof parsed === 'object' && 'event' in parsed && typeof parsed.event === 'string') return parsed.event;
  } catch {
    // A payload that is not JSON is still sent as it is; the receiver decides.
  }
  return STATUS_CHANGED_EVENT;
}

/** The receiver's host only: a URL's path or query may carry a token that does not belong in logs. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}

export function createCaseWebhookWorker(opts: CaseWebhookWorkerOptions): CaseWebhookWorker {
  const { repo } = opts.service;
  const { jobs } = opts;
  const log = opts.logger.child({ component: 'case-webhooks' });
  const retryBaseDelayMs = opts.retryBaseDelayMs ?? 60_000;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // The lease must outlast an attempt, or a slow receiver would be sent the same webhook twice at once.
  const leaseMs = Math.max(opts.leaseMs ?? 5 * 60_000, timeoutMs * 2);
  let timer: NodeJS.Timeout | undefined;
  let workerId: string | undefined;
  let started = false;
  let stopping = false;

  async function attempt(row: WebhookRow): Promise<WebhookOutcome> {
    const secret = resolveWebhookSecret({ secretEnv: row.secret_env }, opts.env);
    if (!secret.ok) return { ok: false, retryable: false, error: secret.error };
    return sendWebhook({ url: row.url, secret: secret.secret, body: row.payload, event: eventOf(row.payload), deliveryId: row.id, timeoutMs });
  }

  async function deliverOne(row: WebhookRow): Promise<'sent' | 'retrying' | 'failed'> {
    let outcome: WebhookOutcome;
    try {
      outcome = await attempt(row);
    } catch (error) {
      outcome = { ok: false, retryable: true, error: scrub(error instanceof Error ? error.message : String(error)).slice(0, 500) };
    }
    const context = { webhookId: row.id, caseId: row.case_id, receiver: hostOf(row.url), attempt: row.attempts };
    if (outcome.ok) {
      await repo.finishWebhook(row, { status: 'sent' });
      log.info(context, 'case webhook sent');
      return 'sent';
    }
    const giveUp = !outcome.retryable || row.attempts >= MAX_WEBHOOK_ATTEMPTS;
    await repo.finishWebhook(row, {
      status: giveUp ? 'failed' : 'pending',
      error: outcome.error,
      retryInMs: giveUp ? 0 : retryBaseDelayMs * 2 ** (row.attempts - 1),
    });
    if (giveUp) log.error({ ...context, error: outcome.error }, 'case webhook could not be sent');
    else log.warn({ ...context, error: outcome.error }, 'case webhook failed; it will be retried');
    return giveUp ? 'failed' : 'retrying';
  }

  async function run() {
    const totals = { sent: 0, retrying: 0, failed: 0 };
    for (;;) {
      const rows = await repo.claimWebhooks(BATCH, leaseMs, MAX_WEBHOOK_ATTEMPTS);
      for (const row of rows) totals[await deliverOne(row)] += 1;
      // A webhook held back behind an earlier one for its case becomes due as that one is sent.
      if (rows.length === 0 || stopping) return totals;
    }
  }

  let running: Promise<{ sent: number; retrying: number; failed: number }> | undefined;
  function deliverDueNow() {
    // One run at a time; a call during a run waits for it and then runs again for anything new.
    const next = (running ?? Promise.resolve(undefined)).catch(() => undefined).then(() => run());
    running = next.finally(() => {
      if (running === next) running = undefined;
    });
    return next;
  }
  function sweep() {
    if (!stopping) deliverDueNow().catch((error: unknown) => log.error({ error: String(error) }, 'case webhook sweep failed'));
  }

  const worker: CaseWebhookWorker = {
    async start() {
      if (started) return;
      started = true;
      stopping = false;
      await jobs.createQueue(WEBHOOK_QUEUE, { policy: 'stately', retryLimit: 3, retryDelay: 5, retryBackoff: true, expireInSeconds: 15 * 60 });
      workerId = await jobs.work(WEBHOOK_QUEUE, {}, async () => {
        if (!stopping) await deliverDueNow();
      });
      timer = setInterval(sweep, opts.sweepIntervalMs ?? 10_000);
      timer.unref();
      opts.service.setWebhookNudge(() => void worker.nudge());
      sweep();
    },
    async stop() {
      stopping = true;
      started = false;
      opts.service.setWebhookNudge(undefined);
      if (timer) clearInterval(timer);
      timer = undefined;
      if (workerId && jobs.started) await jobs.boss.offWork({ id: workerId }).catch(() => undefined);
      workerId = undefined;
      await running?.catch(() => undefined);
    },
    async nudge() {
      try {
        if (!started) return;
        if (jobs.started) {
          await jobs.send(WEBHOOK_QUEUE, {}, { singletonKey: 'send' });
          if (workerId) jobs.notifyWorker(workerId);
        } else sweep();
      } catch (error) {
        // The webhook is safely in the outbox; the sweep will send it.
        log.warn({ error: String(error) }, 'could not wake the case webhook worker; the sweep will send');
      }
    },
    deliverDueNow,
  };
  return worker;
}
