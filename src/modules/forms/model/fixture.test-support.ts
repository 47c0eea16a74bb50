import type { FormDefinitionInput } from './definition.js';

/** A small referral form used by the routing and linter tests. */
export function referralForm(): FormDefinitionInput {
  return {
    schemaVersion: 2,
    id: 'referral',
    slug: 'referral',
    title: 'Refer a family',
    sections: [{ id: 'about', title: 'About the referral' }],
    pages: [
      {
        id: 'danger',
        slug: 'danger',
        title: 'Is a child in immediate danger?',
        components: [{ type: 'yesNo', id: 'inDanger', label: 'Is a child in immediate danger?' }],
        routes: [{ when: { equals: [{ answer: 'inDanger' }, true] }, goTo: 'callNow' }, { goTo: 'who' }],
      },
      {
        id: 'callNow',
        slug: 'call-now',
        title: 'Call 999 now',
        components: [{ type: 'warning', text: 'Call 999 now.' }],
        routes: [{ goTo: { exit: 'https://example.org/emergency' } }],
      },
      {
        id: 'who',
        slug: 'who',
        title: 'Who is referring?',
        section: 'about',
        components: [
          {
            type: 'radios',
            id: 'role',
            label: 'Who is referring?',
            options: [
              { value: 'professional', text: 'A professional', reveals: [{ type: 'text', id: 'organisation', label: 'Organisation' }] },
              { value: 'family', text: 'A family member' },
            ],
          },
        ],
      },
      {
        id: 'children',
        slug: 'children',
        title: 'Children',
        components: [
          {
            type: 'repeatingGroup',
            id: 'children',
            label: 'Children',
            itemName: 'child',
            components: [
              { type: 'text', id: 'childName', label: 'Name' },
              { type: 'number', id: 'age', label: 'Age' },
              { type: 'text', id: 'nursery', label: 'Nursery', showIf: { less: [{ answer: 'age' }, 5] } },
            ],
          },
        ],
        routes: [{ when: { greater: [{ countOf: 'children', where: { less: [{ answer: 'age' }, 5] } }, 0] }, goTo: 'early' }, { goTo: 'consent' }],
      },
      { id: 'early', slug: 'early-years', title: 'Early years', components: [{ type: 'textarea', id: 'earlyYears', label: 'Early years support' }] },
      {
        id: 'consent',
        slug: 'consent',
        title: 'Consent',
        components: [
          { type: 'yesNo', id: 'consent', label: 'Has the family given consent?' },
          { type: 'textarea', id: 'noConsentReason', label: 'Why not?', showIf: { equals: [{ answer: 'consent' }, false] } },
        ],
        routes: [{ goTo: 'check-answers' }],
      },
    ],
    computed: [
      {
        id: 'hasUnderFives',
        cases: [{ when: { greater: [{ countOf: 'children', where: { less: [{ answer: 'age' }, 5] } }, 0] }, value: true }, { value: false }],
      },
    ],
    deliveries: [{ name: 'earlyHelpHub', type: 'case' }],
  };
}
