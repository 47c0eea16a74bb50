import { createTransport as createMailTransport } from 'nodemailer';
import { NotifyClient } from 'notifications-node-client';
import type { Config } from '#platform/config/index';

/** An attachment as the outbox stores it: small files only, such as a calendar invitation. */
export interface StoredAttachment {
  filename: string;
  contentType: string;
  /** Base64. */
  content: string;
}

export interface OutgoingEmail {
  /** The outbox row ID, passed to providers as a reference. */
  id: string;
  to: string;
  from: string;
  subject: string;
  body: string;
  attachments: StoredAttachment[];
  /** One-click unsubscribe (RFC 8058): sent as List-Unsubscribe headers, or to Notify as its unsubscribe link. */
  unsubscribeUrl?: string | undefined;
}

export interface OutgoingSms {
  id: string;
  to: string;
  body: string;
}

export interface DeliveryReceipt {
  /** The provider's own ID for the message, when it gives one. */
  providerReference?: string | undefined;
  /** Attachments the transport could not carry and left out. */
  droppedAttachments?: number;
}

export interface Transport {
  readonly name: string;
  sendEmail(message: OutgoingEmail): Promise<DeliveryReceipt>;
  sendSms(message: OutgoingSms): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}

/** A failure that trying again will not fix (a rejected address, a channel the transport cannot carry). */
export class PermanentDeliveryError extends Error {
  override readonly name = 'PermanentDeliveryError';
}

/**
 * Development and test transport: the outbox row itself is the delivered message, readable on the
 * staff-only messages page.
 */
export function createDatabaseTransport(): Transport {
  return {
    name: 'database',
    async sendEmail() {
      return {};
    },
    async sendSms() {
      return {};
    },
    async close() {},
  };
}

export interface SmtpTransportOptions {
  url: string;
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

function smtpIsPermanent(err: unknown): boolean {
  const e = err as { code?: string; responseCode?: number };
  return typeof e.responseCode === 'number' && e.responseCode >= 500 && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE');
}

export function createSmtpTransport(opts: SmtpTransportOptions): Transport {
  const mailer = createMailTransport({
    url: opts.url,
    connectionTimeout: opts.connectionTimeoutMs ?? 10_000,
    greetingTimeout: opts.connectionTimeoutMs ?? 10_000,
    socketTimeout: opts.socketTimeoutMs ?? 30_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    name: 'smtp',
    async sendEmail(message) {
      try {
        const info = await mailer.sendMail({
          from: message.from,
          to: message.to,
          subject: message.subject,
          text: message.body,
          attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64') })),
          headers: {
            'X-Borough-Message-Id': message.id,
            ...(message.unsubscribeUrl ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
          },
          ...(message.unsubscribeUrl ? { list: { unsubscribe: message.unsubscribeUrl } } : {}),
        });
        return { providerReference: typeof info.messageId === 'string' ? info.messageId : undefined };
      } catch (err) {
        if (smtpIsPermanent(err)) throw new PermanentDeliveryError((err as Error).message);
        throw err;
      }
    },
    async sendSms() {
      throw new PermanentDeliveryError('Text messages cannot be sent by SMTP: configure GOV.UK Notify to send them');
    },
    async close() {
      mailer.close();
    },
  };
}

/** The part of the GOV.UK Notify client the transport uses. */
export interface NotifyClientLike {
  sendEmail(
    templateId: string,
    emailAddress: string,
    options: { personalisation: Record<string, string>; reference: string; oneClickUnsubscribeURL?: string },
  ): Promise<{ data?: { id?: string } }>;
  sendSms(
    templateId: string,
    phoneNumber: string,
    options: { personalisation: Record<string, string>; reference: string },
  ): Promise<{ data?: { id?: string } }>;
}

/** Where GOV.UK Notify's API lives. */
export const NOTIFY_API_URL = 'https://api.notifications.service.gov.uk';

export interface NotifyTransportOptions {
  apiKey: string;
  /** The API's address, `https://api.notifications.service.gov.uk` unless told otherwise. */
  baseUrl?: string;
  /** An email template whose subject is `((subject))` and whose body is `((body))`. */
  emailTemplateId: string;
  /** A text message template whose body is `((body))`. */
  smsTemplateId: string | undefined;
  client?: NotifyClientLike;
}

/** Turns a Notify API error into a short message without personal data, and says if retrying could help. */
function notifyError(err: unknown): Error {
  const e = err as { response?: { status?: number; data?: { errors?: { error?: string; message?: string }[] } }; message?: string };
  const status = e.response?.status;
  const first = e.response?.data?.errors?.[0];
  const detail = first ? `${first.error ?? 'Error'}: ${first.message ?? ''}`.trim() : (e.message ?? String(err));
  const message = status ? `GOV.UK Notify responded ${status}: ${detail}` : `GOV.UK Notify could not be reached: ${detail}`;
  // 400 (bad request) and 403 (bad key) will fail the same way again; 429 and 5xx are worth retrying.
  return status === 400 || status === 403 ? new PermanentDeliveryError(message) : new Error(message);
}

export function createNotifyTransport(opts: NotifyTransportOptions): Transport {
  let client = opts.client;
  const baseUrl = (opts.baseUrl ?? NOTIFY_API_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(baseUrl)) throw new Error('The GOV.UK Notify base URL must start with http:// or https://');
  const notify = (): NotifyClientLike => (client ??= new NotifyClient(baseUrl, opts.apiKey) as unknown as NotifyClientLike);
  return {
    name: 'notify',
    async sendEmail(message) {
      // Notify's email templates carry the subject and body; files would need a template with a
      // link placeholder, so messages with attachments go without them.
      try {
        const res = await notify().sendEmail(opts.emailTemplateId, message.to, {
          personalisation: { subject: message.subject, body: message.body },
          reference: message.id,
          ...(message.unsubscribeUrl ? { oneClickUnsubscribeURL: message.unsubscribeUrl } : {}),
        });
        return { providerReference: res.data?.id, droppedAttachments: message.attachments.length };
      } catch (err) {
        throw notifyError(err);
      }
    },
    async sendSms(message) {
      if (!opts.smsTemplateId) throw new PermanentDeliveryError('Text messages need NOTIFY_SMS_TEMPLATE_ID to be set');
      try {
        const res = await notify().sendSms(opts.smsTemplateId, message.to, { personalisation: { body: message.body }, reference: message.id });
        return { providerReference: res.data?.id };
      } catch (err) {
        throw notifyError(err);
      }
    },
    async close() {},
  };
}

/** The transport the configuration asks for. */
export function transportFor(mail: Config['mail'], opts: { notifyClient?: NotifyClientLike; notifyBaseUrl?: string } = {}): Transport {
  switch (mail.transport) {
    case 'database':
      return createDatabaseTransport();
    case 'smtp':
      return createSmtpTransport({ url: mail.url });
    case 'notify':
      return createNotifyTransport({
        apiKey: mail.apiKey,
        emailTemplateId: mail.emailTemplateId,
        smsTemplateId: mail.smsTemplateId,
        ...(opts.notifyClient ? { client: opts.notifyClient } : {}),
        ...(opts.notifyBaseUrl ? { baseUrl: opts.notifyBaseUrl } : {}),
      });
  }
}
