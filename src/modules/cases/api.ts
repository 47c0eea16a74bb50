import type { FastifyInstance } from 'fastify';
import type { Account } from '#modules/account/index';
import type { CasesService } from './service.js';

export function registerCaseApi(_app: FastifyInstance, _service: CasesService, _account: Account): void {}
