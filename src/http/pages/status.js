// The status page: follows one reservation until it is final. It re-reads the
// reservation whenever its window's counts change (live stream) and every few
// seconds while it can still change (refunds do not change counts).
import { $, api, money, timeIn, liveWindows, STATUS_TEXT } from './common.js';

const POLL_MS = 5000;
const FINAL = new Set(['confirmed', 'expired', 'cancelled', 'refunded']);
const RESULT_TEXT = {
  paid: 'Payment received.',
  cancelled: 'Your reservation was cancelled.',
  sold_out: 'Your payment came after the hold ended and the window is sold out: it will be refunded.',
  window_ended: 'Your payment came after the window ended: it will be refunded.',
  hold_expired: 'The hold had expired before the payment.',
};
const id = decodeURIComponent(location.pathname.split('/').pop());
const state = { reservation: null, venue: null, source: null, poll: null };

function render(r) {
  const status = $('status');
  const text = STATUS_TEXT[r.status] || r.status;
  if (status.textContent !== text) status.textContent = text;
  status.className = `status status-${r.status}`;
  status.dataset.status = r.status;
  const tz = state.venue ? state.venue.timezone : 'UTC';
  const at = timeIn(tz, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const time = timeIn(tz, { hour: '2-digit', minute: '2-digit' });
  $('venue').textContent = state.venue ? state.venue.name : r.venue_id;
  $('window').textContent = `${at(r.window_start)}–${time(r.window_end)} (${tz})`;
  $('quantity').textContent = String(r.quantity);
  $('amount').textContent = money(r.amount_minor, r.currency);
  $('id').textContent = r.id;
  const held = r.status === 'held';
  $('expires-label').hidden = $('expires').hidden = !held;
  $('expires').textContent = held ? at(r.expires_at) : '';
  $('actions').hidden = !held;
  $('pay').hidden = !r.checkout_url;
  if (r.checkout_url) $('pay').href = r.checkout_url;
  $('details').hidden = false;
}

async function load() {
  const { status, body } = await api(`/v1/reservations/${encodeURIComponent(id)}`);
  if (status === 404) { $('status').textContent = 'Not found'; $('error').textContent = 'No reservation with this id.'; stop(); return; }
  if (status !== 200) { $('error').textContent = 'The reservation cannot be read right now; retrying.'; return; }
  $('error').textContent = '';
  state.reservation = body;
  if (!state.venue) {
    const venue = await api(`/v1/venues/${encodeURIComponent(body.venue_id)}`);
    if (venue.status === 200) state.venue = venue.body;
  }
  render(body);
  if (!state.source) follow(body);
  if (FINAL.has(body.status)) stop();
}

function follow(r) {
  state.source = liveWindows(r.venue_id, r.window_start, r.window_end, () => load());
  state.poll = setInterval(load, POLL_MS);
}

function stop() {
  if (state.source) state.source.close();
  clearInterval(state.poll);
}

async function cancel() {
  $('cancel').disabled = true;
  const { status, body } = await api(`/v1/reservations/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
  if (status !== 200) $('error').textContent = body && body.error ? body.error.message : `Cancel failed (${status}).`;
  $('cancel').disabled = false;
  await load();
}

const result = new URLSearchParams(location.search).get('result');
if (result) {
  $('notice').textContent = RESULT_TEXT[result] || `Result: ${result}`;
  $('notice').hidden = false;
}
$('cancel').addEventListener('click', cancel);
load().catch((e) => { $('error').textContent = String(e); });
