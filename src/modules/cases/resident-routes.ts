import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkUpload } from '#platform/files/index';
import { HttpError } from '#platform/http/errors';
import { errorSummary, paragraphs } from '#platform/views/index';
import type { Account } from '#modules/account/index';
import {
  ATTACHMENT_TYPES,
  MAX_ATTACHMENT_BYTES,
  bodyOf,
  detailText,
  longDate,
  referenceParam,
  sendAttachment,
  takeFlash,
  text,
  uploadOf,
  uploadProblem,
  withUploads,
  type FieldErrors,
} from './case-routes.js';
import type { CasesService, EventRow } from './service.js';

const MAX_INFORMATION = 5000;
const CLOSED_MESSAGE = 'This case is closed, so you cannot add information to it. Contact us if you need it looked at again.';

interface ResidentUpdate {
  label: string;
  at: Date;
  paragraphs: string[][];
  file?: { href: string; text: string } | undefined;
}

/** What the resident sees of their case's history: public events only, in their words. */
function residentTimeline(
  events: readonly EventRow[],
  reference: string,
  visibleFiles: ReadonlySet<string>,
  statusLabel: (code: string) => string,
): ResidentUpdate[] {
  return events.flatMap((e): ResidentUpdate[] => {
    const at = new Date(e.at);
    switch (e.kind) {
      case 'opened':
        return [{ label: 'We received it', at, paragraphs: [] }];
      case 'status': {
        const to = detailText(e.details, 'to');
        return [{ label: `Status: ${to ? statusLabel(to) : 'changed'}`, at, paragraphs: paragraphs(e.body) }];
      }
      case 'update':
        return [{ label: 'Update from us', at, paragraphs: paragraphs(e.body) }];
      case 'resident-info':
        return [{ label: 'You added information', at, paragraphs: paragraphs(e.body) }];
      case 'attachment': {
        const id = detailText(e.details, 'attachmentId');
        const file = id && visibleFiles.has(id) ? { href: `/account/cases/${reference}/attachments/${id}`, text: e.body ?? 'Download the file' } : undefined;
        return [{ label: e.actor_type === 'resident' ? 'You added a file' : 'We added a file', at, paragraphs: [], file }];
      }
      default:
        return [];
    }
  });
}

/** "Your cases" in My Account: a resident's own case, its public history, and adding information to it. */
export function registerCaseResidentRoutes(app: FastifyInstance, service: CasesService, account: Account): void {
  const guard = { preHandler: account.requireResident };
  const timeZone = service.calendar.timeZone;

  async function renderCase(
    request: FastifyRequest,
    reply: FastifyReply,
    reference: string,
    state: { errors?: FieldErrors; values?: Record<string, string>; status?: number } = {},
  ) {
    const resident = account.residents.current(request);
    const { case: c, events, attachments } = await service.residentCase(resident.id, reference);
    const type = service.types.get(c.type);
    const statusLabel = (code: string) => type?.status(code)?.residentLabel ?? type?.status(code)?.label ?? code;
    const errors = state.errors ?? {};
    return reply.code(state.status ?? 200).view('residents/case.njk', {
      resident,
      section: 'activity',
      flash: takeFlash(request),
      c,
      openedOn: longDate(c.openedAt, timeZone),
      closedOn: c.closedAt ? longDate(c.closedAt, timeZone) : undefined,
      aimDate: !c.closed && c.dueAt ? longDate(c.dueAt, timeZone) : undefined,
      updates: residentTimeline(events, c.reference, new Set(attachments.map((a) => a.id)), statusLabel),
      values: state.values ?? {},
      maxLength: MAX_INFORMATION,
      fieldErrors: errors,
      errors: errorSummary(errors),
    });
  }

  app.get<{ Params: { reference: string } }>('/account/cases/:reference', guard, async (request, reply) => {
    const reference = referenceParam(request.params.reference);
    if (reference !== request.params.reference) return reply.redirect(`/account/cases/${reference}`, 301);
    return renderCase(request, reply, reference);
  });

  app.get<{ Params: { reference: string; id: string } }>('/account/cases/:reference/attachments/:id', guard, async (request, reply) => {
    const resident = account.residents.current(request);
    const file = await service.attachmentFile({ type: 'resident', residentId: resident.id }, referenceParam(request.params.reference), request.params.id);
    return sendAttachment(reply, file);
  });

  withUploads(app, (scope) => {
    scope.post<{ Params: { reference: string } }>('/account/cases/:reference/information', guard, async (request, reply) => {
      const resident = account.residents.current(request);
      const reference = referenceParam(request.params.reference);
      // Someone else's reference is "not found" before anything about the form is said.
      const { case: c } = await service.residentCase(resident.id, reference);
      const body = bodyOf(request);
      const information = text(body, 'information');
      const values = { information };
      if (c.closed) return renderCase(request, reply, reference, { errors: { information: CLOSED_MESSAGE }, values, status: 409 });

      const errors: FieldErrors = {};
      if (!information.trim()) errors.information = 'Enter the information you want to add';
      else if (information.trim().length > MAX_INFORMATION)
        errors.information = `The information must be ${MAX_INFORMATION.toLocaleString('en-GB')} characters or fewer`;
      const upload = uploadOf(body, 'evidence');
      const tooBig = uploadProblem(upload, false);
      if (tooBig) errors.evidence = tooBig;
      else if (upload && !('tooLarge' in upload)) {
        const check = checkUpload(upload.bytes, { allowed: ATTACHMENT_TYPES, maxBytes: MAX_ATTACHMENT_BYTES });
        if (!check.ok) errors.evidence = check.message;
      }
      if (Object.keys(errors).length) return renderCase(request, reply, reference, { errors, values, status: 400 });

      try {
        await service.residentAddInformation(resident.id, reference, information);
        if (upload && !('tooLarge' in upload))
          await service.addAttachment({ type: 'resident', residentId: resident.id }, reference, { bytes: upload.bytes, filename: upload.filename });
      } catch (error) {
        if (error instanceof HttpError && (error.statusCode === 400 || error.statusCode === 409))
          return renderCase(request, reply, reference, { errors: { information: error.message }, values, status: error.statusCode });
        throw error;
      }
      request.session.caseFlash = upload ? 'We have added your information and file to your case.' : 'We have added your information to your case.';
      return reply.redirect(`/account/cases/${reference}`, 303);
    });
  });
}
