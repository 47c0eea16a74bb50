import { recordAudit } from '#platform/audit/index';
import type { Files } from '#platform/files/index';
import type { Jobs } from '#platform/jobs/index';
import { queueEmail, type Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import type { Account } from '#modules/account/index';
import { asDb } from './repository.js';
import type { CasesService } from './service.js';
import { dueSoonBoundary } from './sla.js';
import { createCaseWebhookWorker } from './webhooks.js';

export const SLA_QUEUE = 'cases-sla';
export const SUMMARY_QUEUE = 'cases-daily-summary';
export const RETENTION_QUEUE = 'cases-retention';
/** Cases handled per batch, so one run never holds the embedded database for long. */
const BATCH = 200;

export interface CaseJobs {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Flags breached cases and warns of those due soon. */
  checkSla(now?: Date): Promise<{ breached: number; dueSoon: number }>;
  /** Emails each team's leaders the state of their queue. */
  sendDailySummaries(now?: Date): Promise<number>;
  /** Anonymises closed cases past their type's retention period. */
  applyRetention(now?: Date): Promise<number>;
}

export function createCaseJobs(opts: { service: CasesService; jobs: Jobs; notifier: Notifier; platform: Platform; account: Account; files: Files }): CaseJobs {
  const { service, jobs, notifier, platform, account, files } = opts;
  const { repo, calendar } = service;
  const log = platform.logger.child({ component: 'case-jobs' });
  // Case types name the environment variables holding their webhook secrets.
  const webhooks = createCaseWebhookWorker({ service, jobs, logger: platform.logger, env: process.env });

  async function checkSla(now = new Date()) {
    let breached = 0;
    for (let batch = await repo.dueForBreach(now, BATCH); batch.length > 0; batch = await repo.dueForBreach(now, BATCH)) {
      await repo.transaction(async (tx) => {
        for (const row of batch) {
          await tx.updateTable('cases').set({ breached_at: now }).where('id', '=', row.id).where('breached_at', 'is', null).execute();
          await repo.addEvent(tx, {
            caseId: row.id,
            kind: 'sla',
            actor: { type: 'system' },
            body: 'Missed its target date',
            details: { state: 'breached', dueAt: row.due_at },
          });
        }
      });
      breached += batch.length;
    }
    let dueSoon = 0;
    const before = dueSoonBoundary(now, calendar);
    let warned = false;
    for (let batch = await repo.dueSoonUnwarned(now, before, BATCH); batch.length > 0; batch = await repo.dueSoonUnwarned(now, before, BATCH)) {
      const assignees = new Map(
        (
          await Promise.all([...new Set(batch.map((r) => r.assignee_id).filter((id): id is string => id !== null))].map((id) => account.staff.findMember(id)))
        ).flatMap((m) => (m ? [[m.id, m] as const] : [])),
      );
      await repo.transaction(async (tx) => {
        for (const row of batch) {
          await tx.updateTable('cases').set({ due_soon_at: now }).where('id', '=', row.id).execute();
          await repo.addEvent(tx, {
            caseId: row.id,
            kind: 'sla',
            actor: { type: 'system' },
            body: 'Due soon',
            details: { state: 'due-soon', dueAt: row.due_at },
          });
          const assignee = row.assignee_id ? assignees.get(row.assignee_id) : undefined;
          if (assignee && assignee.status === 'active') {
            await queueEmail(asDb(tx), {
              to: assignee.email,
              subject: `Case ${row.reference} is due soon`,
              body: `Case ${row.reference} (${service.types.get(row.type)?.name ?? row.type}) is due by ${formatWhen(row.due_at)}.\n\n${platform.config.baseUrl}/staff/cases/${row.reference}\n`,
              related: { type: 'case', id: row.id },
            });
            warned = true;
          }
        }
      });
      dueSoon += batch.length;
    }
    if (warned) await notifier.nudge();
    return { breached, dueSoon };
  }

  function formatWhen(value: Date | null): string {
    return value ? new Date(value).toLocaleString('en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone: calendar.timeZone }) : 'no set date';
  }

  async function sendDailySummaries(now = new Date()) {
    const before = dueSoonBoundary(now, calendar);
    let sent = 0;
    for (const team of platform.council.teams) {
      const leaders = await account.staff.teamMembers(team.code, 'team-leader');
      if (leaders.length === 0) continue;
      const counts = await repo.teamSummary(team.code, now, before);
      const body = [
        `${team.name}: the queue this morning.`,
        '',
        `Open cases: ${counts.open}`,
        `Not assigned: ${counts.unassigned}`,
        `Due within a working day: ${counts.dueSoon}`,
        `Past their target date: ${counts.breached}`,
        '',
        `${platform.config.baseUrl}/staff/cases?team=${team.code}&sla=breached`,
      ].join('\n');
      await repo.transaction(async (tx) => {
        for (const leader of leaders) {
          await queueEmail(asDb(tx), { to: leader.email, subject: `${team.name}: ${counts.breached} cases past target, ${counts.dueSoon} due soon`, body });
          sent += 1;
        }
      });
    }
    if (sent > 0) await notifier.nudge();
    return sent;
  }

  async function applyRetention(now = new Date()) {
    let anonymised = 0;
    for (const type of service.types.values()) {
      const before = new Date(now.getTime() - type.retentionDays * 86_400_000);
      for (let batch = await repo.closedBefore(type.code, before, BATCH); batch.length > 0; batch = await repo.closedBefore(type.code, before, BATCH)) {
        for (const row of batch) {
          const fileIds = await repo.attachmentFileIds(row.id);
          await repo.transaction(async (tx) => {
            await repo.anonymise(tx, row);
            await repo.deleteAttachments(tx, row.id);
            await repo.addEvent(tx, { caseId: row.id, kind: 'anonymised', actor: { type: 'system' }, details: { retentionDays: type.retentionDays } });
            await recordAudit(asDb(tx), {
              actor: { type: 'system' },
              action: 'case.anonymised',
              subject: { type: 'case', id: row.id },
              reason: `Closed more than ${type.retentionDays} days ago`,
              details: { reference: row.reference, type: row.type },
            });
          });
          // The files go after the rows, so a failure leaves an orphan file rather than a broken link.
          for (const id of fileIds) await files.remove(platform.database.db, id);
          anonymised += 1;
        }
      }
    }
    return anonymised;
  }

  let started = false;
  return {
    checkSla,
    sendDailySummaries,
    applyRetention,
    async start() {
      if (started) return;
      started = true;
      await jobs.work(SLA_QUEUE, {}, async () => {
        const result = await checkSla();
        if (result.breached || result.dueSoon) log.info(result, 'case clocks checked');
      });
      await jobs.schedule(SLA_QUEUE, '*/5 * * * *');
      await jobs.work(SUMMARY_QUEUE, {}, async () => {
        log.info({ sent: await sendDailySummaries() }, 'team summaries sent');
      });
      await jobs.schedule(SUMMARY_QUEUE, '0 7 * * 1-5');
      await jobs.work(RETENTION_QUEUE, {}, async () => {
        log.info({ anonymised: await applyRetention() }, 'case retention applied');
        await repo.tidy();
      });
      await jobs.schedule(RETENTION_QUEUE, '30 2 * * *');
      await webhooks.start();
    },
    async stop() {
      started = false;
      await webhooks.stop();
    },
  };
}
