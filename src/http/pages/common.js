// Helpers shared by the qskip pages: JSON requests, money and time formatting, and a
// live window stream (EventSource, which reconnects and resumes with Last-Event-ID).

export const $ = (id) => document.getElementById(id);

/** fetch + JSON; resolves to {status, body} (body null when not JSON). */
export async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  return { status: response.status, body };
}

/** A random key for Idempotency-Key (getRandomValues works outside secure contexts too). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function money(minor, currency) {
  return `${(minor / 100).toFixed(2)} ${currency.toUpperCase()}`;
}

/** Formats an instant in the venue's time zone. */
export function timeIn(timezone, options) {
  const format = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, ...options });
  return (iso) => format.format(new Date(iso));
}

/** Start of the 15-minute UTC window containing `ms`, as an ISO string without millis. */
export function windowStartOf(ms) {
  const w = 15 * 60 * 1000;
  return isoSeconds(Math.floor(ms / w) * w);
}

export function isoSeconds(ms) {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** Delay before a refused stream (e.g. 503 when too many are open) is tried again. */
const STREAM_RETRY_MS = 5000;

/**
 * Follows the counts of `venue`'s windows in [from, to): calls onWindow(data) for each
 * window now and on every change, and onState(connected). Returns {close()}.
 */
export function liveWindows(venue, from, to, onWindow, onState = () => {}) {
  const query = new URLSearchParams({ from, to });
  const base = `/v1/venues/${encodeURIComponent(venue)}`;
  let source = null;
  let retry = null;
  let closed = false;
  const open = () => {
    source = new EventSource(`${base}/stream?${query}`);
    source.addEventListener('window', (event) => onWindow(JSON.parse(event.data)));
    source.onopen = () => onState(true);
    source.onerror = () => {
      onState(false);
      // EventSource reconnects by itself (resuming with Last-Event-ID), except after
      // an error answer: then read the counts once and try the stream again later.
      if (source.readyState === EventSource.CLOSED && !closed) {
        api(`${base}/windows?${query}`).then(({ status, body }) => { if (status === 200 && !closed) body.forEach(onWindow); });
        retry = setTimeout(open, STREAM_RETRY_MS);
      }
    };
  };
  open();
  return { close() { closed = true; clearTimeout(retry); source.close(); } };
}

export const STATUS_TEXT = {
  held: 'Held: waiting for payment',
  confirmed: 'Confirmed',
  expired: 'Expired',
  cancelled: 'Cancelled',
  refund_owed: 'Refund on its way',
  refunded: 'Refunded',
};
