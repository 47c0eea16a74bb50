import type { FastifyInstance } from 'fastify';
import type { Account } from '#modules/account/index';
import type { ReportsService } from './service.js';

export function registerReportStaffRoutes(app: FastifyInstance, service: ReportsService, account: Account): void {
  void app;
  void service;
  void account;
}
