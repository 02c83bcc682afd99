// Masks addresses so records, logs and traces never show a full email, phone number or device token.

/** `jane.doe@example.com` → `j***@example.com`; `+14155550123` → `+1******0123`; a token → `abcd…wxyz`. */
export function maskAddress(to: string): string {
  const at = to.lastIndexOf('@');
  if (at > 0) return `${to[0]}***${to.slice(at)}`;
  if (to.startsWith('+')) return `${to.slice(0, 2)}${'*'.repeat(Math.max(0, to.length - 6))}${to.slice(-4)}`;
  if (to.length > 12) return `${to.slice(0, 4)}…${to.slice(-4)}`;
  return '***';
}

const EMAIL = /[^\s@<>"']+@[^\s@<>"']+\.[A-Za-z]{2,}/g;
const PHONE = /\+?\d[\d\s().-]{5,}\d/g;
// Device tokens and ids: long hex runs (an APNs token may hold no digit), long runs with a digit, and any very long
// run. Plain words stay: the longest provider error names (MailFromDomainNotVerifiedException) are under 48.
const TOKEN = /\b[0-9A-Fa-f]{32,}\b|(?=[A-Za-z_:\-]*\d)[A-Za-z0-9_:\-]{24,}|[A-Za-z0-9_:\-]{48,}/g;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Replaces what could be an email, a phone number or a device token in free text (error messages) with a marker. */
export function scrubText(text: string | undefined): string {
  if (!text) return '';
  return text
    .replace(EMAIL, '[email]')
    .replace(TOKEN, '[token]')
    // Fewer than 7 digits is no phone number: SMTP codes (550 5.1.1), dates and sizes stay readable.
    .replace(PHONE, (m) => (IPV4.test(m) || m.replace(/\D/g, '').length < 7 ? m : '[number]'));
}
