import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Account } from '#modules/account/index';
import type { SignpostsService } from './service.js';
import { UnknownSource } from './service.js';

/** Agency extracts can be large: a whole school census or a year of notices. */
const EXTRACT_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Agencies' systems push their extracts here with an API key holding `signposts:load`, as an alternative to
 * the command line. The body is the extract itself: CSV (text/csv) or JSON (application/json).
 */
export function registerSignpostsApi(app: FastifyInstance, service: SignpostsService, account: Account): void {
  const guard = account.apiKeys.routeOptions('signposts:load');
  void app.register(
    async (api) => {
      api.removeAllContentTypeParsers();
      api.addContentTypeParser(['text/csv', 'application/json'], { parseAs: 'string', bodyLimit: EXTRACT_LIMIT_BYTES }, (_request, body, done) =>
        done(null, body),
      );
      api.addHook('onSend', async (_request, reply, payload) => {
        reply.header('cache-control', 'no-store');
        return payload;
      });
      api.post<{ Params: { code: string } }>(
        '/sources/:code/extracts',
        { ...guard, bodyLimit: EXTRACT_LIMIT_BYTES },
        async (request: FastifyRequest<{ Params: { code: string } }>, reply: FastifyReply) => {
          const client = account.apiKeys.actorOf(request);
          const type = String(request.headers['content-type'] ?? '');
          const format = type.startsWith('application/json') ? 'json' : 'csv';
          try {
            const summary = await service.ingest({
              source: request.params.code,
              text: typeof request.body === 'string' ? request.body : '',
              format,
              fileName: String(request.headers['x-file-name'] ?? `extract.${format}`).slice(0, 200),
              via: 'api',
              loadedBy: client.label ?? client.id ?? 'API client',
            });
            const status = summary.status === 'failed' ? 422 : summary.status === 'loaded' ? 201 : 200;
            return reply.code(status).send({ ...summary, problems: summary.problems.slice(0, 1000), problemCount: summary.problems.length });
          } catch (error) {
            if (error instanceof UnknownSource) return reply.code(404).send({ error: 'not-found', message: error.message });
            throw error;
          }
        },
      );
    },
    { prefix: '/api/signposts' },
  );
}
