import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { WebModule } from '../../app.js';
import { projectRoot } from '#platform/config/index';
import type { Files } from '#platform/files/index';
import type { Geography } from '#platform/geo/index';
import type { Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import type { Account } from '#modules/account/index';
import type { Cases } from '#modules/cases/index';
import type { CouncilContacts } from './model/category.js';
import { loadReportCategories } from './model/load.js';
import { registerReportJourney } from './journey-routes.js';
import { registerOpen311 } from './open311.js';
import { registerPublicReportRoutes } from './public-routes.js';
import { seedDemoReports } from './demo.js';
import { createReportsService, type ReportsService } from './service.js';
import { registerReportStaffRoutes } from './staff-routes.js';

export { ASSET_KIND_NAMES, ASSET_KINDS, isUrgent, REPORT_QUESTION_TYPES, REPORT_STATUSES, REPORT_STATUS_NAMES } from './model/category.js';
export type { ReportCategory, ReportQuestion, ReportStatus } from './model/category.js';
export { REPORT_CATEGORIES_FOLDER, reportCategoryProblems } from './model/load.js';
export { reportsMigrations } from './migrations.js';
export { ReportProblems, type PublicReport, type ReportInput, type ReportsService } from './service.js';

export interface ReportsDeps {
  platform: Platform;
  cases: Pick<Cases, 'service'>;
  geo: Geography;
  files: Files;
  notifier: Pick<Notifier, 'nudge'>;
  account: Account;
}

export interface Reports {
  service: ReportsService;
  web: WebModule;
  /** The demo council's few hundred reports, made once (never in production: the demo is refused there). */
  seedDemo(opts?: { count?: number }): Promise<number>;
}

/** How many reports the demo council starts with. */
export const DEMO_REPORT_COUNT = 300;

/**
 * Street reports. Every report is a case of its category's case type; this capability adds what the
 * public sees (the map, report pages, the feed, alerts) and Open311. The council's categories are
 * loaded and checked against its case types at start: a bad category file stops the start with
 * every problem listed.
 */
export function createReports(deps: ReportsDeps): Reports {
  const { platform, cases, account } = deps;
  const { profile } = platform.council;
  const contacts: CouncilContacts = { outOfHoursPhone: profile.emergency.outOfHours, phone: profile.contact.phone, phoneHours: profile.contact.phoneHours };
  const categories = loadReportCategories(platform.council.dir, cases.service.types, contacts);
  const service = createReportsService({ ...deps, categories });
  account.apiKeys.declareScope({ scope: 'reports:open311', description: 'Make and read street reports over Open311 GeoReport v2' });
  return {
    service,
    seedDemo: (opts = {}) =>
      seedDemoReports({ service, cases: cases.service, geo: deps.geo, db: platform.database.db }, { count: opts.count ?? DEMO_REPORT_COUNT, seed: 20261123 }),
    web: {
      name: 'reports',
      templates: path.join(projectRoot, 'src/modules/reports/views'),
      residentNavigation: [{ href: '/report', text: 'Report a problem' }],
      homeServices: [
        { href: '/report', title: 'Report a problem in the street', description: 'Street lights, potholes, blocked drains, fly-tipping and more.' },
        { href: '/reports', title: 'Reported problems', description: 'See what has been reported near you and follow it to the fix.' },
      ],
      async register(app: FastifyInstance) {
        registerReportJourney(app, service, account, platform);
        registerPublicReportRoutes(app, service, account, platform);
        account.staff.addNavigation({ href: '/staff/reports', text: 'Street reports', permission: 'reports:moderate' });
        registerReportStaffRoutes(app, service, account);
        registerOpen311(app, service, account, platform);
      },
    },
  };
}
