import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1' || v === 'yes');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test'], { message: 'must be production, development or test' }).default('development'),
  PORT: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0).max(65535, 'must be at most 65535').default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  BOROUGH_BASE_URL: z.string().url('must be a full URL such as https://www.example.gov.uk').optional(),
  BOROUGH_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  BOROUGH_MAIL: z.enum(['database', 'smtp', 'notify'], { message: 'must be database, smtp or notify' }).optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  MAIL_FROM: z.string().min(3).optional(),
  NOTIFY_API_KEY: z.string().min(20, 'does not look like a GOV.UK Notify API key').optional(),
  NOTIFY_EMAIL_TEMPLATE_ID: z.string().uuid('must be a template ID (a UUID)').optional(),
  NOTIFY_SMS_TEMPLATE_ID: z.string().uuid('must be a template ID (a UUID)').optional(),
  BOROUGH_DEMO: bool.optional(),
  OIDC_ISSUER: z.string().url('must be the identity provider issuer URL').optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BOROUGH_COUNCIL_DIR: z.string().min(1).optional(),
  BOROUGH_MAP_TILE_URL: z
    .string()
    .regex(/^https:\/\/[^/\s]+\/\S*\{z\}\S*\{x\}\S*\{y\}/, 'must be an https tile URL with {z}, {x} and {y}, such as https://tiles.example/{z}/{x}/{y}.png')
    .optional(),
  BOROUGH_MAP_TILE_ATTRIBUTION: z.string().min(1).max(300).optional(),
  BOROUGH_TRUSTED_PROXIES: z
    .string()
    .regex(/^[0-9a-fA-F.:/]+(\s*,\s*[0-9a-fA-F.:/]+)*$/, 'must be addresses or ranges separated by commas, such as 10.0.0.0/8,127.0.0.1')
    .optional(),
  BOROUGH_DEMO_REPORTS: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(0).max(5000, 'must be at most 5000').default(300),
  BOROUGH_DEMO_APPOINTMENTS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(0)
    .max(2000, 'must be at most 2000')
    .default(20),
  BOROUGH_DEMO_SIGNPOSTS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(0)
    .max(600000, 'must be at most 600000')
    .default(50000),
  BOROUGH_FORM_DRAFT_DAYS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(365, 'must be at most 365')
    .default(28),
});

export interface Config {
  env: 'production' | 'development' | 'test';
  production: boolean;
  /** Whose X-Forwarded-For and X-Forwarded-Proto are believed: every hop (true), these proxies only, or none. */
  trustedProxies: boolean | string[];
  port: number;
  host: string;
  baseUrl: string;
  dataDir: string;
  councilDir: string;
  databaseUrl: string | undefined;
  sessionSecret: string;
  mail:
    | { transport: 'database'; from: string }
    | { transport: 'smtp'; from: string; url: string }
    | { transport: 'notify'; from: string; apiKey: string; emailTemplateId: string; smsTemplateId: string | undefined };
  demo: boolean;
  oidc: { issuer: string; clientId: string; clientSecret: string } | undefined;
  logLevel: string;
  /** Days a saved form is kept after the resident last touched it. */
  formDraftDays: number;
  /** How many street reports the demo council starts with. */
  demoReports: number;
  /** How many upcoming appointments the demo council starts with. */
  demoAppointments: number;
  /** People in the demo borough's synthetic agency records for Signposts. */
  demoSignposts: number;
  /** A base map for the street report map; without one the map draws the council's own streets and boundary. */
  mapTiles: { url: string; origin: string; attribution: string } | undefined;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Borough cannot start because its configuration has problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The project root: where package.json and council/ live (the same from src/ and dist/src/). */
export const projectRoot = findProjectRoot(path.dirname(new URL(import.meta.url).pathname));
function findProjectRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error('package.json not found above the platform code');
}

/**
 * Reads configuration from the environment and reports every bad value at once.
 * `persistSecret` lets a development install keep a generated session secret in the data folder.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { persistSecret?: boolean } = {}): Config {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const dataDir = path.resolve(e.BOROUGH_DATA_DIR);
  const demo = e.BOROUGH_DEMO ?? !production;

  if (production && !e.SESSION_SECRET) problems.push('SESSION_SECRET is required in production (at least 32 random characters)');
  if (production && demo) problems.push('BOROUGH_DEMO must not be on in production: demo users have published passwords');
  if (production && !e.BOROUGH_BASE_URL) problems.push('BOROUGH_BASE_URL is required in production');

  const from = e.MAIL_FROM ?? 'noreply@borough.invalid';
  const transport = e.BOROUGH_MAIL ?? (e.NOTIFY_API_KEY ? 'notify' : e.SMTP_URL ? 'smtp' : 'database');
  let mail: Config['mail'] = { transport: 'database', from };
  if (transport === 'smtp') {
    if (!e.SMTP_URL) problems.push('SMTP_URL is required when BOROUGH_MAIL is smtp');
    else mail = { transport: 'smtp', from, url: e.SMTP_URL };
  } else if (transport === 'notify') {
    if (!e.NOTIFY_API_KEY) problems.push('NOTIFY_API_KEY is required when BOROUGH_MAIL is notify');
    if (!e.NOTIFY_EMAIL_TEMPLATE_ID) problems.push('NOTIFY_EMAIL_TEMPLATE_ID is required when BOROUGH_MAIL is notify');
    if (e.NOTIFY_API_KEY && e.NOTIFY_EMAIL_TEMPLATE_ID)
      mail = { transport: 'notify', from, apiKey: e.NOTIFY_API_KEY, emailTemplateId: e.NOTIFY_EMAIL_TEMPLATE_ID, smsTemplateId: e.NOTIFY_SMS_TEMPLATE_ID };
  }
  if (production && transport === 'database') problems.push('BOROUGH_MAIL must be smtp or notify in production (set SMTP_URL or NOTIFY_API_KEY)');

  const oidcParts = [e.OIDC_ISSUER, e.OIDC_CLIENT_ID, e.OIDC_CLIENT_SECRET];
  if (oidcParts.some(Boolean) && !oidcParts.every(Boolean))
    problems.push('OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together for staff single sign-on');

  if (problems.length) throw new ConfigError(problems);

  let sessionSecret = e.SESSION_SECRET;
  if (!sessionSecret) {
    if (opts.persistSecret) {
      const file = path.join(dataDir, 'session-secret');
      if (existsSync(file)) sessionSecret = readFileSync(file, 'utf8').trim();
      else {
        mkdirSync(dataDir, { recursive: true });
        sessionSecret = randomBytes(32).toString('hex');
        writeFileSync(file, sessionSecret, { mode: 0o600 });
      }
    } else sessionSecret = randomBytes(32).toString('hex');
  }

  return {
    env: e.NODE_ENV,
    production,
    trustedProxies: e.BOROUGH_TRUSTED_PROXIES ? e.BOROUGH_TRUSTED_PROXIES.split(',').map((a) => a.trim()) : production,
    port: e.PORT,
    host: e.HOST,
    baseUrl: (e.BOROUGH_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    dataDir,
    councilDir: path.resolve(e.BOROUGH_COUNCIL_DIR ?? path.join(projectRoot, 'council')),
    databaseUrl: e.DATABASE_URL,
    sessionSecret,
    mail,
    demo,
    oidc:
      e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET
        ? { issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID, clientSecret: e.OIDC_CLIENT_SECRET }
        : undefined,
    logLevel: e.LOG_LEVEL,
    formDraftDays: e.BOROUGH_FORM_DRAFT_DAYS,
    demoReports: e.BOROUGH_DEMO_REPORTS,
    demoAppointments: e.BOROUGH_DEMO_APPOINTMENTS,
    demoSignposts: e.BOROUGH_DEMO_SIGNPOSTS,
    mapTiles: e.BOROUGH_MAP_TILE_URL
      ? { url: e.BOROUGH_MAP_TILE_URL, origin: new URL(e.BOROUGH_MAP_TILE_URL.replace(/[{}]/g, '')).origin, attribution: e.BOROUGH_MAP_TILE_ATTRIBUTION ?? '' }
      : undefined,
  };
}
