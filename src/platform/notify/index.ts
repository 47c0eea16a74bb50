import { sql, type ColumnType, type Generated, type Kysely, type Selectable } from 'kysely';
import type { Config } from '#platform/config/index';
import type { Jobs } from '#platform/jobs/index';
import { scrub, type Logger } from '#platform/logging/index';
import { PermanentDeliveryError, transportFor, type StoredAttachment, type Transport } from './transports.js';

export { notifyMigrations } from './migrations.js';
export {
  PermanentDeliveryError,
  createDatabaseTransport,
  createNotifyTransport,
  createSmtpTransport,
  transportFor,
  type DeliveryReceipt,
  type NotifyClientLike,
  type OutgoingEmail,
  type OutgoingSms,
  type StoredAttachment,
  type Transport,
} from './transports.js';

/**
 * The notification outbox. Services write a message in the same transaction as the change that
 * caused it (`queueEmail(tx, ...)`), so a message exists exactly when the change committed. A
 * worker then delivers pending messages through the configured transport, retrying with backoff.
 */

export type Channel = 'email' | 'sms';
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed';

export interface NotificationOutboxTable {
  id: Generated<string>;
  channel: Channel;
  recipient: string;
  subject: string | null;
  body: string;
  /** Written as JSON text, read back as an array. */
  attachments: ColumnType<StoredAttachment[], string | undefined, string>;
  status: ColumnType<OutboxStatus, OutboxStatus | undefined, OutboxStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  transport: string | null;
  provider_reference: string | null;
  related_type: string | null;
  related_id: string | null;
  /** A one-click unsubscribe link (RFC 8058) for emails someone signed up to, such as alerts. */
  unsubscribe_url: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  next_attempt_at: Generated<Date>;
  sent_at: Date | null;
}

type OutboxDb = { notification_outbox: NotificationOutboxTable };
type Row = Selectable<NotificationOutboxTable>;

export interface Related {
  /** What the message is about, e.g. `case`, `report`, `booking`. */
  type: string;
  id: string;
}

export interface EmailAttachment {
  filename: string;
  contentType: string;
  /** Text is sent as UTF-8. */
  content: string | Uint8Array;
}

export interface EmailMessage {
  to: string;
  subject: string;
  /** Plain text. */
  body: string;
  attachments?: EmailAttachment[];
  related?: Related;
  /** For emails someone asked for (updates, alerts): a link that stops them with one POST, offered by mail programs. */
  unsubscribeUrl?: string;
}

export interface SmsMessage {
  to: string;
  body: string;
  related?: Related;
}

export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

export const MAX_ATTACHMENT_BYTES = 1024 * 1024;
export const MAX_SMS_LENGTH = 918;

const EMAIL = /^[^\s@<>,;"()[\]\\]+@[^\s@<>,;"()[\]\\]+\.[^\s@<>,;"()[\]\\]+$/;
const PHONE = /^\+?[\d\s().-]{7,24}$/;
const FILENAME = /^[^/\\\r\n\0]{1,200}$/;
const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\r\n]*"|[^;\s\r\n]+))*$/;

/** Narrows any Kysely instance or transaction to the outbox table. */
function outbox<DB>(executor: Kysely<DB>): Kysely<OutboxDb> {
  return (executor as unknown as Kysely<object>).withTables<OutboxDb>();
}

function checkRelated(related: Related | undefined): void {
  if (related && (!related.type || !related.id)) throw new InvalidMessageError('A related record needs a type and an ID');
}

function storeAttachments(attachments: EmailAttachment[] = []): StoredAttachment[] {
  let total = 0;
  return attachments.map((a) => {
    if (!FILENAME.test(a.filename)) throw new InvalidMessageError('Attachment file name is not allowed');
    if (!CONTENT_TYPE.test(a.contentType)) throw new InvalidMessageError('Attachment content type is not a MIME type');
    const bytes = typeof a.content === 'string' ? Buffer.from(a.content, 'utf8') : Buffer.from(a.content);
    total += bytes.length;
    if (total > MAX_ATTACHMENT_BYTES) throw new InvalidMessageError('Attachments are too large for the outbox (1 MB in total)');
    return { filename: a.filename, contentType: a.contentType, content: bytes.toString('base64') };
  });
}

/**
 * Writes an email to the outbox using the caller's executor, normally the transaction that made the
 * change the email is about. Call `notifier.nudge()` after the transaction commits to send it at
 * once; otherwise the next sweep sends it within seconds. Returns the message ID.
 */
export async function queueEmail<DB>(executor: Kysely<DB>, message: EmailMessage): Promise<string> {
  const to = message.to.trim();
  if (to.length > 320 || !EMAIL.test(to)) throw new InvalidMessageError('Email recipient is not an email address');
  const subject = message.subject.trim();
  if (!subject) throw new InvalidMessageError('Email subject is empty');
  if (/[\r\n]/.test(subject)) throw new InvalidMessageError('Email subject must be one line');
  if (!message.body.trim()) throw new InvalidMessageError('Email body is empty');
  checkRelated(message.related);
  if (message.unsubscribeUrl !== undefined && !/^https?:\/\/[^\s<>]+$/.test(message.unsubscribeUrl))
    throw new InvalidMessageError('The unsubscribe link must be an http or https URL');
  const attachments = storeAttachments(message.attachments);
  const row = await outbox(executor)
    .insertInto('notification_outbox')
    .values({
      channel: 'email',
      recipient: to,
      subject,
      body: message.body,
      attachments: JSON.stringify(attachments),
      related_type: message.related?.type ?? null,
      related_id: message.related?.id ?? null,
      unsubscribe_url: message.unsubscribeUrl ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Writes a text message to the outbox using the caller's executor. Returns the message ID. */
export async function queueSms<DB>(executor: Kysely<DB>, message: SmsMessage): Promise<string> {
  const to = message.to.trim();
  if (!PHONE.test(to) || to.replace(/\D/g, '').length < 7) throw new InvalidMessageError('Text message recipient is not a phone number');
  if (!message.body.trim()) throw new InvalidMessageError('Text message is empty');
  if ([...message.body].length > MAX_SMS_LENGTH) throw new InvalidMessageError(`Text message is longer than ${MAX_SMS_LENGTH} characters`);
  checkRelated(message.related);
  const row = await outbox(executor)
    .insertInto('notification_outbox')
    .values({
      channel: 'sms',
      recipient: to,
      subject: null,
      body: message.body,
      related_type: message.related?.type ?? null,
      related_id: message.related?.id ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface MessageSummary {
  id: string;
  channel: Channel;
  recipient: string;
  subject: string | null;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  transport: string | null;
  related: Related | null;
  attachmentNames: string[];
  createdAt: Date;
  nextAttemptAt: Date;
  sentAt: Date | null;
}

export interface StoredMessage extends MessageSummary {
  body: string;
  attachments: StoredAttachment[];
  providerReference: string | null;
}

export interface ListMessagesOptions {
  /** Exact address or number, ignoring case. */
  recipient?: string;
  status?: OutboxStatus;
  related?: Related;
  limit?: number;
  /** Only messages created before this moment (for paging back). */
  before?: Date;
}

export interface DeliveryRun {
  sent: number;
  retrying: number;
  failed: number;
}

export interface NotifierOptions {
  db: Kysely<object>;
  jobs?: Jobs | undefined;
  config: Pick<Config, 'mail'>;
  logger: Logger;
  /** Replaces the transport the configuration would choose. */
  transport?: Transport;
  /** Delivery attempts before a message is marked failed. */
  maxAttempts?: number;
  /** Wait after the first failure; doubles after each further failure. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** How often a started notifier looks for due messages. */
  sweepIntervalMs?: number;
  batchSize?: number;
  /** Messages being sent by a process that stops responding are picked up again after this long. */
  leaseMs?: number;
  /** How often the delivery worker polls its queue. */
  pollingIntervalSeconds?: number;
}

export interface Notifier {
  /** Starts delivering: a job worker, woken by `nudge()`, and a sweep every few seconds. */
  start(): Promise<void>;
  /** Stops delivering and waits for messages being sent to finish. */
  stop(): Promise<void>;
  /** Asks for pending messages to be sent now. Call after committing a transaction that queued messages. Never throws. */
  nudge(): Promise<void>;
  /** Delivers every due message before returning. */
  deliverPendingNow(): Promise<DeliveryRun>;
  listMessages(opts?: ListMessagesOptions): Promise<MessageSummary[]>;
  getMessage(id: string): Promise<StoredMessage | undefined>;
  /** Puts a failed message back in the queue with its attempts reset. */
  retryMessage(id: string): Promise<boolean>;
  readonly transport: Transport;
}

export const DELIVER_QUEUE = 'notify-deliver';
export const DEFAULT_MAX_ATTEMPTS = 5;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function summary(row: Row): MessageSummary {
  const attachments = Array.isArray(row.attachments) ? row.attachments : [];
  return {
    id: row.id,
    channel: row.channel,
    recipient: row.recipient,
    subject: row.subject,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    transport: row.transport,
    related: row.related_type && row.related_id ? { type: row.related_type, id: row.related_id } : null,
    attachmentNames: attachments.map((a) => a.filename),
    createdAt: new Date(row.created_at),
    nextAttemptAt: new Date(row.next_attempt_at),
    sentAt: row.sent_at ? new Date(row.sent_at) : null,
  };
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ` : '';
  return scrub(`${code}${message}`).slice(0, 1000);
}

export function createNotifier(opts: NotifierOptions): Notifier {
  const db = outbox(opts.db);
  const log = opts.logger.child({ component: 'notify' });
  const transport = opts.transport ?? transportFor(opts.config.mail);
  const from = opts.config.mail.from;
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const retryBaseDelayMs = opts.retryBaseDelayMs ?? 60_000;
  const retryMaxDelayMs = opts.retryMaxDelayMs ?? 60 * 60_000;
  const sweepIntervalMs = opts.sweepIntervalMs ?? 5_000;
  const batchSize = opts.batchSize ?? 20;
  const leaseMs = opts.leaseMs ?? 5 * 60_000;
  const concurrency = 4;

  let sweepTimer: NodeJS.Timeout | undefined;
  let workerId: string | undefined;
  let started = false;
  let stopping = false;

  function backoffMs(attempts: number): number {
    return Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** Math.max(0, attempts - 1));
  }

  async function claim(): Promise<Row[]> {
    // Messages whose sender vanished mid-send come back once their lease runs out, unless they
    // have used up their attempts.
    await sql`
      UPDATE notification_outbox
      SET status = 'failed', last_error = 'Delivery was interrupted too many times'
      WHERE status = 'sending' AND next_attempt_at <= now() AND attempts >= ${maxAttempts}
    `.execute(db);
    const result = await sql<Row>`
      UPDATE notification_outbox
      SET status = 'sending', attempts = attempts + 1, next_attempt_at = now() + ${leaseMs}::double precision * interval '1 millisecond'
      WHERE id IN (
        SELECT id FROM notification_outbox
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
        ORDER BY next_attempt_at, created_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING *
    `.execute(db);
    return result.rows;
  }

  async function deliverOne(row: Row): Promise<keyof DeliveryRun> {
    const attachments = Array.isArray(row.attachments) ? row.attachments : [];
    try {
      const receipt =
        row.channel === 'email'
          ? await transport.sendEmail({
              id: row.id,
              to: row.recipient,
              from,
              subject: row.subject ?? '',
              body: row.body,
              attachments,
              unsubscribeUrl: row.unsubscribe_url ?? undefined,
            })
          : await transport.sendSms({ id: row.id, to: row.recipient, body: row.body });
      await db
        .updateTable('notification_outbox')
        .set({ status: 'sent', sent_at: sql<Date>`now()`, transport: transport.name, provider_reference: receipt.providerReference ?? null, last_error: null })
        .where('id', '=', row.id)
        .where('status', '=', 'sending')
        .where('attempts', '=', row.attempts)
        .execute();
      if (receipt.droppedAttachments)
        log.warn({ messageId: row.id, transport: transport.name, dropped: receipt.droppedAttachments }, 'message sent without its attachments');
      log.info({ messageId: row.id, channel: row.channel, transport: transport.name, attempt: row.attempts }, 'message sent');
      return 'sent';
    } catch (err) {
      const permanent = err instanceof PermanentDeliveryError;
      const giveUp = permanent || row.attempts >= maxAttempts;
      const lastError = describe(err);
      await db
        .updateTable('notification_outbox')
        .set({
          status: giveUp ? 'failed' : 'pending',
          last_error: lastError,
          transport: transport.name,
          next_attempt_at: giveUp ? sql<Date>`now()` : sql<Date>`now() + ${backoffMs(row.attempts)}::double precision * interval '1 millisecond'`,
        })
        .where('id', '=', row.id)
        .where('status', '=', 'sending')
        .where('attempts', '=', row.attempts)
        .execute();
      const context = { messageId: row.id, channel: row.channel, transport: transport.name, attempt: row.attempts, error: lastError };
      if (giveUp) log.error(context, permanent ? 'message could not be sent and will not be retried' : 'message failed after its last attempt');
      else log.warn(context, 'message delivery failed; it will be retried');
      return giveUp ? 'failed' : 'retrying';
    }
  }

  async function run(): Promise<DeliveryRun> {
    const totals: DeliveryRun = { sent: 0, retrying: 0, failed: 0 };
    for (;;) {
      const rows = await claim();
      if (rows.length === 0) break;
      let next = 0;
      const lanes = Array.from({ length: Math.min(concurrency, rows.length) }, async () => {
        for (let row = rows[next++]; row; row = rows[next++]) {
          totals[await deliverOne(row)]++;
        }
      });
      await Promise.all(lanes);
      if (rows.length < batchSize || stopping) break;
    }
    return totals;
  }

  let active: Promise<DeliveryRun> | undefined;
  let queued: Promise<DeliveryRun> | undefined;

  function deliverPendingNow(): Promise<DeliveryRun> {
    if (!active) {
      active = run().finally(() => {
        active = undefined;
      });
      return active;
    }
    // A run is under way and may already have passed messages queued since: run once more after it.
    queued ??= active
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return stopping ? { sent: 0, retrying: 0, failed: 0 } : deliverPendingNow();
      });
    return queued;
  }

  function sweep(): void {
    if (stopping) return;
    deliverPendingNow().catch((err: unknown) => log.error({ error: describe(err) }, 'notification sweep failed'));
  }

  const notifier: Notifier = {
    transport,
    async start() {
      if (started) return;
      started = true;
      stopping = false;
      if (opts.jobs) {
        await opts.jobs.start();
        await opts.jobs.createQueue(DELIVER_QUEUE, { policy: 'stately', retryLimit: 3, retryDelay: 5, retryBackoff: true, expireInSeconds: 15 * 60 });
        workerId = await opts.jobs.work(DELIVER_QUEUE, { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2 }, async () => {
          if (!stopping) await deliverPendingNow();
        });
      }
      sweepTimer = setInterval(sweep, sweepIntervalMs);
      sweepTimer.unref();
      sweep();
    },
    async stop() {
      stopping = true;
      if (sweepTimer) clearInterval(sweepTimer);
      sweepTimer = undefined;
      if (opts.jobs && workerId) await opts.jobs.boss.offWork({ id: workerId }).catch(() => undefined);
      workerId = undefined;
      await Promise.allSettled([active, queued]);
      await transport.close();
      started = false;
    },
    async nudge() {
      try {
        if (opts.jobs?.started) {
          await opts.jobs.send(DELIVER_QUEUE, {}, { singletonKey: 'deliver' });
          if (workerId) opts.jobs.notifyWorker(workerId);
        } else if (started) {
          sweep();
        }
      } catch (err) {
        // The message is safely in the outbox; the sweep will send it.
        log.warn({ error: describe(err) }, 'could not wake the notification worker');
        if (started) sweep();
      }
    },
    deliverPendingNow,
    async listMessages(o: ListMessagesOptions = {}) {
      let q = db.selectFrom('notification_outbox').selectAll();
      if (o.recipient) q = q.where(sql<string>`lower(recipient)`, '=', o.recipient.trim().toLowerCase());
      if (o.status) q = q.where('status', '=', o.status);
      if (o.related) q = q.where('related_type', '=', o.related.type).where('related_id', '=', o.related.id);
      if (o.before) q = q.where('created_at', '<', o.before);
      const limit = Math.min(Math.max(1, Math.floor(o.limit ?? 50)), 500);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(summary);
    },
    async getMessage(id: string) {
      if (!UUID.test(id)) return undefined;
      const row = await db.selectFrom('notification_outbox').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      return {
        ...summary(row),
        body: row.body,
        attachments: Array.isArray(row.attachments) ? row.attachments : [],
        providerReference: row.provider_reference,
      };
    },
    async retryMessage(id: string) {
      if (!UUID.test(id)) return false;
      const result = await db
        .updateTable('notification_outbox')
        .set({ status: 'pending', attempts: 0, last_error: null, next_attempt_at: sql<Date>`now()` })
        .where('id', '=', id)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
  return notifier;
}
