import path from 'node:path';
import type { Kysely } from 'kysely';
import type { WebModule } from './app.js';
import type { MigrationSet } from '#platform/db/index';
import { auditMigrations } from '#platform/audit/index';
import { createGeography, geoMigrations, type Geography } from '#platform/geo/index';
import { sessionMigrations } from '#platform/http/migrations';
import { purgeEndedRateLimits } from '#platform/http/rate-limit-store';
import { purgeExpiredSessions } from '#platform/http/session-store';
import { createFiles, filesMigrations, FolderFileStore, type Files } from '#platform/files/index';
import { createJobs, type Jobs } from '#platform/jobs/index';
import { createNotifier, notifyMigrations, type Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { accountMigrations, createAccount, type Account } from '#modules/account/index';
import { createForms, formsMigrations, type Forms } from '#modules/forms/index';
import { casesMigrations, createCases, type Cases } from '#modules/cases/index';
import { createReports, reportsMigrations, type Reports } from '#modules/reports/index';
import { appointmentsMigrations, createAppointments, formBookingProvider, type Appointments } from '#modules/appointments/index';
import { createSignposts, signpostsMigrations, type Signposts } from '#modules/signposts/index';

/** The one bag of services built at start (and over a fresh database in tests). */
export interface Services {
  jobs: Jobs;
  notifier: Notifier;
  geo: Geography;
  files: Files;
  account: Account;
  forms: Forms;
  cases: Cases;
  /** Street reports: the public map and pages, alerts and Open311, each report a case. */
  reports: Reports;
  /** Appointments: booking, changing and running the day, never double booked. */
  appointments: Appointments;
  /** Signposts: the multi-agency single view for safeguarding triage. */
  signposts: Signposts;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
}

export function allMigrations(): MigrationSet[] {
  return [
    sessionMigrations,
    auditMigrations,
    geoMigrations,
    notifyMigrations,
    filesMigrations,
    accountMigrations,
    formsMigrations,
    casesMigrations,
    reportsMigrations,
    appointmentsMigrations,
    signpostsMigrations,
  ];
}

export async function buildServices(platform: Platform): Promise<Services> {
  const { database, logger, config } = platform;
  const jobs = createJobs({ pool: database.pool, logger });
  const notifier = createNotifier({ db: database.db, jobs, config, logger });
  const geo = createGeography(database.db);
  const files = createFiles(new FolderFileStore(path.join(config.dataDir, 'files')));
  const account = createAccount({ platform, jobs, notifier, geo });
  await account.staff.syncTeams();
  const forms = createForms({ platform, jobs, notifier, geo, files, account });
  const cases = createCases({ platform, jobs, notifier, geo, files, account });
  forms.service.deliveries.setCaseCreator(cases.caseCreator);
  const reports = createReports({ platform, cases, geo, files, notifier, account });
  const appointments = createAppointments({ platform, jobs, notifier, account, cases });
  // Places follow the configured capacities before anyone can book.
  await appointments.service.syncPlaces();
  forms.service.setBookingProvider(formBookingProvider(appointments.service));
  const signposts = createSignposts({ platform, jobs, notifier, account });
  await signposts.service.syncSources();
  // The council's shipped forms are configuration: a changed definition is published as a new version.
  await forms.loadShipped();
  let working = false;
  return {
    jobs,
    notifier,
    geo,
    files,
    account,
    forms,
    cases,
    reports,
    appointments,
    signposts,
    async startWorker() {
      if (working) return;
      working = true;
      await jobs.start();
      await notifier.start();
      await forms.startWorker();
      await cases.startWorker();
      await appointments.startWorker();
      await signposts.startWorker();
      // Housekeeping: expired sessions and spent one-time links are removed every quarter hour.
      await jobs.work('housekeeping', {}, async () => {
        const sessions = await purgeExpiredSessions(database.db);
        const links = await account.residents.purgeExpiredLinks();
        const formDrafts = await forms.service.purgeExpiredDrafts();
        const reportPhotos = await reports.service.tidyPhotoStash();
        const rateLimits = await purgeEndedRateLimits(database.db as unknown as Kysely<object>);
        logger.info({ sessions, links, formDrafts, reportPhotos, rateLimits }, 'housekeeping done');
      });
      await jobs.schedule('housekeeping', '*/15 * * * *');
    },
    async stopWorker() {
      if (!working) return;
      working = false;
      await forms.stopWorker();
      await cases.stopWorker();
      await jobs.stop();
    },
  };
}

export function webModules(_platform: Platform, services: Services): WebModule[] {
  return [services.account.web, services.forms.web, services.cases.web, services.reports.web, services.appointments.web, services.signposts.web];
}

/** Loads the fictional demo council on first start (never in production: config refuses it). */
export async function seedDemoCouncil(platform: Platform, services: Services): Promise<void> {
  const t0 = performance.now();
  const { readFileSync } = await import('node:fs');
  const params = JSON.parse(readFileSync(`${platform.config.councilDir}/demo-borough.json`, 'utf8')) as unknown;
  await services.geo.seedDemo(params);
  await services.account.seedDemo();
  const reports = await services.reports.seedDemo({ count: platform.config.demoReports });
  const appointments = await services.appointments.seedDemo({ count: platform.config.demoAppointments });
  platform.logger.info({ ms: Math.round(performance.now() - t0), reports, appointments }, 'demo council ready');
}
