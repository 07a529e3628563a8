// app.js - the response team's dashboard: alert queue, alert detail and
// triage, escalation, fleet and staff activity, all from /api/.  Values are
// put into the page with textContent only, never as HTML.  No alert data
// goes into URLs: filters that name a device or category are POSTed.
'use strict';

const state = { session: null, fields: {}, view: 'queue', current: null, users: [] };

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(path, body) {
  const opts = { credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    opts.headers['X-CSRF-Token'] = state.session ? state.session.csrf : '';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (res.status === 401) {
    window.location.assign('/login');
    throw new Error('signed out');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || ('HTTP ' + res.status));
  return data;
}

function banner(msg) {
  const b = $('banner');
  b.textContent = msg || '';
  b.hidden = !msg;
}

const STATUS_WORDS = {
  new: 'New', acknowledged: 'Acknowledged', closed: 'Closed', false_positive: 'False positive',
};

function statusBadge(a) {
  const cls = 'badge status-' + a.status + (a.overdue ? ' overdue' : '');
  return el('span', { class: cls }, STATUS_WORDS[a.status] || a.status, a.overdue ? ' \u00b7 overdue' : '');
}

function fmtTime(t) {
  return t ? t.replace('T', ' ').replace(/(\.\d+)?Z$/, '') : '';
}

function minutesSince(t) {
  return Math.max(0, Math.round((Date.now() - Date.parse(t)) / 60000));
}

function matchText(a) {
  const inner = a.region && a.region !== 'whole' && Array.isArray(a.box);
  return a.model + ' \u00b7 distance ' + a.distance
    + (inner ? ' \u00b7 inside a frame at ' + a.box[2] + '\u00d7' + a.box[3]
      + '+' + a.box[0] + '+' + a.box[1] : '');
}

// --- views ---------------------------------------------------------------

function show(view) {
  state.view = view;
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + view;
  for (const b of document.querySelectorAll('button.nav')) {
    b.classList.toggle('active', b.dataset.view === view);
  }
  banner('');
  refresh();
}

async function refresh() {
  try {
    if (state.view === 'queue') await loadQueue();
    else if (state.view === 'escalation') await loadEscalation();
    else if (state.view === 'fleet') await loadFleet();
    else if (state.view === 'activity') await loadActivity();
    else if (state.view === 'detail' && state.current) await loadDetail(state.current);
    await loadCounts();
  } catch (e) {
    banner(e.message);
  }
}

function filterValues() {
  const f = new FormData($('filters'));
  return {
    status: f.get('status'), category: f.get('category').trim(),
    device: f.get('device').trim(), confirmed: f.get('confirmed'), limit: '500',
  };
}

function alertRow(a) {
  const tr = el('tr', { class: 'click' + (a.overdue ? ' overdue' : ''), tabindex: '0' },
    el('td', null, fmtTime(a.received_at)),
    el('td', null, a.device_id),
    el('td', null, a.entry_category),
    el('td', null, matchText(a)),
    el('td', null, a.confirmed ? el('span', { class: 'badge confirmed' }, 'Confirmed')
      : el('span', { class: 'badge unconfirmed' }, 'Unconfirmed')),
    el('td', null, statusBadge(a)),
    el('td', null, a.assignee || '\u2014'));
  const open = () => { state.current = a.alert_id; show('detail'); };
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
  return tr;
}

async function loadQueue() {
  const alerts = await api('/api/alerts/search', filterValues());
  const body = $('queue').tBodies[0];
  body.replaceChildren(...alerts.map(alertRow));
  $('queue-empty').hidden = alerts.length > 0;
}

async function loadEscalation() {
  const alerts = (await api('/api/alerts?status=new&limit=1000')).filter((a) => a.overdue);
  $('esc-note').textContent = 'unacknowledged alerts older than '
    + state.session.escalate_minutes + ' minutes';
  $('escalation').tBodies[0].replaceChildren(...alerts.map((a) => {
    const tr = el('tr', { class: 'click overdue' },
      el('td', null, fmtTime(a.received_at)),
      el('td', null, minutesSince(a.received_at) + ' min'),
      el('td', null, a.device_id), el('td', null, a.entry_category),
      el('td', null, a.confirmed ? 'yes' : 'no'));
    tr.addEventListener('click', () => { state.current = a.alert_id; show('detail'); });
    return tr;
  }));
  $('escalation-empty').hidden = alerts.length > 0;
}

async function loadCounts() {
  const overdue = (await api('/api/alerts?status=new&limit=1000')).filter((a) => a.overdue).length;
  const oc = $('overdue-count');
  oc.textContent = overdue;
  oc.hidden = overdue === 0;
}

async function loadFleet() {
  const devices = await api('/api/devices');
  $('fleet-note').textContent = 'stale: no heartbeat for ' + state.session.stale_minutes + ' minutes';
  let flagged = 0;
  $('fleet').tBodies[0].replaceChildren(...devices.map((d) => {
    const flags = d.chain_flags || [];
    if (flags.length) flagged++;
    const lists = (d.lists || []).map((l) => l.id + ' v' + l.version).join(', ');
    const stateCell = el('td', null,
      d.revoked ? el('span', { class: 'badge muted-badge' }, 'Revoked')
        : d.stale ? el('span', { class: 'badge warn' }, 'Stale')
          : el('span', { class: 'badge ok' }, 'Reporting'));
    const chain = el('td', null, d.audit_seq !== undefined ? 'record ' + d.audit_seq : '\u2014');
    for (const f of flags) {
      chain.append(el('div', { class: 'flag', title: f.detail },
        '\u26a0 ' + (f.kind === 'fork' ? 'Chain forked' : 'Chain went backwards'), el('br'),
        el('small', null, f.detail + ' (' + fmtTime(f.raised_at) + ')')));
    }
    if (flags.length && state.session.role === 'admin') {
      chain.append(el('button', {
        class: 'small', onclick: async () => {
          try { await api('/api/devices/' + encodeURIComponent(d.device_id) + '/clear-flags', {}); refresh(); } catch (e) { banner(e.message); }
        },
      }, 'Mark as investigated'));
    }
    return el('tr', { class: flags.length ? 'flagged' : (d.stale && !d.revoked ? 'stale' : '') },
      el('td', null, d.device_id), stateCell,
      el('td', null, d.last_heartbeat ? fmtTime(d.last_heartbeat) : 'never'),
      el('td', null, d.scanner_version || '\u2014'),
      el('td', null, lists || '\u2014'),
      el('td', null, d.spool_depth !== undefined ? String(d.spool_depth) : '\u2014'),
      chain, el('td', null, String(d.open_alerts)));
  }));
  const fc = $('flag-count');
  fc.textContent = flagged;
  fc.hidden = flagged === 0;
}

function staffRow(u) {
  const admin = state.session.role === 'admin' && u.name !== state.session.user;
  const verb = u.disabled ? 'enable' : 'disable';
  return el('tr', { class: u.disabled ? 'stale' : '' },
    el('td', null, u.name), el('td', null, u.role), el('td', null, fmtTime(u.created_at)),
    el('td', null, u.disabled
      ? el('span', { class: 'badge muted-badge', title: 'by ' + (u.disabled_by || '?') + ' at ' + fmtTime(u.disabled_at) }, 'Disabled')
      : el('span', { class: 'badge ok' }, 'Enabled')),
    el('td', null, admin ? el('button', {
      class: 'small', 'data-user': u.name, 'data-verb': verb, onclick: async () => {
        if (verb === 'disable' && !window.confirm('Disable ' + u.name + '? Their sessions and API tokens end now.')) return;
        try { await api('/api/users/' + encodeURIComponent(u.name) + '/' + verb, {}); refresh(); } catch (e) { banner(e.message); }
      },
    }, verb === 'enable' ? 'Enable login' : 'Disable login') : ''));
}

async function loadActivity() {
  state.users = await api('/api/users');
  $('staff').tBodies[0].replaceChildren(...state.users.map(staffRow));
  const actions = await api('/api/actions');
  $('activity').tBodies[0].replaceChildren(...actions.map((a) => el('tr', null,
    el('td', null, fmtTime(a.at)), el('td', null, a.user), el('td', null, a.action.replace(/_/g, ' ')),
    el('td', null, a.alert_id ? el('code', null, a.alert_id.slice(0, 12) + '\u2026') : ''),
    el('td', null, a.detail || ''))));
}

function fieldValue(v) {
  if (v === null || v === undefined || v === '') return '\u2014';
  if (v === true) return 'yes';
  if (v === false) return 'no';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

async function loadDetail(id) {
  const a = await api('/api/alerts/' + id);
  $('d-id').textContent = id;
  $('d-status').replaceWith(Object.assign(statusBadge(a), { id: 'd-status' }));
  $('d-summary').textContent = 'Laptop ' + a.device_id + ' has a file matching entry '
    + a.entry_id + ' (' + a.entry_category + ') of list ' + a.list_id + ' v' + a.list_version
    + ' by ' + matchText(a) + '. '
    + (a.confirmed ? 'A second, independent check confirmed it.'
      : 'Not confirmed by a second check: verify before acting.')
    + ' Detected ' + fmtTime(a.detected_at) + ' UTC, received ' + fmtTime(a.received_at) + ' UTC.';
  const rows = Object.keys(state.fields).map((name) => el('tr', null,
    el('th', null, name), el('td', null, fieldValue(a[name])),
    el('td', { class: 'muted' }, state.fields[name])));
  const extra = [['received_at', 'When this receiver stored the alert (UTC).'],
    ['status', 'Where the response team is with this alert.'],
    ['assignee', 'Who on the team is handling it.'],
    ['acknowledged_by', 'Who acknowledged it first.'],
    ['resolution', 'How it was closed, or why it is a false positive.'],
    ['signed_sha256', 'SHA-256 of the signed alert as the laptop sent it; proves it was not altered.']];
  for (const [name, meaning] of extra) {
    rows.push(el('tr', null, el('th', null, name), el('td', null, fieldValue(a[name])),
      el('td', { class: 'muted' }, meaning)));
  }
  $('d-fields').tBodies[0].replaceChildren(...rows);
  $('d-notes').replaceChildren(...(a.notes.length ? a.notes.map((n) => el('li', null,
    el('div', { class: 'meta' }, fmtTime(n.at) + ' \u00b7 ' + n.user), el('div', null, n.text)))
    : [el('li', { class: 'muted' }, 'No notes yet.')]));
  $('d-actions').replaceChildren(...a.actions.map((x) => el('li', null,
    el('span', { class: 'meta' }, fmtTime(x.at)), ' ', x.user, ' ', x.action.replace(/_/g, ' '),
    x.detail ? ' (' + x.detail + ')' : '')));
  $('export-json').href = '/api/alerts/' + id + '/export';
  $('export-json').setAttribute('download', 'alert-' + id + '.json');
  $('export-report').href = '/report/' + id;
  const canAct = state.session.role !== 'auditor';
  $('triage').hidden = !canAct;
  $('note-form').hidden = !canAct;
  $('readonly').hidden = canAct;
  const open = a.status === 'new' || a.status === 'acknowledged';
  for (const b of $('triage').querySelectorAll('button')) {
    const s = b.dataset.step;
    b.disabled = s === 'acknowledge' ? a.status !== 'new' : s === 'reopen' ? open : !open;
  }
}

async function triage(step) {
  let arg;
  if (step === 'assign') arg = $('assignee').value;
  if (step === 'close') arg = $('close-note').value.trim();
  if (step === 'false_positive') {
    arg = $('fp-reason').value.trim();
    if (!arg) { banner('Say why this is a false positive.'); return; }
  }
  try {
    await api('/api/alerts/' + state.current + '/triage', { step, arg });
    $('close-note').value = '';
    $('fp-reason').value = '';
    banner('');
    await loadDetail(state.current);
  } catch (e) {
    banner(e.message);
  }
}

async function init() {
  try {
    state.session = await api('/api/session');
    const fields = await api('/api/fields');
    for (const f of fields) state.fields[f.name] = f.meaning;
    state.users = await api('/api/users');
  } catch (e) {
    banner(e.message);
    return;
  }
  $('who').textContent = state.session.user + ' (' + state.session.role + ')';
  $('nav-activity').hidden = state.session.role === 'responder';
  $('assignee').replaceChildren(...state.users.filter((u) => u.role !== 'auditor' && !u.disabled)
    .map((u) => el('option', { value: u.name }, u.name)));
  for (const b of document.querySelectorAll('button.nav')) {
    b.addEventListener('click', () => show(b.dataset.view));
  }
  $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); refresh(); });
  $('back').addEventListener('click', () => show('queue'));
  for (const b of $('triage').querySelectorAll('button')) {
    b.addEventListener('click', () => triage(b.dataset.step));
  }
  $('note-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = $('note-text').value.trim();
    if (!text) return;
    try {
      await api('/api/alerts/' + state.current + '/triage', { step: 'note', arg: text });
      $('note-text').value = '';
      await loadDetail(state.current);
    } catch (e) { banner(e.message); }
  });
  $('logout').addEventListener('click', async () => {
    try { await api('/api/logout', {}); } catch (e) { /* signed out anyway */ }
    window.location.assign('/login');
  });
  show('queue');
  setInterval(() => { if (state.view !== 'detail') refresh(); }, 30000);
}

init();
