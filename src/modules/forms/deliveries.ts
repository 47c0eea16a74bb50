import type { Jobs } from '#platform/jobs/index';
import { scrub, type Logger } from '#platform/logging/index';
import { queueEmail, type Notifier } from '#platform/notify/index';
import {
  caseContactFromAnswers,
  caseSettingsSchema,
  emailSettingsSchema,
  resolveWebhookSecret,
  sendWebhook,
  webhookPayload,
  webhookSettingsSchema,
  type CaseCreator,
  type CaseRequest,
  type DeliveryOutcome,
} from './delivery/targets.js';
import { asDb, type DeliveryRow, type FormsRepository, type SubmissionRow } from './repository.js';
import { summaryText, type SummarySection } from './runner/summary.js';

export const DELIVERY_QUEUE = 'forms-deliver';
export const MAX_DELIVERY_ATTEMPTS = 5;

export interface DeliveryWorkerOptions {
  repo: FormsRepository;
  jobs: Jobs;
  notifier: Notifier;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  formTitle(slug: string, version: number): Promise<string>;
  retryBaseDelayMs?: number;
  sweepIntervalMs?: number;
}

export interface DeliveryWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Asks for due deliveries to be made now; call after committing a submission. Never throws. */
  nudge(): Promise<void>;
  deliverDueNow(): Promise<{ delivered: number; retrying: number; failed: number }>;
  /** The case management capability registers itself here to take "create a case" deliveries. */
  setCaseCreator(creator: CaseCreator): void;
}

function submittedBy(row: SubmissionRow): CaseRequest['submittedBy'] {
  const channel = row.channel as 'online' | 'phone' | 'face-to-face';
  return {
    type: row.submitted_by,
    ...(row.resident_id ? { residentId: row.resident_id } : {}),
    ...(row.staff_id ? { staffId: row.staff_id } : {}),
    channel,
  };
}

/**
 * Delivers submissions to the targets their form names, from the `form_deliveries` outbox: rows
 * are written in the same transaction as the submission, and taken here with a lease, retried
 * with exponential backoff, and marked failed (visible to staff, who can retry) after the last try.
 */
export function createDeliveryWorker(opts: DeliveryWorkerOptions): DeliveryWorker {
  const { repo, jobs, logger } = opts;
  const log = logger.child({ component: 'form-deliveries' });
  const retryBaseDelayMs = opts.retryBaseDelayMs ?? 60_000;
  let caseCreator: CaseCreator | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopping = false;

  async function attempt(row: DeliveryRow, submission: SubmissionRow): Promise<DeliveryOutcome> {
    const title = await opts.formTitle(submission.slug, submission.version);
    const summary = submission.summary as SummarySection[];
    const base = {
      deliveryId: row.id,
      formSlug: submission.slug,
      formTitle: title,
      formVersion: submission.version,
      submissionId: submission.id,
      reference: submission.reference,
      submittedAt: new Date(submission.submitted_at),
      submittedBy: submittedBy(submission),
      answers: submission.answers,
      summary,
    };
    if (row.type === 'webhook') {
      const settings = webhookSettingsSchema.parse(row.settings);
      const secret = resolveWebhookSecret(settings, opts.env);
      if (!secret.ok) return { ok: false, retryable: false, error: secret.error };
      return sendWebhook({
        url: settings.url,
        secret: secret.secret,
        body: webhookPayload(base),
        deliveryId: row.id,
        timeoutMs: settings.timeoutSeconds * 1000,
      });
    }
    if (row.type === 'email') {
      const settings = emailSettingsSchema.parse(row.settings);
      // Handed to the notification outbox in the same transaction that records the delivery.
      await repo.transaction(async (tx) => {
        await queueEmail(asDb(tx), {
          to: settings.to,
          subject: `${settings.subjectPrefix ?? ''}${title}: ${submission.reference}`.trim(),
          body: `A new submission has arrived.\n\nForm: ${title}\nReference: ${submission.reference}\nSubmitted: ${new Date(submission.submitted_at).toISOString()}\n\n${summaryText(summary)}\n`,
          related: { type: 'form-submission', id: submission.id },
        });
        await repo.finishDelivery(row, { status: 'delivered', detail: `Sent to ${settings.to}` }, tx);
      });
      return { ok: true, detail: `Sent to ${settings.to}` };
    }
    const settings = caseSettingsSchema.parse(row.settings);
    if (caseCreator === undefined) return { ok: false, retryable: true, error: 'Case management is not taking submissions yet' };
    const created = await caseCreator.createCase({ ...base, settings, ...caseContactFromAnswers(settings, submission.answers) });
    return { ok: true, detail: `Case ${created.caseReference}` };
  }

  async function deliverOne(row: DeliveryRow): Promise<'delivered' | 'retrying' | 'failed'> {
    let outcome: DeliveryOutcome;
    try {
      const submission = await repo.submission(row.submission_id);
      if (submission === undefined) throw new Error('The submission is missing');
      outcome = await attempt(row, submission);
    } catch (error) {
      outcome = { ok: false, retryable: true, error: scrub(error instanceof Error ? error.message : String(error)).slice(0, 500) };
    }
    const context = { deliveryId: row.id, type: row.type, attempt: row.attempts };
    if (outcome.ok) {
      if (row.type !== 'email') await repo.finishDelivery(row, { status: 'delivered', detail: outcome.detail });
      log.info(context, 'submission delivered');
      return 'delivered';
    }
    const giveUp = !outcome.retryable || row.attempts >= MAX_DELIVERY_ATTEMPTS;
    await repo.finishDelivery(row, {
      status: giveUp ? 'failed' : 'pending',
      error: outcome.error,
      retryInMs: giveUp ? 0 : retryBaseDelayMs * 2 ** (row.attempts - 1),
    });
    if (giveUp) log.error({ ...context, error: outcome.error }, 'submission could not be delivered');
    else log.warn({ ...context, error: outcome.error }, 'submission delivery failed; it will be retried');
    return giveUp ? 'failed' : 'retrying';
  }

  let running: Promise<{ delivered: number; retrying: number; failed: number }> | undefined;
  async function run() {
    const totals = { delivered: 0, retrying: 0, failed: 0 };
    for (;;) {
      const rows = await repo.claimDeliveries(20, 5 * 60_000, MAX_DELIVERY_ATTEMPTS);
      for (const row of rows) totals[await deliverOne(row)] += 1;
      if (rows.length < 20 || stopping) return totals;
    }
  }
  function deliverDueNow() {
    // One run at a time; a call during a run waits for it and then runs again for anything new.
    const next = (running ?? Promise.resolve(undefined)).catch(() => undefined).then(() => run());
    running = next.finally(() => {
      if (running === next) running = undefined;
    });
    return next;
  }
  function sweep() {
    if (!stopping) deliverDueNow().catch((error: unknown) => log.error({ error: String(error) }, 'delivery sweep failed'));
  }

  return {
    setCaseCreator(creator) {
      caseCreator = creator;
    },
    async start() {
      if (started) return;
      started = true;
      stopping = false;
      await jobs.createQueue(DELIVERY_QUEUE, { policy: 'stately', retryLimit: 3, retryDelay: 5, retryBackoff: true, expireInSeconds: 15 * 60 });
      await jobs.work(DELIVERY_QUEUE, {}, async () => {
        if (!stopping) await deliverDueNow();
      });
      timer = setInterval(sweep, opts.sweepIntervalMs ?? 10_000);
      timer.unref();
      sweep();
    },
    async stop() {
      stopping = true;
      started = false;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
    async nudge() {
      try {
        if (started) await jobs.send(DELIVERY_QUEUE, {});
        await opts.notifier.nudge();
      } catch (error) {
        log.warn({ error: String(error) }, 'could not wake the delivery worker; the sweep will deliver');
      }
    },
    deliverDueNow,
  };
}
