import type { FastifyInstance } from 'fastify';
import type { Account } from '#modules/account/index';
import type { CasesService } from './service.js';

export function registerCaseResidentRoutes(_app: FastifyInstance, _service: CasesService, _account: Account): void {}
