export const ADVICE_FORM_SLUG = 'council-tax-help';

/** A form that books council tax advice at the civic centre, answering the type's own questions from its own. */
export const ADVICE_FORM = {
  schemaVersion: 2,
  id: 'council_tax_help',
  slug: ADVICE_FORM_SLUG,
  title: 'Get help with your council tax',
  pages: [
    {
      id: 'you',
      slug: 'you',
      title: 'Your details',
      components: [
        { type: 'name', id: 'applicant', label: 'Your name', prefill: 'name' },
        { type: 'email', id: 'email', label: 'Email address', prefill: 'email' },
        { type: 'ukPhone', id: 'phone', label: 'Phone number', optional: true },
      ],
    },
    {
      id: 'about',
      slug: 'about',
      title: 'About your question',
      components: [
        { type: 'text', id: 'councilTaxAccount', label: 'Council tax account number', optional: true, maxLength: 20 },
        { type: 'textarea', id: 'topic', label: 'What would you like advice about?', maxLength: 500 },
      ],
    },
    {
      id: 'visit',
      slug: 'visit',
      title: 'Choose a time to see an adviser',
      components: [
        {
          type: 'appointment',
          id: 'visit',
          label: 'Choose a time to see an adviser',
          appointmentType: 'council-tax-advice',
          location: 'civic-centre',
          answers: { accountNumber: 'councilTaxAccount' },
        },
      ],
    },
  ],
};
