// Masks addresses so records, logs and traces never show a full email, phone number or device token.

/** `jane.doe@example.com` → `j***@example.com`; `+14155550123` → `+1******0123`; a token → `abcd…wxyz`. */
export function maskAddress(to: string): string {
  const at = to.lastIndexOf('@');
  if (at > 0) return `${to[0]}***${to.slice(at)}`;
  if (to.startsWith('+')) return `${to.slice(0, 2)}${'*'.repeat(Math.max(0, to.length - 6))}${to.slice(-4)}`;
  if (to.length > 12) return `${to.slice(0, 4)}…${to.slice(-4)}`;
  return '***';
}
