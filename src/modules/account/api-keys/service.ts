import { randomBytes } from 'node:crypto';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { recordAudit, type Actor } from '#platform/audit/index';
import { HttpError } from '#platform/http/errors';
import { constantTimeEqual, sha256Hex } from '#platform/security/tokens';
import type { AccountContext } from '../index.js';
import { assertCan } from '../permissions.js';
import type { StaffMember } from '../staff/service.js';
import { ApiKeyRepository, type ApiKeyRow } from './repository.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API client this request was authenticated as; set by `apiKeys.guard(scope)` once the key and scope are accepted. */
    apiKey?: ApiClient;
  }
}

/** A permission a machine client can be given, declared by the capability whose API checks it. */
export interface ApiScope {
  /** `capability:verb`, e.g. `cases:read`. */
  scope: string;
  /** What holding it lets a client do, shown to administrators choosing scopes. */
  description: string;
}

/** The machine client a valid key belongs to. */
export interface ApiClient {
  id: string;
  name: string;
  scopes: string[];
}

export type ApiKeyStatus = 'active' | 'revoked' | 'expired';

export interface ApiKeySummary {
  id: string;
  name: string;
  /** The public part of the key, enough to recognise it (`bk_<prefix>_...`). */
  prefix: string;
  scopes: string[];
  status: ApiKeyStatus;
  createdAt: Date;
  /** The staff member who created it; null when made from the command line. */
  createdBy: string | null;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export interface NewApiKeyInput {
  name: string;
  scopes: string[];
  /** When the key stops working; never, when absent. */
  expiresAt?: Date | null;
}

/** The whole key is in `key`, returned this once and never stored. */
export interface NewApiKey {
  id: string;
  key: string;
  prefix: string;
}

/** Who manages keys: a member of staff (checked for `api-keys:manage`) or the command line. */
export type ApiKeyActor = StaffMember | typeof COMMAND_LINE_ACTOR;

/**
 * The command line's identity. Whoever runs `borough` already holds the server and its database,
 * so it needs no permission; it is recognised by identity, never by shape.
 */
export const COMMAND_LINE_ACTOR: Readonly<{ type: 'system'; label: string }> = Object.freeze({ type: 'system', label: 'Command line' });

export type ApiKeyField = 'name' | 'scopes' | 'expiresAt';

/** Refused input to `create`, with a message per field so a form can show each beside its field. */
export class ApiKeyInputError extends HttpError {
  constructor(readonly errors: Partial<Record<ApiKeyField, string>>) {
    super(400, Object.values(errors).join(' '));
  }
}

export interface ApiKeyService {
  /** Called by a capability when it is built, for each scope its API checks. */
  declareScope(scope: ApiScope): void;
  /** Every declared scope, in name order. */
  scopes(): ApiScope[];

  create(actor: ApiKeyActor, input: NewApiKeyInput): Promise<NewApiKey>;
  list(actor: ApiKeyActor): Promise<ApiKeySummary[]>;
  get(actor: ApiKeyActor, id: string): Promise<ApiKeySummary>;
  /** Stops the key working at once. Revoking a revoked key changes nothing. */
  revoke(actor: ApiKeyActor, id: string): Promise<void>;

  /** The client for an `Authorization` header value (`Bearer bk_...`) or a bare key; null for anything not a live key. */
  authenticate(authorizationHeaderOrKey: string | undefined): Promise<ApiClient | null>;
  /** A preHandler for JSON API routes: 401 without a valid key, 403 when the key lacks the scope. Sets `request.apiKey`. */
  guard(scope: string): preHandlerAsyncHookHandler;
  /**
   * Route options for a JSON API route: the guard, and no CSRF check (the key travels in a header
   * a browser never adds by itself, so a forged cross-site request cannot carry it).
   */
  routeOptions(scope: string): { config: { csrf: false }; preHandler: preHandlerAsyncHookHandler };
  /** The audit actor for the client that made this guarded request. */
  actorOf(request: FastifyRequest): Actor;
}

export const API_KEY_SUBJECT = 'api-key';
/** Use is recorded at most this often per key, so a busy client does not write on every request. */
export const LAST_USED_INTERVAL_MS = 60_000;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const PREFIX_LENGTH = 8;
/** 40 characters of a 32-symbol alphabet: 200 random bits, far beyond guessing, so a fast hash is enough. */
const SECRET_LENGTH = 40;
const KEY_PATTERN = new RegExp(`^bk_([${ALPHABET}]{${PREFIX_LENGTH}})_([${ALPHABET}]{${SECRET_LENGTH}})$`);
const BEARER = /^Bearer +(\S+) *$/i;
const SCOPE_PATTERN = /^[a-z][a-z0-9-]*(?::[a-z][a-z0-9-]*)+$/;

/** Random text from the alphabet; 32 divides 256, so masking a byte is unbiased. */
function randomText(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ALPHABET.charAt(byte & 31);
  return out;
}

/** The prefix and secret of a well-formed key, from a header value or the key itself. */
export function parseApiKey(value: string | undefined): { prefix: string; secret: string } | null {
  if (typeof value !== 'string' || value.length > 200) return null;
  const trimmed = value.trim();
  const key = BEARER.exec(trimmed)?.[1] ?? trimmed;
  const m = KEY_PATTERN.exec(key);
  return m?.[1] && m[2] ? { prefix: m[1], secret: m[2] } : null;
}

function statusOf(row: ApiKeyRow, now: Date): ApiKeyStatus {
  if (row.revoked_at) return 'revoked';
  if (row.expires_at && row.expires_at <= now) return 'expired';
  return 'active';
}

function toSummary(row: ApiKeyRow, now = new Date()): ApiKeySummary {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    status: statusOf(row, now),
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
  };
}

const CreateSchema = z.object({
  name: z.string().trim().min(1, 'Enter a name for the API key').max(100, 'The name must be 100 characters or fewer'),
  scopes: z.array(z.string().trim()).min(1, 'Select at least one scope'),
});

export function createApiKeyService(ctx: AccountContext): ApiKeyService {
  const repo = new ApiKeyRepository(ctx.platform.database.db);
  const declared = new Map<string, ApiScope>();

  /** Checks the actor may manage keys, and says who they are for the audit log. */
  function authorise(actor: ApiKeyActor): { audit: Actor; staffId: string | null } {
    if (actor === COMMAND_LINE_ACTOR) return { audit: { type: 'system', label: COMMAND_LINE_ACTOR.label }, staffId: null };
    const member = actor as StaffMember;
    // Anything else that is not a member of staff is refused like one without the permission.
    if (!Array.isArray(member.roles)) throw new HttpError(403, 'You do not have permission to do this.');
    assertCan(member, 'api-keys:manage');
    return { audit: { type: 'staff', id: member.id, label: member.name }, staffId: member.id };
  }

  function validate(input: NewApiKeyInput, now: Date): { name: string; scopes: string[]; expiresAt: Date | null } {
    const errors: Partial<Record<ApiKeyField, string>> = {};
    const parsed = CreateSchema.safeParse({ name: input.name, scopes: input.scopes });
    if (!parsed.success) for (const issue of parsed.error.issues) errors[issue.path[0] === 'scopes' ? 'scopes' : 'name'] ??= issue.message;
    const scopes = [...new Set(input.scopes.map((s) => s.trim()))].sort();
    const unknown = scopes.filter((s) => !declared.has(s));
    if (unknown.length && !errors.scopes) {
      const known = [...declared.keys()].sort();
      const choices = known.length ? `Choose from: ${known.join(', ')}.` : 'No capability has declared any scopes yet.';
      errors.scopes = `${unknown.map((s) => `"${s}"`).join(', ')} ${unknown.length === 1 ? 'is not a known scope' : 'are not known scopes'}. ${choices}`;
    }
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt <= now)) errors.expiresAt = 'The expiry date must be in the future';
    if (!parsed.success || Object.keys(errors).length) throw new ApiKeyInputError(errors);
    return { name: parsed.data.name, scopes, expiresAt };
  }

  async function load(id: string): Promise<ApiKeyRow> {
    const row = await repo.findById(id);
    if (!row) throw new HttpError(404, 'API key not found');
    return row;
  }

  function refuse(reply: Parameters<preHandlerAsyncHookHandler>[1], status: 401 | 403, challenge: string, error: string, message: string) {
    return reply.code(status).header('www-authenticate', challenge).header('cache-control', 'no-store').send({ error, message });
  }

  const service: ApiKeyService = {
    declareScope({ scope, description }) {
      if (!SCOPE_PATTERN.test(scope)) throw new Error(`API scope "${scope}" must look like "capability:verb", in lower case`);
      const existing = declared.get(scope);
      if (existing && existing.description !== description) throw new Error(`API scope "${scope}" is already declared as "${existing.description}"`);
      declared.set(scope, { scope, description });
    },

    scopes() {
      return [...declared.values()].sort((a, b) => a.scope.localeCompare(b.scope));
    },

    async create(actor, input) {
      const who = authorise(actor);
      const now = new Date();
      const valid = validate(input, now);
      const secret = randomText(SECRET_LENGTH);
      return repo.transaction(async (r, tx) => {
        // A taken prefix (one chance in about a trillion per key) just means drawing another.
        for (let attempt = 0; attempt < 5; attempt++) {
          const prefix = randomText(PREFIX_LENGTH);
          const row = await r.insert({ ...valid, prefix, secretHash: sha256Hex(secret), createdBy: who.staffId });
          if (!row) continue;
          await recordAudit(tx, {
            actor: who.audit,
            action: 'api-key.created',
            subject: { type: API_KEY_SUBJECT, id: row.id },
            details: { name: row.name, prefix, scopes: row.scopes, ...(row.expires_at ? { expiresAt: row.expires_at.toISOString() } : {}) },
          });
          return { id: row.id, key: `bk_${prefix}_${secret}`, prefix };
        }
        throw new Error('Could not find a free API key prefix');
      });
    },

    async list(actor) {
      authorise(actor);
      const now = new Date();
      return (await repo.list()).map((row) => toSummary(row, now));
    },

    async get(actor, id) {
      authorise(actor);
      return toSummary(await load(id));
    },

    async revoke(actor, id) {
      const who = authorise(actor);
      const row = await load(id);
      await repo.transaction(async (r, tx) => {
        if (!(await r.revoke(row.id, new Date(), who.staffId))) return;
        await recordAudit(tx, {
          actor: who.audit,
          action: 'api-key.revoked',
          subject: { type: API_KEY_SUBJECT, id: row.id },
          details: { name: row.name, prefix: row.prefix },
        });
      });
    },

    async authenticate(authorizationHeaderOrKey) {
      const parsed = parseApiKey(authorizationHeaderOrKey);
      if (!parsed) return null;
      const row = await repo.findByPrefix(parsed.prefix);
      if (!row || !constantTimeEqual(sha256Hex(parsed.secret), row.secret_hash)) return null;
      const now = new Date();
      if (statusOf(row, now) !== 'active') return null;
      if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= LAST_USED_INTERVAL_MS) await repo.touch(row.id, now, LAST_USED_INTERVAL_MS);
      return { id: row.id, name: row.name, scopes: row.scopes };
    },

    guard(scope) {
      // A typo in a route's scope would refuse every client; better to fail at start.
      if (!declared.has(scope)) throw new Error(`API scope "${scope}" is not declared: call apiKeys.declareScope first`);
      return async (request, reply) => {
        const header = request.headers.authorization;
        const client = await service.authenticate(header);
        if (!client) {
          return header
            ? refuse(reply, 401, 'Bearer error="invalid_token"', 'unauthorised', 'The API key is not valid: it may be mistyped, revoked or expired.')
            : refuse(reply, 401, 'Bearer', 'unauthorised', 'Send an API key in the Authorization header, as "Authorization: Bearer bk_...".');
        }
        if (!client.scopes.includes(scope)) {
          return refuse(reply, 403, `Bearer error="insufficient_scope", scope="${scope}"`, 'forbidden', `This API key does not have the scope "${scope}".`);
        }
        request.apiKey = client;
        return undefined;
      };
    },

    routeOptions(scope) {
      return { config: { csrf: false }, preHandler: service.guard(scope) };
    },

    actorOf(request) {
      const client = request.apiKey;
      if (!client) throw new Error('actorOf needs a request that passed apiKeys.guard');
      return { type: 'api', id: client.id, label: client.name };
    },
  };
  return service;
}
