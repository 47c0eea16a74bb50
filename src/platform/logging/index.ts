import pino, { type Logger } from 'pino';

export type { Logger };

/** Keys whose values are personal data or secrets, wherever they appear (two levels deep). */
const sensitive = [
  'email',
  'name',
  'fullName',
  'firstName',
  'lastName',
  'phone',
  'address',
  'postcode',
  'password',
  'token',
  'secret',
  'totp',
  'code',
  'dateOfBirth',
];
const redactPaths = [
  ...sensitive,
  ...sensitive.map((k) => `*.${k}`),
  ...sensitive.map((k) => `*.*.${k}`),
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
];

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const TOKENISH = /([?&](?:token|code|key|state|sig)=)[^&\s]+/gi;

/** Scrubs emails and token query parameters out of free text such as URLs and messages. */
export function scrub(text: string): string {
  return text.replace(EMAIL, '[email]').replace(TOKENISH, '$1[redacted]');
}

export function createLogger(opts: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      formatters: { log: (obj) => (typeof obj.msg === 'string' ? { ...obj, msg: scrub(obj.msg) } : obj) },
      hooks: {
        logMethod(args, method) {
          // Messages given as strings are scrubbed too.
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
      serializers: {
        req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url ? scrub(req.url) : undefined,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    opts.destination,
  );
}
