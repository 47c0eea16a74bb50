import pino, { type Logger } from 'pino';

export type { Logger };

/** Keys whose values are personal data or secrets, at any depth of a logged object. */
const SENSITIVE = new Set(
  [
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
    'cookie',
    'authorization',
    'set-cookie',
  ].map((k) => k.toLowerCase()),
);

/**
 * Redacts sensitive keys and scrubs emails and tokens from every string. It runs when a line is
 * written, not when a request's child logger is made, so requests that log nothing pay nothing.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object' || depth > 5) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SENSITIVE.has(key.toLowerCase()) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

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
      formatters: { log: (obj) => redact(obj) as Record<string, unknown> },
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
