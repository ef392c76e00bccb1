// The booking page: pick a venue, a day and a window (live counts over SSE), choose a
// quantity, reserve, and go to the checkout page. Uses only the public API.
import { $, api, randomKey, money, timeIn, windowStartOf, isoSeconds, liveWindows } from './common.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const DAYS = 7; // the default sales horizon
const state = { venues: [], venue: null, windows: new Map(), selected: null, source: null };

function venueById(id) { return state.venues.find((v) => v.id === id); }

function fillDays() {
  const day = $('day');
  const at = timeIn(state.venue.timezone, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  day.replaceChildren();
  for (let n = 0; n < DAYS; n++) {
    const from = Date.now() + n * DAY_MS;
    const option = new Option(n === 0 ? `Next 24 hours (from ${at(from)})` : `${at(from)} to ${at(from + DAY_MS)}`, String(n));
    day.append(option);
  }
}

function selectVenue() {
  state.venue = venueById($('venue').value) || null;
  if (!state.venue) return;
  $('venue-info').textContent = `${money(state.venue.price_minor, state.venue.currency)} per queue skip, times in ${state.venue.timezone}`;
  fillDays();
  follow();
}

/** (Re)subscribes to the venue's windows of the chosen day. */
function follow() {
  if (state.source) state.source.close();
  state.windows.clear();
  state.selected = null;
  $('windows').replaceChildren();
  const start = Date.parse(windowStartOf(Date.now())) + Number($('day').value) * DAY_MS;
  const [from, to] = [isoSeconds(start), isoSeconds(start + DAY_MS)];
  state.source = liveWindows(state.venue.id, from, to, onWindow, (open) => {
    $('live-state').innerHTML = open
      ? '<span class="live-dot on" aria-hidden="true"></span>live'
      : '<span class="live-dot" aria-hidden="true"></span>reconnecting&hellip;';
  });
  update();
}

function onWindow(w) {
  const known = state.windows.has(w.start);
  if (Date.parse(w.end) <= Date.now() || (w.capacity === 0 && !known)) return; // ended, or closed from the start
  state.windows.set(w.start, w);
  if (!known) addChip(w);
  renderChip(w);
  if (w.start === state.selected) update();
  $('no-windows').hidden = state.windows.size > 0;
}

function addChip(w) {
  const id = `w-${Date.parse(w.start)}`;
  const input = Object.assign(document.createElement('input'), { type: 'radio', name: 'window', id, value: w.start });
  input.addEventListener('change', () => { state.selected = w.start; update(); });
  const label = document.createElement('label');
  label.htmlFor = id;
  const time = timeIn(state.venue.timezone, { hour: '2-digit', minute: '2-digit' });
  label.innerHTML = '<span class="time"></span><span class="left"></span>';
  label.querySelector('.time').textContent = `${time(w.start)}`;
  $('windows').append(input, label);
}

function renderChip(w) {
  const input = document.getElementById(`w-${Date.parse(w.start)}`);
  const label = input.nextElementSibling;
  label.querySelector('.left').textContent = w.capacity === 0 ? 'closed' : (w.available === 0 ? 'sold out' : `${w.available} left`);
  // A sold-out window cannot be picked, unless it is the one already picked.
  input.disabled = w.available === 0 && !input.checked;
}

/** The live summary of the chosen window and whether Reserve can be pressed. */
function update() {
  const w = state.windows.get(state.selected);
  const quantity = Number($('quantity').value);
  const time = state.venue && timeIn(state.venue.timezone, { hour: '2-digit', minute: '2-digit' });
  let text = 'Pick a window.';
  if (w && w.available === 0) text = `${time(w.start)}–${time(w.end)}: sold out.`;
  else if (w) text = `${time(w.start)}–${time(w.end)}: ${w.available} of ${w.capacity} left.`;
  if ($('selection').textContent !== text) $('selection').textContent = text;
  const valid = Number.isInteger(quantity) && quantity >= 1 && quantity <= 20;
  $('submit').disabled = !w || !valid || w.available < quantity;
}

async function reserve(event) {
  event.preventDefault();
  $('error').textContent = '';
  const body = { quantity: Number($('quantity').value), window_start: state.selected };
  const email = $('email').value.trim();
  if (email) body.email = email;
  $('submit').disabled = true;
  const { status, body: answer } = await api(`/v1/venues/${encodeURIComponent(state.venue.id)}/reservations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': randomKey() },
    body: JSON.stringify(body),
  });
  if (status === 201) {
    location.assign(answer.checkout_url || `/reservations/${answer.id}`);
    return;
  }
  const error = answer && answer.error;
  $('error').textContent = error && error.code === 'sold_out'
    ? `Sold out: only ${error.available} left in this window.`
    : (error ? error.message : `The request failed (${status}).`);
  update();
}

async function start() {
  const { status, body } = await api('/v1/venues');
  if (status !== 200) { $('error').textContent = 'Venues cannot be loaded right now.'; return; }
  state.venues = body;
  $('venue').replaceChildren(...body.map((v) => new Option(v.name, v.id)));
  $('venue').addEventListener('change', selectVenue);
  $('day').addEventListener('change', follow);
  $('quantity').addEventListener('input', update);
  $('reserve').addEventListener('submit', reserve);
  selectVenue();
}

start().catch((e) => { $('error').textContent = String(e); });
