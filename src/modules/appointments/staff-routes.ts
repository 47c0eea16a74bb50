import type { FastifyInstance } from 'fastify';
import type { Account } from '#modules/account/index';
import type { AppointmentsService } from './service.js';

export function registerStaffAppointmentRoutes(_app: FastifyInstance, _service: AppointmentsService, _account: Account): void {}
