import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebModule } from '../../app.js';
import { projectRoot } from '#platform/config/index';
import type { Geography } from '#platform/geo/index';
import type { Jobs } from '#platform/jobs/index';
import type { Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import { ActivityRegistry } from './activity.js';
import { registerApiKeyRoutes } from './api-keys/routes.js';
import { createApiKeyService, type ApiKeyService } from './api-keys/service.js';
import { createResidentService, type ResidentService } from './residents/service.js';
import { registerResidentRoutes } from './residents/routes.js';
import { createStaffService, type StaffService } from './staff/service.js';
import { registerStaffRoutes } from './staff/routes.js';

export { accountMigrations } from './migrations.js';
export type { ActivityItem, ActivityProvider } from './activity.js';
export { can, assertCan, ROLES, PERMISSIONS, type Permission, type Role } from './permissions.js';
export type { ResidentService } from './residents/service.js';
export type { StaffService, StaffMember } from './staff/service.js';
export { COMMAND_LINE_ACTOR, ApiKeyInputError } from './api-keys/service.js';
export type {
  ApiClient,
  ApiKeyActor,
  ApiKeyField,
  ApiKeyService,
  ApiKeyStatus,
  ApiKeySummary,
  ApiScope,
  NewApiKey,
  NewApiKeyInput,
} from './api-keys/service.js';

/** What the account capability needs from the platform. */
export interface AccountContext {
  platform: Platform;
  jobs: Jobs;
  notifier: Notifier;
  geo: Geography;
  activity: ActivityRegistry;
}

export interface Account {
  activity: ActivityRegistry;
  residents: ResidentService;
  staff: StaffService;
  /** API keys for other systems: capabilities declare scopes and guard their JSON APIs with them. */
  apiKeys: ApiKeyService;
  web: WebModule;
  /** Route guard: residents only; sends others to sign in and back. */
  requireResident: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Route guard: signed-in, active staff holding the permission (if given). */
  requireStaff: StaffService['guard'];
  seedDemo(): Promise<void>;
}

export function createAccount(deps: Omit<AccountContext, 'activity'>): Account {
  const ctx: AccountContext = { ...deps, activity: new ActivityRegistry() };
  const residents = createResidentService(ctx);
  const staff = createStaffService(ctx);
  const apiKeys = createApiKeyService(ctx);
  staff.addNavigation({ href: '/staff/api-keys', text: 'API keys', permission: 'api-keys:manage' });
  return {
    activity: ctx.activity,
    residents,
    staff,
    apiKeys,
    requireResident: residents.guard,
    requireStaff: staff.guard,
    async seedDemo() {
      await staff.seedDemo();
      await residents.seedDemo();
    },
    web: {
      name: 'account',
      templates: path.join(projectRoot, 'src/modules/account/views'),
      residentNavigation: [{ href: '/account', text: 'Your account' }],
      homeServices: [
        { href: '/account', title: 'Your account', description: 'Sign in to see everything you have asked the council for, and how it is going.' },
      ],
      async register(app: FastifyInstance) {
        registerResidentRoutes(app, ctx, residents);
        registerStaffRoutes(app, ctx, staff);
        registerApiKeyRoutes(app, staff, apiKeys);
      },
    },
  };
}
