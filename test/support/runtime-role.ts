import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';

/** The database role of the running functions (migrations/0009_runtime_role.sql). */
export const RUNTIME_ROLE = 'ardoq_sync_app';

/**
 * The password tests give the runtime role. The role belongs to the whole server, shared by every
 * test database: tests that set its password all set this one, so a check of the stored password
 * holds whichever of them ran last.
 */
export const RUNTIME_TEST_PASSWORD = 'runtime-role-test-password-0123456789';

/** The URL of a database, logging in as the runtime role instead of its user. */
export function runtimeRoleUrl(databaseUrl: string, password = RUNTIME_TEST_PASSWORD): string {
  const url = new URL(databaseUrl);
  url.username = RUNTIME_ROLE;
  url.password = password;
  return url.toString();
}

/**
 * Whether a stored PostgreSQL password (`pg_authid.rolpassword`, `SCRAM-SHA-256$<iterations>:<salt>$
 * <StoredKey>:<ServerKey>`, RFC 5802/7677) was made from `password`. The test server trusts local
 * logins, so a login proves nothing about the password: this does.
 */
export function scramVerifierMatches(verifier: string, password: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!match) return false;
  const [, iterations, salt, storedKey] = match as unknown as [string, string, string, string];
  const salted = pbkdf2Sync(password, Buffer.from(salt, 'base64'), Number(iterations), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const expected = createHash('sha256').update(clientKey).digest();
  const actual = Buffer.from(storedKey, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
