import type { CouncilProfile } from '#platform/council/index';

/** The words of each email a resident can be sent about their account. */
export interface EmailContent {
  subject: string;
  body: string;
}

function signOff(council: CouncilProfile): string {
  return [`${council.shortName}`, `${council.contact.phone} (${council.contact.phoneHours})`].join('\n');
}

function notYou(council: CouncilProfile): string {
  return `If you did not ask for this, you can ignore this email. Nobody can use your account without the link.\n\n${signOff(council)}`;
}

export const emails = {
  confirmEmail(council: CouncilProfile, link: string): EmailContent {
    return {
      subject: `Confirm your email address for your ${council.shortName} account`,
      body: [
        `Confirm your email address to finish creating your ${council.shortName} account.`,
        `Use this link to confirm your email address:\n${link}`,
        'The link works for 24 hours.',
        `If you did not create an account, you can ignore this email.\n\n${signOff(council)}`,
      ].join('\n\n'),
    };
  },

  alreadyRegistered(council: CouncilProfile, signInLink: string, resetLink: string, confirmLink?: string): EmailContent {
    const parts = [
      `Someone tried to create a ${council.shortName} account with this email address. You already have an account.`,
      `Sign in:\n${signInLink}`,
      `If you have forgotten your password, reset it:\n${resetLink}`,
    ];
    if (confirmLink) parts.push(`You have not confirmed your email address yet. Use this link to confirm it (it works for 24 hours):\n${confirmLink}`);
    parts.push(`If this was not you, you do not need to do anything. Your account has not been changed.\n\n${signOff(council)}`);
    return { subject: `You already have a ${council.shortName} account`, body: parts.join('\n\n') };
  },

  signInLink(council: CouncilProfile, link: string): EmailContent {
    return {
      subject: `Sign in to your ${council.shortName} account`,
      body: [`Use this link to sign in to your ${council.shortName} account:\n${link}`, 'The link works once, for 15 minutes.', notYou(council)].join('\n\n'),
    };
  },

  resetPassword(council: CouncilProfile, link: string): EmailContent {
    return {
      subject: `Reset your ${council.shortName} account password`,
      body: [`Use this link to reset your password:\n${link}`, 'The link works once, for 1 hour.', notYou(council)].join('\n\n'),
    };
  },

  passwordChanged(council: CouncilProfile, forgotLink: string): EmailContent {
    return {
      subject: `Your ${council.shortName} account password has been changed`,
      body: [
        `The password for your ${council.shortName} account has been changed. You have been signed out on your other devices.`,
        `If you did not change it, reset your password now:\n${forgotLink}`,
        `Then contact us on ${council.contact.phone}.\n\n${signOff(council)}`,
      ].join('\n\n'),
    };
  },

  locked(council: CouncilProfile, minutes: number, resetLink: string): EmailContent {
    return {
      subject: `Someone tried to sign in to your ${council.shortName} account`,
      body: [
        `Someone entered the wrong password for your ${council.shortName} account too many times.`,
        `To keep your account safe, signing in with a password is stopped for ${minutes} minutes.`,
        `If this was you, you can wait and try again, or reset your password now:\n${resetLink}`,
        `If this was not you, reset your password to make sure your account stays safe.\n\n${signOff(council)}`,
      ].join('\n\n'),
    };
  },

  confirmNewEmail(council: CouncilProfile, link: string): EmailContent {
    return {
      subject: `Confirm your new email address for your ${council.shortName} account`,
      body: [
        `You asked to use this email address for your ${council.shortName} account.`,
        `Use this link to confirm it:\n${link}`,
        'The link works for 24 hours. Until you confirm it, we will keep using your old email address.',
        `If you did not ask for this, you can ignore this email.\n\n${signOff(council)}`,
      ].join('\n\n'),
    };
  },

  newEmailTaken(council: CouncilProfile): EmailContent {
    return {
      subject: `Your email address is already used for a ${council.shortName} account`,
      body: [
        `Someone asked to change the email address of a ${council.shortName} account to this one. This email address already has its own account, so it cannot be used for another.`,
        `If this was you, sign in to the account that uses this email address, or use a different email address.\n\n${signOff(council)}`,
      ].join('\n\n'),
    };
  },

  emailChanged(council: CouncilProfile): EmailContent {
    return {
      subject: `The email address for your ${council.shortName} account has been changed`,
      body: [
        `The email address for your ${council.shortName} account has been changed. We will not send emails about your account to this address any more.`,
        `If you did not change it, contact us on ${council.contact.phone} or at ${council.contact.email} straight away.\n\n${signOff(council)}`,
      ].join('\n\n'),
    };
  },

  accountDeleted(council: CouncilProfile): EmailContent {
    return {
      subject: `Your ${council.shortName} account has been deleted`,
      body: [
        `Your ${council.shortName} account has been deleted. You can no longer sign in with it.`,
        ['The council still keeps:', ...council.accounts.deletedAccountKept.map((k) => `* ${k}`)].join('\n'),
        `If you did not delete your account, contact us on ${council.contact.phone}.\n\n${signOff(council)}`,
      ].join('\n\n'),
    };
  },
};
