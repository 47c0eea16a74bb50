import { HttpError } from '#platform/http/errors';
import type { BookingDescription, BookingProvider } from '#modules/forms/index';
import type { Location } from './model/config.js';
import { formatWhen } from './model/when.js';
import { BookingProblems, SlotTaken, type AppointmentsService } from './service.js';

/** How a booking's place reads after its time: "Kingsmere Civic Centre", or "by phone". */
function whereOf(location: Location | undefined): string {
  if (location === undefined) return '';
  return location.kind === 'phone' ? 'by phone' : location.name;
}

/** A form's answer as the type's own question reads it when posted: yes or no, and numbers, as text. */
function asPosted(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(value);
  return value;
}

/**
 * Lets forms book appointments: a form's appointment question offers the type's next free times,
 * holds the one chosen, and confirms it with the name, email and phone the form asked for when the
 * form is sent. The type's own questions are answered by the form's questions (see docs/forms.md);
 * forms refuse to publish a form that leaves a required one unanswered.
 *
 * Bookings are made as by a resident who is not signed in, marked as coming from a form, and belong
 * to the resident's account when they were signed in as they filled in the form.
 */
export function formBookingProvider(service: AppointmentsService): BookingProvider {
  const { config } = service;

  return {
    describe(code): BookingDescription | undefined {
      const type = config.types.get(code);
      if (type === undefined) return undefined;
      return {
        name: type.name,
        locations: type.locations.flatMap((location) => {
          const found = config.locations.get(location);
          return found ? [{ code: location, name: found.name }] : [];
        }),
        questions: type.questions.map((question) => ({
          id: question.id,
          label: question.label,
          required: !question.optional && question.requiredIf === undefined && question.showIf === undefined,
          ...(question.type === 'radios' || question.type === 'select' || question.type === 'checkboxes'
            ? { values: question.options.map((option) => option.value) }
            : {}),
        })),
        signInRequired: type.signInRequired,
      };
    },

    async times(code, location, { limit }) {
      const type = service.typeOf(code);
      const slots = await service.availability(code, location, { limit });
      return slots.map((slot) => ({
        start: slot.start,
        text: formatWhen(slot.start),
        // Where a slot takes many bookings (cars at a site), how many are left helps people choose.
        ...(type.capacityPerSlot > 1 ? { hint: `${slot.placesLeft} ${slot.placesLeft === 1 ? 'place' : 'places'} left` } : {}),
      }));
    },

    async hold(code, location, start) {
      try {
        const { booking, key } = await service.hold({ type: 'resident', residentId: null }, { type: code, location, start, source: 'form' });
        return { id: booking.id, key, when: booking.when, where: whereOf(booking.location) };
      } catch (error) {
        if (error instanceof SlotTaken) return { taken: true };
        throw error;
      }
    },

    async release(hold) {
      await service.releaseHold(hold.id, hold.key);
    },

    async confirm(hold, details) {
      const held = await service.heldBooking(hold.id, hold.key);
      if (held?.type === undefined) return { expired: true };
      const { name, email } = details.contact;
      // A phone number is only for text reminders, which forms do not offer: one the booking would refuse is left out.
      const phone =
        details.contact.phone !== undefined &&
        service.checkDetails(held.type, { name, email, phone: details.contact.phone }, held.location).errors.phone === undefined;
      const raw: Record<string, unknown> = {
        ...Object.fromEntries(Object.entries(details.answers).map(([id, value]) => [id, asPosted(value)])),
        name,
        email,
        ...(phone ? { phone: details.contact.phone } : {}),
        remindBy: 'email',
      };
      try {
        const booking = await service.confirm({ type: 'resident', residentId: details.residentId ?? null }, hold.id, hold.key, raw);
        return { reference: booking.reference, when: booking.when, where: whereOf(booking.location) };
      } catch (error) {
        if (error instanceof HttpError && error.statusCode === 409) return { expired: true };
        if (error instanceof BookingProblems) {
          const problems = Object.entries(error.fields).map(([field, message]) => `${field}: ${message}`);
          throw new Error(`The form's answers do not suit the ${held.type.name} booking: ${problems.join('; ')}`);
        }
        throw error;
      }
    },
  };
}
