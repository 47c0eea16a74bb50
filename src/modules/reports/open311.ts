import type { FastifyInstance } from 'fastify';
import type { Platform } from '#platform/platform';
import type { Account } from '#modules/account/index';
import type { ReportsService } from './service.js';

export function registerOpen311(app: FastifyInstance, service: ReportsService, account: Account, platform: Platform): void {
  void app;
  void service;
  void account;
  void platform;
}
