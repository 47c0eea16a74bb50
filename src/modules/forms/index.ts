import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { WebModule } from '../../app.js';
import { projectRoot } from '#platform/config/index';
import type { Account } from '#modules/account/index';
import { formDefinitionJsonSchema } from './model/definition.js';
import { registerFormRoutes } from './routes.js';
import { createFormsService, type FormsContext, type FormsService } from './service.js';
import { registerFormStaffRoutes } from './staff-routes.js';

export { formsMigrations } from './migrations.js';
export type { CaseContact, CaseCreator, CasePlace, CaseRequest, CaseSettings } from './delivery/targets.js';
export type { FormsService, Submission, Draft } from './service.js';
/** What a capability implements to let forms book appointments (registered with `setBookingProvider`). */
export type {
  BookedAppointment,
  BookingConfirmation,
  BookingContact,
  BookingDescription,
  BookingHold,
  BookingProvider,
  BookingTime,
  BookingTypeQuestion,
} from './model/bookings.js';
/** The question components other capabilities reuse for their own extra questions (street report categories). */
export {
  checkboxesSchema,
  numberSchema,
  radiosSchema,
  selectSchema,
  textareaSchema,
  textSchema,
  yesNoSchema,
  type GroupableQuestion,
} from './model/components.js';
/** Draws those questions with the forms' own `question` macro, and says their answers in words. */
export { extraAnswerText, extraQuestionView, type ExtraQuestion } from './runner/extra-questions.js';
/** Checks an answer to one of those questions as posted, with the forms' own error messages. */
export { validate as validateAnswer } from './model/validation.js';

export interface Forms {
  service: FormsService;
  web: WebModule;
  /** Publishes the council's shipped form definitions that are new or changed. */
  loadShipped(): Promise<void>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
}

export function createForms(ctx: FormsContext & { account: Account }): Forms {
  const service = createFormsService(ctx);
  const { account } = ctx;
  account.activity.register({
    heading: 'Your forms',
    async listForResident(residentId) {
      const { drafts, submissions } = await service.residentActivity(residentId);
      return [
        ...drafts.map((draft) => ({
          kind: 'form',
          title: draft.title,
          status: 'Not sent yet',
          updatedAt: new Date(draft.updated_at),
          href: `/forms/${draft.slug}/resume/${draft.id}`,
        })),
        ...submissions.map((submission) => ({
          kind: 'form',
          title: submission.title,
          reference: submission.reference,
          status: 'Sent',
          updatedAt: new Date(submission.submitted_at),
        })),
      ];
    },
    async exportForResident(residentId) {
      const { submissions } = await service.residentActivity(residentId);
      return submissions.map((s) => ({ form: s.title, reference: s.reference, submittedAt: s.submitted_at, answers: s.answers }));
    },
    async onResidentDeleted(residentId) {
      await service.forgetResident(residentId);
    },
  });

  return {
    service,
    loadShipped: async () => {
      await service.loadShipped();
    },
    startWorker: () => service.deliveries.start(),
    stopWorker: () => service.deliveries.stop(),
    web: {
      name: 'forms',
      templates: path.join(projectRoot, 'src/modules/forms/views'),
      homeServices: [{ href: '/forms', title: 'Forms', description: 'Apply, refer or tell the council something.' }],
      async register(app: FastifyInstance) {
        const schema = JSON.stringify(formDefinitionJsonSchema(), null, 2);
        app.get('/api/forms/schema.json', (_request, reply) =>
          reply.type('application/schema+json').header('cache-control', 'public, max-age=3600').send(schema),
        );
        registerFormRoutes(app, service, account, { tiles: ctx.platform.config.mapTiles });
        registerFormStaffRoutes(app, service, account);
      },
    },
  };
}
