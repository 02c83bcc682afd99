// Stream entry ids (`<ms>-<seq>`) compared.

/** The smaller of two stream ids (`<ms>-<seq>`; both parts stay far below 2^53, so plain numbers compare them). */
export function minId(a: string, b: string): string {
  const ad = a.indexOf('-');
  const bd = b.indexOf('-');
  const am = Number(a.slice(0, ad));
  const bm = Number(b.slice(0, bd));
  return am < bm || (am === bm && Number(a.slice(ad + 1)) <= Number(b.slice(bd + 1))) ? a : b;
}

/** The larger of two stream ids. */
export const maxId = (a: string, b: string): string => (minId(a, b) === a ? b : a);
