// The admin dashboard: one venue and day. Window counts come live from the public
// stream; pending holds from the admin API, re-read for a window whenever its counts
// change; sold-out refusals, late payments and refunds from the admin activity feed.
import { $, api, timeIn, isoSeconds, liveWindows, money } from './common.js';

const TOKEN_KEY = 'qskip.adminToken';
const ACTIVITY_POLL_MS = 2000;
const state = { venues: [], venue: null, windows: new Map(), holds: new Map(), source: null, poll: null, tick: null };

const token = () => sessionStorage.getItem(TOKEN_KEY);

async function adminApi(path, options = {}) {
  const headers = { ...(options.headers || {}), Authorization: `Bearer ${token()}` };
  const answer = await api(path, { ...options, headers });
  if (answer.status === 401 || answer.status === 403) {
    signOut(answer.body && answer.body.error ? answer.body.error.message : 'Not authorized.');
    throw new Error('not authorized');
  }
  return answer;
}

/** Epoch ms of local midnight starting `date` (YYYY-MM-DD) in `tz`. */
function zonedMidnight(date, tz) {
  const [y, m, d] = date.split('-').map(Number);
  const target = Date.UTC(y, m - 1, d);
  const format = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric',
    day: 'numeric', hour: 'numeric', minute: 'numeric' });
  let guess = target;
  for (let i = 0; i < 3; i++) {
    const p = Object.fromEntries(format.formatToParts(new Date(guess)).map((x) => [x.type, Number(x.value)]));
    guess -= Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - target;
  }
  return guess;
}

function todayIn(tz) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date());
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.source) state.source.close();
  clearInterval(state.poll);
  clearInterval(state.tick);
  $('dashboard').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').focus();
}

async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  await showDashboard();
}

async function showDashboard() {
  const venues = await api('/v1/venues');
  state.venues = venues.body || [];
  if (!state.venues.length) { $('login-error').textContent = 'No venues.'; return; }
  // Checks the token before showing anything.
  await adminApi(`/v1/admin/venues/${encodeURIComponent(state.venues[0].id)}/activity`);
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('venue').replaceChildren(...state.venues.map((v) => new Option(`${v.name} (${v.id})`, v.id)));
  selectVenue(true);
}

function selectVenue(resetDay) {
  state.venue = state.venues.find((v) => v.id === $('venue').value);
  $('tz').textContent = `(${state.venue.timezone})`;
  if (resetDay || !$('day').value) $('day').value = todayIn(state.venue.timezone);
  follow();
}

function follow() {
  if (state.source) state.source.close();
  clearInterval(state.poll);
  clearInterval(state.tick);
  state.windows.clear();
  state.holds.clear();
  $('windows').replaceChildren();
  renderHolds();
  const start = zonedMidnight($('day').value, state.venue.timezone);
  const [y, m, d] = $('day').value.split('-').map(Number);
  const end = zonedMidnight(isoSeconds(Date.UTC(y, m - 1, d + 1)).slice(0, 10), state.venue.timezone);
  state.source = liveWindows(state.venue.id, isoSeconds(start), isoSeconds(end), onWindow, (open) => {
    $('live-state').innerHTML = open
      ? '<span class="live-dot on" aria-hidden="true"></span>live'
      : '<span class="live-dot" aria-hidden="true"></span>reconnecting&hellip;';
  });
  const poll = () => { loadActivity(); loadFailedRefunds(); };
  poll();
  state.poll = setInterval(poll, ACTIVITY_POLL_MS);
  state.tick = setInterval(renderHolds, 1000);
}

function onWindow(w) {
  const before = state.windows.get(w.start);
  state.windows.set(w.start, w);
  renderRow(w);
  renderTotals();
  // Holds are re-read whenever a window with (or, before, with) holds changes.
  if (w.held > 0 || (before && before.held > 0) || state.holds.has(w.start)) loadHolds(w.start);
}

function renderRow(w) {
  const id = `row-${Date.parse(w.start)}`;
  let row = document.getElementById(id);
  if (!row) {
    row = document.createElement('tr');
    row.id = id;
    row.innerHTML = '<th scope="row"></th><td class="capacity"></td><td class="confirmed"></td><td class="held"></td><td class="available"></td>';
    const time = timeIn(state.venue.timezone, { hour: '2-digit', minute: '2-digit' });
    row.querySelector('th').textContent = `${time(w.start)}–${time(w.end)}`;
    $('windows').append(row);
  }
  for (const field of ['capacity', 'confirmed', 'held', 'available']) row.querySelector(`.${field}`).textContent = String(w[field]);
  row.classList.toggle('overcommitted', w.overcommitted);
  row.classList.toggle('soldout', w.available === 0 && w.capacity > 0);
}

function renderTotals() {
  let [confirmed, held, available, over] = [0, 0, 0, 0];
  for (const w of state.windows.values()) {
    confirmed += w.confirmed; held += w.held; available += w.available; over += w.overcommitted ? 1 : 0;
  }
  const text = `Day total: ${confirmed} confirmed, ${held} held, ${available} available` +
    (over ? `; ${over} window${over > 1 ? 's' : ''} overcommitted` : '.');
  if ($('totals').textContent !== text) $('totals').textContent = text;
}

async function loadHolds(start) {
  const path = `/v1/admin/venues/${encodeURIComponent(state.venue.id)}/windows/${start}/reservations`;
  const { status, body } = await adminApi(path);
  if (status !== 200) { $('error').textContent = body && body.error ? body.error.message : `Holds: ${status}`; return; }
  const held = body.reservations.filter((r) => r.status === 'held');
  if (held.length) state.holds.set(start, held); else state.holds.delete(start);
  renderHolds();
}

function renderHolds() {
  const now = Date.now();
  const all = [...state.holds.entries()].flatMap(([start, rs]) => rs.map((r) => ({ ...r, start })))
    .filter((r) => Date.parse(r.expires_at) > now)
    .sort((a, b) => Date.parse(a.expires_at) - Date.parse(b.expires_at));
  $('no-holds').hidden = all.length > 0;
  const list = $('holds');
  const time = state.venue ? timeIn(state.venue.timezone, { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : null;
  const items = all.map((r) => {
    const li = document.createElement('li');
    li.dataset.reservation = r.id;
    const left = Math.max(0, Math.round((Date.parse(r.expires_at) - now) / 1000));
    const total = Math.max(1, (Date.parse(r.expires_at) - Date.parse(r.placed_at)) / 1000);
    li.innerHTML = '<strong class="when"></strong> <span class="what"></span><br><progress></progress> <span class="left muted"></span> <button type="button" class="secondary">Release</button>';
    li.querySelector('.when').textContent = `${time(r.start)} window`;
    li.querySelector('.what').textContent = `${r.quantity} skip${r.quantity > 1 ? 's' : ''}, hold ${r.id.slice(0, 8)}${r.email ? `, ${r.email}` : ''}, expires ${time(r.expires_at)}`;
    Object.assign(li.querySelector('progress'), { max: total, value: left });
    li.querySelector('progress').setAttribute('aria-label', 'time left');
    li.querySelector('.left').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
    li.querySelector('button').addEventListener('click', () => release(r));
    return li;
  });
  list.replaceChildren(...items);
}

async function release(r) {
  const { status, body } = await adminApi(`/v1/admin/reservations/${r.id}/release`, { method: 'POST' });
  if (status !== 200) $('error').textContent = body && body.error ? body.error.message : `Release: ${status}`;
  await loadHolds(r.start);
}

const KIND_TEXT = {
  sold_out: (a) => `Sold out: ${a.requested} asked, ${a.available} left`,
  late_payment: (a) => `Late payment confirmed (${a.reservation_id.slice(0, 8)})`,
  refund_owed: (a) => `Refund owed: ${a.reason}${a.amount_minor != null ? `, ${money(a.amount_minor, state.venue.currency)}` : ''} (${a.reservation_id.slice(0, 8)})`,
  refund_issued: (a) => `Refund issued ${a.refund_id} (${a.reservation_id.slice(0, 8)})`,
  refund_failed: (a) => `Refund refused by Stripe, waiting for you: ${a.error} (${a.reservation_id.slice(0, 8)})`,
};

// Refunds the worker gave up on, for every venue: each stays owed until retried.
async function loadFailedRefunds() {
  const { status, body } = await adminApi('/v1/admin/refunds');
  if (status !== 200) return;
  const failed = body.filter((r) => r.state === 'failed');
  const signature = failed.map((r) => `${r.reservation_id}${r.payment_intent}${r.failed_at}`).join();
  if ($('failed-refunds').dataset.signature === signature) return;
  $('failed-refunds').dataset.signature = signature;
  $('no-failed-refunds').hidden = failed.length > 0;
  $('failed-refunds').replaceChildren(...failed.map((r) => {
    const li = document.createElement('li');
    li.dataset.reservation = r.reservation_id;
    li.innerHTML = '<strong class="what"></strong><br><span class="error-text muted"></span> <button type="button" class="secondary">Retry</button>';
    const amount = r.amount_minor != null ? money(r.amount_minor, r.currency || '') : 'full amount';
    li.querySelector('.what').textContent = `${r.venue_id}: ${amount} for ${r.payment_intent} (${r.reason}), ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`;
    li.querySelector('.error-text').textContent = r.error;
    li.querySelector('button').addEventListener('click', () => retryRefunds(r.reservation_id));
    return li;
  }));
}

async function retryRefunds(id) {
  const { status, body } = await adminApi(`/v1/admin/reservations/${id}/refunds/retry`, { method: 'POST' });
  if (status !== 200) $('error').textContent = body && body.error ? body.error.message : `Retry: ${status}`;
  await loadFailedRefunds();
}

async function loadActivity() {
  const { status, body } = await adminApi(`/v1/admin/venues/${encodeURIComponent(state.venue.id)}/activity`);
  if (status !== 200) return;
  const time = timeIn(state.venue.timezone, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const window = timeIn(state.venue.timezone, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  const items = body.map((a) => {
    const li = document.createElement('li');
    li.className = `activity-${a.kind}`;
    li.textContent = `${time(a.at)} · window ${window(a.window_start)} · ${(KIND_TEXT[a.kind] || (() => a.kind))(a)}`;
    return li;
  });
  $('no-activity').hidden = items.length > 0;
  // Replacing only on change keeps the live region quiet when nothing happened.
  const signature = body.map((a) => `${a.at}${a.kind}`).join();
  if ($('activity').dataset.signature !== signature) {
    $('activity').dataset.signature = signature;
    $('activity').replaceChildren(...items);
  }
}

$('login').addEventListener('submit', (e) => signIn(e).catch(() => {}));
$('logout').addEventListener('click', () => signOut(''));
$('venue').addEventListener('change', () => selectVenue(true));
$('day').addEventListener('change', () => { if ($('day').value) follow(); });
if (token()) showDashboard().catch(() => {}); else signOut('');
