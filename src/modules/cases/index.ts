import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { WebModule } from '../../app.js';
import { projectRoot } from '#platform/config/index';
import type { Files } from '#platform/files/index';
import type { Geography } from '#platform/geo/index';
import type { Jobs } from '#platform/jobs/index';
import type { Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import type { Account } from '#modules/account/index';
import type { CaseCreator, CaseRequest } from '#modules/forms/index';
import { registerCaseApi } from './api.js';
import { registerCasePageRoutes } from './case-routes.js';
import { createCaseJobs, type CaseJobs } from './jobs.js';
import { loadCaseTypes } from './model/load.js';
import { registerCaseResidentRoutes } from './resident-routes.js';
import { createCasesService, type CasesService, type OpenCaseInput, type Subject } from './service.js';
import { loadWorkingCalendar } from './sla.js';
import { registerCaseStaffRoutes } from './staff-routes.js';

export { casesMigrations } from './migrations.js';
export type { CasesService, CaseSummary, OpenCaseInput, Subject, CaseActor, CaseChange, CaseChangeListener } from './service.js';
export { normaliseReference } from './service.js';
export type { CaseType } from './model/case-type.js';

export interface CasesDeps {
  platform: Platform;
  jobs: Jobs;
  notifier: Notifier;
  geo: Geography;
  files: Files;
  account: Account;
}

export interface Cases {
  service: CasesService;
  /** Opens a case for each form delivery that names case management. */
  caseCreator: CaseCreator;
  jobs: CaseJobs;
  web: WebModule;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
}

/** What a form submission becomes: the resident's account when they were signed in, else the contact the form asked for. */
export function caseFromSubmission(request: CaseRequest): OpenCaseInput {
  const { contact, place, submittedBy } = request;
  let subject: Subject = { kind: 'anonymous' };
  if (submittedBy.residentId) subject = { kind: 'resident', residentId: submittedBy.residentId };
  else if (contact.name ?? contact.email)
    subject = {
      kind: 'person',
      name: contact.name ?? contact.email ?? '',
      email: contact.email,
      phone: contact.phone,
      address: contact.address?.text,
      postcode: contact.address?.postcode,
      uprn: contact.address?.uprn,
    };
  return {
    type: request.settings.caseType ?? 'general-enquiry',
    team: request.settings.team,
    priority: request.settings.priority,
    title: request.formTitle,
    subject,
    location: place ? { lat: place.lat, lng: place.lng, uprn: place.uprn, usrn: place.usrn, address: place.text, postcode: place.postcode } : undefined,
    source: 'form',
    channel: submittedBy.channel ?? 'online',
    sourceReference: request.reference,
    deliveryId: request.deliveryId,
    details: { form: { slug: request.formSlug, title: request.formTitle, version: request.formVersion }, summary: request.summary },
  };
}

export function createCases(deps: CasesDeps): Cases {
  const { platform, account } = deps;
  const types = loadCaseTypes(
    platform.council.dir,
    platform.council.teams.map((t) => t.code),
  );
  const calendar = loadWorkingCalendar(platform.council.dir);
  const service = createCasesService({ ...deps, types, calendar });
  account.apiKeys.declareScope({ scope: 'cases:read', description: 'Read cases, their timelines and queues' });
  account.apiKeys.declareScope({ scope: 'cases:write', description: 'Change case statuses and post public updates' });
  const jobs = createCaseJobs({ service, jobs: deps.jobs, notifier: deps.notifier, platform, account, files: deps.files });

  account.activity.register({
    heading: 'Your cases',
    async listForResident(residentId) {
      return (await service.residentCases(residentId)).map((c) => ({
        kind: 'case',
        title: c.typeName,
        reference: c.reference,
        status: c.residentStatusLabel,
        updatedAt: c.updatedAt,
        href: `/account/cases/${c.reference}`,
      }));
    },
    async exportForResident(residentId) {
      const cases = await service.residentCases(residentId);
      return Promise.all(
        cases.map(async (c) => {
          const { events } = await service.residentCase(residentId, c.reference);
          return {
            reference: c.reference,
            type: c.typeName,
            status: c.residentStatusLabel,
            openedAt: c.openedAt,
            closedAt: c.closedAt,
            updates: events.map((e) => ({ at: e.at, kind: e.kind, text: e.body })),
          };
        }),
      );
    },
    async onResidentDeleted(residentId) {
      await service.forgetResident(residentId);
    },
  });

  return {
    service,
    caseCreator: {
      async createCase(request) {
        const { case: opened } = await service.open({ type: 'system' }, caseFromSubmission(request));
        return { caseReference: opened.reference };
      },
    },
    jobs,
    startWorker: () => jobs.start(),
    stopWorker: () => jobs.stop(),
    web: {
      name: 'cases',
      templates: path.join(projectRoot, 'src/modules/cases/views'),
      async register(app: FastifyInstance) {
        registerCaseStaffRoutes(app, service, account);
        registerCasePageRoutes(app, service, account);
        registerCaseResidentRoutes(app, service, account);
        registerCaseApi(app, service, account);
      },
    },
  };
}
