/**
 * Header values from error text: nats.js throws on CR/LF in a header value, and such a throw in the
 * error path once took the whole process down (review C1). Control characters become spaces and
 * the value is bounded.
 */
// C0 controls (CR, LF, NUL …), DEL and C1 controls.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
export const MAX_HEADER_VALUE = 200;

export function headerValue(text: string, max = MAX_HEADER_VALUE): string {
  const clean = String(text).replace(CONTROL, ' ');
  return clean.length > max ? clean.slice(0, max) : clean;
}
