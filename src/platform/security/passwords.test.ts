import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from '@node-rs/argon2';
import {
  checkNewPassword,
  hashPassword,
  isCommonPassword,
  needsRehash,
  nextSignInAllowedAt,
  signInDelay,
  verifyPassword,
  verifyPasswordForUnknownAccount,
  PASSWORD_MAX_LENGTH,
  SIGN_IN_LOCKOUT_MS,
  SIGN_IN_LOCKOUT_THRESHOLD,
  SIGN_IN_MAX_DELAY_MS,
} from './passwords.js';

const messages = (password: string, details?: { email?: string; name?: string }) => checkNewPassword(password, details).map((p) => p.message);

test('accepts a long, uncommon password with no composition rules', () => {
  assert.deepEqual(checkNewPassword('purple tractor lemonade'), []);
  assert.deepEqual(checkNewPassword('alllowercaseletters'), []);
  assert.deepEqual(checkNewPassword('ünïcödé pässwörd ☂'), []);
});

test('asks for a password when none is given', () => {
  assert.deepEqual(messages(''), ['Enter a password']);
});

test('requires at least 10 characters and at most 256', () => {
  assert.deepEqual(messages('zq7vwx3pk'), ['Password must be 10 characters or more']);
  assert.deepEqual(messages('zq7vwx3pkm'), []);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  const long = Array.from({ length: PASSWORD_MAX_LENGTH + 1 }, (_, i) => alphabet.charAt((i * 7) % 26)).join('');
  assert.deepEqual(messages(long), ['Password must be 256 characters or fewer']);
  assert.equal(checkNewPassword('☂'.repeat(5) + 'qwzpk').length, 0, 'characters, not bytes, are counted');
});

test('refuses passwords from the common list, ignoring case', () => {
  assert.ok(isCommonPassword('qwertyuiop'));
  assert.ok(isCommonPassword('QwErTyUiOp'));
  assert.deepEqual(messages('qwertyuiop'), ['Choose a password that is harder to guess']);
  assert.deepEqual(messages('Password123'), ['Choose a password that is harder to guess']);
  assert.deepEqual(messages('iloveyou'), ['Password must be 10 characters or more', 'Choose a password that is harder to guess']);
  assert.ok(!isCommonPassword('purple tractor lemonade'));
});

test('refuses common passwords with digits tacked on, repeats and sequences', () => {
  for (const weak of ['sunshine2024!', 'aaaaaaaaaaaa', 'abcabcabcabc', 'abcdefghijk', '0987654321']) {
    assert.deepEqual(messages(weak), ['Choose a password that is harder to guess'], weak);
  }
});

test('refuses passwords containing the email address or name', () => {
  const who = { email: 'Sam.Okafor@example.org', name: 'Samuel Okafor' };
  assert.deepEqual(messages('sam.okafor@example.org', who), ['Choose a password that is harder to guess']);
  assert.deepEqual(messages('okaforfamily99', who), ['Choose a password that is harder to guess']);
  assert.deepEqual(messages('my name is SAMUEL', who), ['Choose a password that is harder to guess']);
  assert.deepEqual(messages('purple tractor lemonade', who), []);
  // Very short fragments of a name are not held against someone.
  assert.deepEqual(messages('jo rides bicycles', { name: 'Jo Li', email: 'jo@example.org' }), []);
});

test('hashes with argon2id and verifies', async () => {
  const stored = await hashPassword('purple tractor lemonade');
  assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword(stored, 'purple tractor lemonade'), true);
  assert.equal(await verifyPassword(stored, 'purple tractor lemonadE'), false);
  assert.equal(await verifyPassword('not a hash', 'purple tractor lemonade'), false);
  assert.equal(await verifyPassword('', 'purple tractor lemonade'), false);
  assert.notEqual(await hashPassword('purple tractor lemonade'), stored, 'salted');
  assert.equal(needsRehash(stored), false);
});

test('normalises Unicode so composed and decomposed forms match', async () => {
  const composed = 'caf\u00e9 au lait please';
  const decomposed = 'cafe\u0301 au lait please';
  const stored = await hashPassword(composed);
  assert.equal(await verifyPassword(stored, decomposed), true);
});

test('flags hashes made with weaker settings for rehashing', async () => {
  const weak = await hash('purple tractor lemonade', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
  assert.equal(needsRehash(weak), true);
  assert.equal(await verifyPassword(weak, 'purple tractor lemonade'), true);
  assert.equal(needsRehash('garbage'), true);
});

test('unknown accounts take the time of a real check and never match', async () => {
  assert.equal(await verifyPasswordForUnknownAccount('anything at all'), false);
});

test('sign-in throttle: free attempts, doubling delays, then a lockout', () => {
  const delays = Array.from({ length: 12 }, (_, n) => signInDelay(n));
  assert.deepEqual(
    delays.map((d) => d.delayMs),
    [0, 0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000, 0, 0],
  );
  assert.deepEqual(
    delays.map((d) => d.lockedForMs > 0),
    [false, false, false, false, false, false, false, false, false, false, true, true],
  );
  assert.equal(SIGN_IN_LOCKOUT_THRESHOLD, 10);
  assert.equal(SIGN_IN_MAX_DELAY_MS, 8000);
  assert.deepEqual(signInDelay(SIGN_IN_LOCKOUT_THRESHOLD), { delayMs: 0, lockedForMs: 15 * 60 * 1000 });
  assert.deepEqual(signInDelay(-2), { delayMs: 0, lockedForMs: 0 });

  const last = new Date('2026-01-01T10:00:00Z');
  assert.equal(nextSignInAllowedAt(2, last).getTime(), last.getTime());
  assert.equal(nextSignInAllowedAt(5, last).getTime(), last.getTime() + 2000);
  assert.equal(nextSignInAllowedAt(10, last).getTime(), last.getTime() + SIGN_IN_LOCKOUT_MS);
});
