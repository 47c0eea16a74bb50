import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { WebModule } from '../../app.js';
import { projectRoot } from '#platform/config/index';
import type { Jobs } from '#platform/jobs/index';
import type { Notifier } from '#platform/notify/index';
import type { Platform } from '#platform/platform';
import type { Account } from '#modules/account/index';
import type { Cases } from '#modules/cases/index';
import { seedDemoAppointments } from './demo.js';
import { loadAppointmentsConfig } from './model/config.js';
import { registerResidentAppointmentRoutes } from './resident-routes.js';
import { createAppointmentsService, type AppointmentsService } from './service.js';
import { registerStaffAppointmentRoutes } from './staff-routes.js';

export { appointmentsMigrations } from './migrations.js';
export { appointmentProblems, APPOINTMENT_TYPES_FOLDER, APPOINTMENTS_FOLDER } from './model/config.js';
export type { AppointmentType } from './model/config.js';
export { BookingProblems, SlotTaken, type AppointmentsService, type Booking } from './service.js';
export { formBookingProvider } from './form-bookings.js';

export interface AppointmentsDeps {
  platform: Platform;
  jobs: Jobs;
  notifier: Pick<Notifier, 'nudge'>;
  account: Account;
  cases: Pick<Cases, 'service'>;
}

export interface Appointments {
  service: AppointmentsService;
  web: WebModule;
  startWorker(): Promise<void>;
  /** The demo council's upcoming appointments, made once (never in production: the demo is refused there). */
  seedDemo(opts: { count: number }): Promise<number>;
}

/**
 * Appointments: types, resources and their opening hours are the council's configuration, loaded
 * and checked at start (a bad file stops the start with every problem listed). Bookings claim
 * places in the database, which refuses a double booking however many arrive at once.
 */
export function createAppointments(deps: AppointmentsDeps): Appointments {
  const { platform, account, cases, jobs } = deps;
  const caseTypes = new Set(cases.service.types.keys());
  const config = loadAppointmentsConfig(platform.council.dir, caseTypes, cases.service.calendar.bankHolidays);
  const service = createAppointmentsService({ platform, config, notifier: deps.notifier, cases });
  account.activity.register({
    heading: 'Your appointments',
    async listForResident(residentId) {
      const bookings = await service.residentBookings(residentId);
      return bookings.map((booking) => ({
        kind: 'appointment',
        title: `${booking.type?.name ?? 'Appointment'}: ${booking.when}`,
        reference: booking.reference,
        status: {
          confirmed: 'Booked',
          arrived: 'Arrived',
          seen: 'Attended',
          'did-not-attend': 'Missed',
          cancelled: 'Cancelled',
          held: 'Booked',
          expired: 'Cancelled',
        }[booking.status],
        updatedAt: booking.start,
        href: `/account/appointments/${booking.reference}`,
      }));
    },
    async exportForResident(residentId) {
      return (await service.residentBookings(residentId)).map((b) => ({
        reference: b.reference,
        type: b.type?.name,
        location: b.location?.name,
        start: b.start.toISOString(),
        status: b.status,
        answers: b.answers,
      }));
    },
    async onResidentDeleted(residentId) {
      await service.forgetResident(residentId);
    },
  });
  return {
    service,
    async seedDemo({ count }) {
      const officer = platform.council.demoUsers
        ? await account.staff.findMemberByEmail(`case-officer@${platform.council.demoUsers.staff.emailDomain}`)
        : undefined;
      return seedDemoAppointments(service, officer, { count, seed: 20261207 });
    },
    async startWorker() {
      // Reminders and lapsed holds are looked at every five minutes.
      await jobs.work('appointment-reminders', {}, async () => {
        await service.expireHolds();
        await service.sendReminders();
      });
      await jobs.schedule('appointment-reminders', '*/5 * * * *');
    },
    web: {
      name: 'appointments',
      templates: path.join(projectRoot, 'src/modules/appointments/views'),
      residentNavigation: [{ href: '/appointments', text: 'Book an appointment' }],
      homeServices: [
        {
          href: '/appointments',
          title: 'Book an appointment',
          description: 'Register a birth, get housing or council tax advice, or book a recycling centre visit.',
        },
      ],
      async register(app: FastifyInstance) {
        registerResidentAppointmentRoutes(app, service, account);
        account.staff.addNavigation({ href: '/staff/appointments', text: 'Appointments', permission: 'appointments:manage' });
        account.staff.addNavigation({ href: '/staff/appointments/utilisation', text: 'Appointment figures', permission: 'insights:read' });
        registerStaffAppointmentRoutes(app, service, account);
      },
    },
  };
}
