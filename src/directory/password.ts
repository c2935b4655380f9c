import { Algorithm, hash, verify } from '@node-rs/argon2';
import { randomInt } from 'node:crypto';

/** Hashes a password with argon2id (OWASP's recommended parameters: 19 MiB, 2 passes). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export function verifyPassword(stored: string, password: string): Promise<boolean> {
  return verify(stored, password);
}

/** A random password a person can type: 20 characters from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from({ length: 20 }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/**
 * The password policy for passwords people choose (portal, CSV import): at least
 * `minLength` characters, and neither the address's local part nor its domain's name in
 * it (the first guesses of anyone who knows the address). Returns the sentence that
 * says what is wrong, or undefined when the password is acceptable.
 */
export function passwordProblem(password: string, address: string, minLength: number): string | undefined {
  if ([...password].length < minLength) return `The password must have at least ${minLength} characters.`;
  if (password.length > 1024) return 'The password must have at most 1024 characters.';
  const lower = password.toLowerCase();
  const [local = '', domain = ''] = address.toLowerCase().split('@');
  if (local.length >= 3 && lower.includes(local)) return 'The password must not contain the user name.';
  const label = domain.split('.')[0] ?? '';
  if (label.length >= 3 && lower.includes(label)) return 'The password must not contain the domain name.';
  return undefined;
}
