import type { FastifyInstance } from 'fastify';
import type { Account } from '#modules/account/index';
import type { FormsService } from './service.js';

/** Staff pages for forms: submissions, deliveries, funnels and publishing. */
export function registerFormStaffRoutes(_app: FastifyInstance, _forms: FormsService, _account: Account): void {}
