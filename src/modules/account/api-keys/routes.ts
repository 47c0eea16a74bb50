import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '#platform/http/errors';
import { errorSummary } from '#platform/views/index';
import type { StaffMember, StaffService } from '../staff/service.js';
import { ApiKeyInputError, type ApiKeyService, type ApiKeyStatus } from './service.js';

const STATUS_LABELS: Record<ApiKeyStatus, string> = { active: 'Active', revoked: 'Revoked', expired: 'Expired' };

type Form = Record<string, string | string[] | undefined>;

function field(body: unknown, name: string): string {
  const v = (body as Form | undefined)?.[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? '') : '';
}

function list(body: unknown, name: string): string[] {
  const v = (body as Form | undefined)?.[name];
  return (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).filter((x) => x !== '');
}

async function staffOf(request: FastifyRequest, staff: StaffService): Promise<StaffMember> {
  const member = await staff.current(request);
  if (!member) throw new HttpError(403, 'Sign in to continue.');
  return member;
}

/** Staff pages for managing API keys (administrators, `api-keys:manage`). */
export function registerApiKeyRoutes(app: FastifyInstance, staff: StaffService, apiKeys: ApiKeyService): void {
  const guard = staff.guard('api-keys:manage');

  app.get('/staff/api-keys', { preHandler: guard }, async (request, reply) => {
    const member = await staffOf(request, staff);
    const keys = await apiKeys.list(member);
    const revokedId = (request.query as Record<string, unknown>).revoked;
    const revoked = typeof revokedId === 'string' ? keys.find((k) => k.id === revokedId && k.status === 'revoked') : undefined;
    return reply.view('staff/api-keys/list.njk', {
      keys: keys.map((k) => ({ ...k, statusLabel: STATUS_LABELS[k.status] })),
      revoked,
      canReadAudit: staff.can(member, 'audit:read'),
    });
  });

  const renderNew = (reply: FastifyReply, values: { name: string; scopes: string[] }, errors: Record<string, string> = {}, status = 200) =>
    reply.code(status).view('staff/api-keys/new.njk', {
      values,
      scopes: apiKeys.scopes(),
      fieldErrors: errors,
      errors: errorSummary(errors),
    });

  app.get('/staff/api-keys/new', { preHandler: guard }, async (_request, reply) => renderNew(reply, { name: '', scopes: [] }));

  app.post('/staff/api-keys/new', { preHandler: guard }, async (request, reply) => {
    const member = await staffOf(request, staff);
    const values = { name: field(request.body, 'name'), scopes: list(request.body, 'scopes') };
    try {
      const created = await apiKeys.create(member, values);
      // The key is in this response only: nothing may keep a copy of it.
      return reply
        .header('cache-control', 'no-store')
        .view('staff/api-keys/created.njk', { name: values.name.trim(), key: created.key, prefix: created.prefix });
    } catch (err) {
      if (err instanceof ApiKeyInputError) return renderNew(reply, values, { ...err.errors }, 400);
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/staff/api-keys/:id/revoke', { preHandler: guard }, async (request, reply) => {
    const member = await staffOf(request, staff);
    const key = await apiKeys.get(member, request.params.id);
    if (key.status === 'revoked') return reply.redirect('/staff/api-keys');
    return reply.view('staff/api-keys/revoke.njk', { key });
  });

  app.post<{ Params: { id: string } }>('/staff/api-keys/:id/revoke', { preHandler: guard }, async (request, reply) => {
    const member = await staffOf(request, staff);
    await apiKeys.revoke(member, request.params.id);
    return reply.redirect(`/staff/api-keys?revoked=${encodeURIComponent(request.params.id)}`);
  });
}
