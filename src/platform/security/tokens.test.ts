import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { constantTimeEqual, randomReference, sha256Hex, signToken, verifyToken, REFERENCE_ALPHABET } from './tokens.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hmac';
const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 60 * 60 * 1000;

test('a signed token verifies for its purpose and returns the payload', () => {
  const token = signToken(SECRET, { purpose: 'verify-email', subject: 'account-42', expiresAt: new Date(NOW + HOUR), data: { email: 'changed' } });
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.equal(encodeURIComponent(token), token, 'URL-safe as it is');
  const result = verifyToken(SECRET, token, 'verify-email', NOW);
  assert.ok(result.ok);
  assert.equal(result.payload.purpose, 'verify-email');
  assert.equal(result.payload.subject, 'account-42');
  assert.equal(result.payload.expiresAt.getTime(), NOW + HOUR);
  assert.deepEqual(result.payload.data, { email: 'changed' });
  assert.ok(result.payload.nonce.length >= 16);
});

test('each token gets its own nonce unless one is given', () => {
  const claims = { purpose: 'sign-in', subject: 'a', expiresAt: NOW + HOUR };
  assert.notEqual(signToken(SECRET, claims), signToken(SECRET, claims));
  const fixed = signToken(SECRET, { ...claims, nonce: 'n-1' });
  assert.equal(fixed, signToken(SECRET, { ...claims, nonce: 'n-1' }));
  const result = verifyToken(SECRET, fixed, 'sign-in', NOW);
  assert.ok(result.ok && result.payload.nonce === 'n-1');
});

test('refuses an expired token', () => {
  const token = signToken(SECRET, { purpose: 'reset-password', subject: 'a', expiresAt: NOW + HOUR });
  assert.ok(verifyToken(SECRET, token, 'reset-password', NOW + HOUR - 1000).ok);
  assert.deepEqual(verifyToken(SECRET, token, 'reset-password', NOW + HOUR), { ok: false, reason: 'expired' });
  assert.deepEqual(verifyToken(SECRET, token, 'reset-password', new Date(NOW + 2 * HOUR)), { ok: false, reason: 'expired' });
});

test('refuses a token made for another purpose', () => {
  const token = signToken(SECRET, { purpose: 'track-report', subject: 'R-1', expiresAt: NOW + HOUR });
  assert.deepEqual(verifyToken(SECRET, token, 'cancel-booking', NOW), { ok: false, reason: 'wrong-purpose' });
});

test('refuses a token signed with another secret or tampered with', () => {
  const token = signToken(SECRET, { purpose: 'resume-form', subject: 'draft-1', expiresAt: NOW + HOUR });
  assert.deepEqual(verifyToken('another-secret-that-is-long-enough', token, 'resume-form', NOW), { ok: false, reason: 'bad-signature' });

  const [payload, signature] = token.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ p: 'resume-form', s: 'draft-2', e: Math.floor((NOW + HOUR) / 1000), n: 'x' })).toString('base64url');
  assert.deepEqual(verifyToken(SECRET, `${forged}.${signature}`, 'resume-form', NOW), { ok: false, reason: 'bad-signature' });
  const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  assert.deepEqual(verifyToken(SECRET, `${payload}.${flipped}`, 'resume-form', NOW), { ok: false, reason: 'bad-signature' });
  assert.deepEqual(verifyToken(SECRET, `${payload}.${signature.slice(0, -2)}`, 'resume-form', NOW), { ok: false, reason: 'bad-signature' });
});

test('refuses malformed tokens', () => {
  for (const bad of ['', 'abc', 'a.b.c', 'has space.sig', '.sig', 'payload.', `${'a'.repeat(5000)}.b`]) {
    assert.deepEqual(verifyToken(SECRET, bad, 'verify-email', NOW), { ok: false, reason: 'malformed' }, bad);
  }
});

test('a validly signed payload of the wrong shape is malformed', () => {
  const encoded = Buffer.from(JSON.stringify({ p: 'verify-email', s: 1, e: 'soon' })).toString('base64url');
  const signature = createHmac('sha256', SECRET).update(`borough-token-v1.${encoded}`).digest('base64url');
  assert.deepEqual(verifyToken(SECRET, `${encoded}.${signature}`, 'verify-email', NOW), { ok: false, reason: 'malformed' });
});

test('insists on a secret of a sensible length', () => {
  assert.throws(() => signToken('short', { purpose: 'p', subject: 's', expiresAt: NOW }), /at least 16 bytes/);
});

test('random references use only unambiguous characters', () => {
  assert.ok(!/[0O1IL]/.test(REFERENCE_ALPHABET));
  const refs = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const ref = randomReference(REFERENCE_ALPHABET, 8);
    assert.match(ref, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/);
    refs.add(ref);
  }
  assert.equal(refs.size, 500);
  assert.match(randomReference('23456789', 6), /^[2-9]{6}$/);
  assert.throws(() => randomReference('AA', 4));
  assert.throws(() => randomReference(REFERENCE_ALPHABET, 0));
});

test('random references use every character of the alphabet about equally', () => {
  const counts = new Map<string, number>();
  const ref = randomReference('ABCD', 4000);
  for (const ch of ref) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  for (const ch of 'ABCD') assert.ok((counts.get(ch) ?? 0) > 850, `${ch} appeared ${counts.get(ch)} times`);
});

test('sha256Hex and constant-time comparison', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(Buffer.from('abc')), sha256Hex('abc'));
  assert.equal(constantTimeEqual('same', 'same'), true);
  assert.equal(constantTimeEqual('same', 'diff'), false);
  assert.equal(constantTimeEqual('short', 'longer'), false);
});
