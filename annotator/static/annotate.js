// The annotation page (docs/annotation-ui.md). Article text only ever enters the DOM as text.
const $ = (s, r = document) => r.querySelector(s);
function h(tag, props = {}, ...kids) { // an element; string children become text nodes
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const kid of kids.flat(2)) if (kid != null && kid !== false) el.append(kid);
  return el;
}
const btn = (props, ...kids) => h('button', { type: 'button', ...props }, ...kids);
const DATA = JSON.parse($('#annotator-data').textContent);
const ROOT = $('#annotate'), DOC = $('#doc'), PANEL = $('#panel'), SAVE = $('#save-state'), HINT = $('#hint');
const GUIDE = $('#guide'), COMMENT = $('#comment'), UNSURE = $('#unsure'), SENT_HEAD = $('#sent-head');
const SIDE = $('#side'), SIDE_TOGGLE = $('#side-toggle');
const CODEBOOK = DATA.codebook, HOTKEYS = DATA.hotkeys, TEXT = DATA.document.text, SENTS = DATA.sentences;
const CSRF = $('meta[name="csrf-token"]').content;
const STORE = `annotator:queue:${DATA.document.id}:${ROOT.dataset.user}`;

// --- Text: the server counts code points, JS strings UTF-16 units
const UTF16 = new Uint32Array(TEXT.length + 1); // UTF16[i]: the UTF-16 index of code point i
let NCP = 0; // code points in the text
for (let u = 0; u < TEXT.length; NCP++) { u += TEXT.codePointAt(u) > 0xffff ? 2 : 1; UTF16[NCP + 1] = u; }
const sub = (a, b) => TEXT.slice(UTF16[a], UTF16[b]);
function bisect(n, below) { let lo = 0, hi = n; while (lo < hi) { const m = (lo + hi + 1) >> 1; if (below(m)) lo = m; else hi = m - 1; } return lo; }
const toCp = u => { const i = bisect(NCP, m => UTF16[m] <= u); return UTF16[i] < u ? i + 1 : i; };
const sentAt = p => bisect(SENTS.length - 1, m => SENTS[m].start <= p);
const SENT_OF = new Map(SENTS.map((s, i) => [s.id, i])); // sentence id → index
// Word characters: letters and digits, and the marks on them (Arabic harakat, U+0670; not a
// variation selector on an emoji); a zero-width non-joiner or joiner (Urdu and Persian write
// them inside words) or a Hebrew geresh/gershayim (צה״ל) between two of them, and a decimal or
// thousands separator between two digits (1,200, ١٢٫٥).
const INSIDE_WORD = /^[\u200c\u200d\u05f3\u05f4]$/, INSIDE_NUMBER = /^[.,\u066b\u066c]$/;
const charAt = i => (i >= 0 && i < NCP ? sub(i, i + 1) : '');
const isDigit = i => /^\p{N}$/u.test(charAt(i));
const isLetter = i => /^\p{L}$/u.test(charAt(i)) || isDigit(i) || (/^\p{M}$/u.test(charAt(i)) && isLetter(i - 1));
const isW = i => isLetter(i) || (INSIDE_WORD.test(charAt(i)) && isLetter(i - 1) && isLetter(i + 1))
  || (INSIDE_NUMBER.test(charAt(i)) && isDigit(i - 1) && isDigit(i + 1));
function snap(a, b) { // to whole words, without spaces or punctuation at either end
  while (a < b && !isW(a)) a++;
  while (b > a && !isW(b - 1)) b--;
  if (a >= b) return null;
  while (isW(a - 1)) a--;
  while (isW(b)) b++;
  return [a, b];
}
// A word for the keys: word characters (from a letter or digit) joined by those and by
// apostrophes, hyphens (the Hebrew maqaf too), number separators (the Arabic ones too), slashes.
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:[\u200c\u200d\u05f3\u05f4'’\-\u05be.,\u066b\u066c/:][\p{L}\p{N}][\p{L}\p{N}\p{M}]*)*/gu, wordCache = [];
const words = i => wordCache[i] ??= [...sub(SENTS[i].start, SENTS[i].end).matchAll(WORD)]
  .map(m => { const u = UTF16[SENTS[i].start] + m.index; return [toCp(u), toCp(u + m[0].length)]; });

// --- Codebook
const LAYERS = Object.fromEntries(CODEBOOK.span_layers.map(l => [l.name, l]));
const RELS = CODEBOOK.relations || [], CHOICES = CODEBOOK.choice_layers || [];
const FIRST = CHOICES[0]?.name; // its row holds the sentence's unsure flag and comment
const REQ = CHOICES.filter(c => c.required), DONE_LAYERS = (REQ.length ? REQ : CHOICES).map(c => c.name);
const labelOf = (layer, name) => LAYERS[layer]?.labels.find(l => l.name === name);
// What the reader sees of a label, value, attribute or role: the codebook's name in the project's
// language (`display`); the stored name is what is saved.
const displayed = x => x.display ?? x.name;
const labelShown = (layer, name) => { const l = labelOf(layer, name); return l ? displayed(l) : name; };
const attrsFor = (layer, label) => [...(LAYERS[layer]?.attributes || []), ...(labelOf(layer, label)?.attributes || [])];
const relOf = name => RELS.find(r => r.name === name);
// The spans linked to source entities (static/entities.js, docs/entities.md): those of each relation's source role's label.
const LINKABLE = new Set(RELS.flatMap(r => r.roles.filter(x => x.name === 'source').map(x => `${r.layer}\n${x.label}`)));
const linkable = (layer, label) => LINKABLE.has(`${layer}\n${label}`);
const entityNames = new Map((DATA.state.entities || []).map(e => [e.id, e.name])); // by id; entities.js adds those it learns
const entityOf = s => s.entity_name || (s.entity_id != null ? entityNames.get(s.entity_id) ?? hooks.unknownEntity(s.entity_id) : null);
const hooks = { link: () => hint('Linking sources is not available on this page.'), editEntity: () => hint('Editing sources is not available on this page.'),
  spanPanel: () => null, unknownEntity: id => `entity ${id}` }; // entities.js sets them
const HEX = /^#[0-9a-f]{6}$/i;
const colorOf = s => { const c = labelOf(s.layer, s.label)?.color; return HEX.test(c) ? c : '#888888'; };
function paint(el, c) { // --c: a label colour, --ink: text readable on it
  const n = parseInt(c.slice(1), 16);
  el.style.setProperty('--c', c);
  el.style.setProperty('--ink', 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) > 150 ? '#111' : '#fff');
}
const tip = (x, key) => [x.description, x.example && `Example: ${x.example}`, key && `Key: ${key}`].filter(Boolean).join('\n');
// Article text quoted in the page's English, isolated: a right-to-left quote neither reorders
// the words around it nor is reordered by them. `quoted` gives nodes (a <bdi> in the document's
// language and in the direction of its paragraph), `quote` a string (FIRST STRONG ISOLATE …
// POP DIRECTIONAL ISOLATE) for titles and hints.
const cut = (t, n) => (t.length > n ? t.slice(0, n - 1) + '…' : t);
const quote = (t, n = 60) => `“\u2068${cut(t, n)}\u2069”`;
const quoted = (a, b, n = 60) => ['“', h('bdi', { lang: DATA.document.language, dir: dirAt(sentAt(a)) }, cut(sub(a, b), n)), '”'];
// A span's stretches of text: a discontinuous span's fragments (its gaps are not its text), else its extent.
const pieces = s => s.fragments || [[s.start, s.end]];
const marks = (s, a, b) => pieces(s).some(([x, y]) => x < b && y > a); // s marks some of [a, b)
const spanText = s => pieces(s).map(([a, b]) => sub(a, b)).join(' … ');
const quotedSpan = (s, n = 60) => ['“', h('bdi', { lang: DATA.document.language, dir: dirAt(sentAt(s.start)) }, cut(spanText(s), n)), '”'];
const plural = (n, x) => `${n} ${x}${n === 1 ? '' : 's'}`;

// --- State: entities by key
// "s<id>"/"a<id>" saved, "n…"/"m…" made here; `alias` leads old keys to new. Deleted ones stay `gone`.
const spans = new Map(), attrs = new Map(), rows = new Map(), alias = {};
const canonical = k => { while (alias[k]) k = alias[k]; return k; };
const getS = k => spans.get(canonical(k)), getA = k => attrs.get(canonical(k));
const liveAttrs = () => [...attrs.values()].filter(a => !a.gone);
const inSent = (s, st) => s.start < st.end && s.end > st.start;
const liveSpan = k => { const s = getS(k); return s && !s.gone ? s : null; };
let serial = 0, order = 1e9;
const newKey = p => `${p}${Date.now().toString(36)}.${serial++}`;
const spanSrv = j => ({ label: j.label, attributes: { ...j.attributes }, entity_id: j.entity_id ?? null, entity_name: j.entity_name ?? null });
const spanKeyOfId = new Map(); // saved span id → its key here
const keyOfSpan = id => spanKeyOfId.get(id) || 's' + id;
const attrSrv = j => ({ attributes: { ...j.attributes }, parts: j.parts.map(p => ({ k: keyOfSpan(p.span_id), role: p.role })) });
const rowSrv = j => ({ value: j.value, unsure: !!j.unsure, comment: j.comment || '' });
function row(sid, layer) {
  const k = `r${sid}:${layer}`;
  if (!rows.has(k)) rows.set(k, { k, sid, layer, id: null, sv: null, srv: null, value: null, unsure: false, comment: '' });
  return rows.get(k);
}

// Indexes, so that what a key press touches costs the same in a long document as in a short one.
const bySent = new Map(); // sentence index → the spans over it, deleted ones too
const dirty = new Set(); // sentences to draw again
const spanSents = s => { const out = []; for (let i = sentAt(s.start); i < SENTS.length && SENTS[i].start < s.end; i++) if (inSent(s, SENTS[i])) out.push(i); return out; };
function addSpan(s) {
  spans.set(s.k, s);
  if (s.id != null) spanKeyOfId.set(s.id, s.k);
  for (const i of spanSents(s)) (bySent.get(i) || bySent.set(i, []).get(i)).push(s);
}
const touch = s => { if (s) for (const i of spanSents(s)) dirty.add(i); };
const spansOf = i => (bySent.get(i) || []).filter(s => !s.gone); // the live spans over sentence i
const spanLike = x => spansOf(sentAt(x.start)).find(s => sameSpan(s, x)); // the live span with x's layer, label and extent
const hasSpan = x => !!spanLike(x);
let changes = 0, partsAt = -1, partsIndex = null; // partsIndex: span key → the attributions naming it, rebuilt after changes
function attrsWith(k) { // deleted attributions too
  if (partsAt !== changes) {
    partsIndex = new Map();
    partsAt = changes;
    for (const a of attrs.values()) for (const p of a.parts) {
      const list = partsIndex.get(canonical(p.k)) || partsIndex.set(canonical(p.k), []).get(canonical(p.k));
      if (list.at(-1) !== a) list.push(a);
    }
  }
  return partsIndex.get(canonical(k)) || [];
}
const attrsOf = k => attrsWith(k).filter(a => !a.gone);
const doneFlags = new Uint8Array(SENTS.length); // 1: the sentence is done
let doneCount = 0;
function rowChanged(sid) { // keeps the done flags and their count
  const i = SENT_OF.get(sid);
  if (i == null) return;
  const done = DONE_LAYERS.length > 0 && DONE_LAYERS.every(l => rows.get(`r${sid}:${l}`)?.value != null);
  if (done === !!doneFlags[i]) return;
  doneFlags[i] = done;
  doneCount += done ? 1 : -1;
  dirty.add(i);
}

for (const j of DATA.state.spans) addSpan({ ...j, k: 's' + j.id, sv: j.version, srv: spanSrv(j), attributes: { ...j.attributes } });
for (const j of DATA.state.attributions) {
  const srv = attrSrv(j);
  attrs.set('a' + j.id, { k: 'a' + j.id, id: j.id, sv: j.version, srv, relation: j.relation, order: j.id, ...copyAttr(srv) });
}
for (const j of DATA.state.labels) Object.assign(row(j.sentence_id, j.layer), { id: j.id, sv: j.version, srv: rowSrv(j) }, rowSrv(j));
function unlink(s) {
  s.gone = true;
  for (const x of attrsWith(s.k)) x.parts = x.parts.filter(p => canonical(p.k) !== s.k);
  changes++;
  return s;
}
const sameSpan = (x, y) => ['layer', 'label', 'start', 'end'].every(f => x[f] === y[f]);
function copyAttr(x) { return { attributes: { ...x.attributes }, parts: x.parts.map(p => ({ ...p })) }; }
const ui = { cur: 0 }; // + sel, caret, anchor, focus, panel, last, drag, fromSug

// --- Suggestions (docs/suggestions.md, "In the page"): drawn apart from spans, never saved until
// accepted. One is offered while no live span was accepted from it or marks exactly its text with
// its label, and it was not rejected here; none come in the control condition (DATA.suggestions empty).
const SUGGS = DATA.suggestions || [], rejected = new Set(); // rejected: suggestion ids
const SUGG_BY_SENT = new Map(); // sentence index → the suggestions starting in it
for (const x of SUGGS) { const i = sentAt(x.start); (SUGG_BY_SENT.get(i) || SUGG_BY_SENT.set(i, []).get(i)).push(x); }
const SUGG_OF = new Map(SUGGS.map(x => [x.id, x]));
const offered = x => !rejected.has(x.id) && !spansOf(sentAt(x.start)).some(s => s.suggestion_id === x.id || sameSpan(s, x));
const suggsOf = i => (SUGG_BY_SENT.get(i) || []).filter(offered);

// --- Changes: applied here (and replayed after a reload), then queued for the server
function apply(op) {
  const s = getS(op.k), a = getA(op.k);
  switch (op.t) {
    case 'cs':
      addSpan({ ...op, id: null, sv: null, srv: null, attributes: { ...op.attributes } });
      ui.last = op.k;
      break;
    case 'us': if (s) Object.assign(s, spanSrv(op)); break;
    case 'ds': if (s) unlink(s); break;
    case 'lab': Object.assign(row(op.sid, op.layer), rowSrv(op)); rowChanged(op.sid); break;
    case 'ca': attrs.set(op.k, { ...op, id: null, sv: null, srv: null, order: ++order, ...copyAttr(op) }); break;
    case 'ua': if (a) Object.assign(a, copyAttr(op)); break;
    case 'da': if (a) a.gone = true;
  }
  touch(getS(op.k));
  changes++;
}
let queue = [], ids = {}, busy = false, fails = 0, retryAt = 0, timer = null, lastError = null, blocked = null;
function persist() {
  try {
    if (queue.length) localStorage.setItem(STORE, JSON.stringify({ queue, ids }));
    else { localStorage.removeItem(STORE); ids = {}; }
  } catch { /* storage off: kept in memory */ }
}
function restore() { // a queue left by a reload or crash: replayed on the saved state
  let kept = null;
  try { kept = JSON.parse(localStorage.getItem(STORE)); } catch { /* none */ }
  if (!kept?.queue?.length) return;
  ids = kept.ids || {};
  for (const [k, id] of Object.entries(ids)) {
    const to = (k[0] === 'n' ? 's' : 'a') + id;
    if (spans.has(to) || attrs.has(to)) alias[k] = to;
  }
  queue = kept.queue;
  queue.forEach(apply);
  changes++; // the aliases
  hint(`Restored ${plural(queue.length, 'unsaved change')} kept in this browser.`);
}
// Each queued change gets a key of its own, kept with it (in localStorage too) until it is answered:
// sent again (its answer lost, or the queue replayed by another tab or after a reload), the server
// answers it as the first time instead of running it again (docs/annotation-ui.md, Saving).
const idempotencyKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('');
function act(op) { if (readOnly) return hint(READ_ONLY_HINT); apply(op); op.ik = idempotencyKey(); queue.push(op); lastError = null; persist(); showSave(); queueMicrotask(pump); }
const pending = k => queue.some(o => canonical(o.k) === canonical(k));
// --- Saving: what is queued goes out as one batch (POST …/changes), answered change by change
const MAX_BATCH = 100; // changes per request: the server's annotations.MAX_CHANGES
function change(op, made) { // op as a change of the batch; null: its item was never saved; 'later': it needs an answer first
  const s = getS(op.k), a = getA(op.k);
  // An item saved before goes by its id; one created earlier in this batch by its key.
  const ref = (x, k) => x?.id ?? (made.has(canonical(k)) ? canonical(k) : null);
  const parts = ps => ps.map(p => ({ span_id: ref(getS(p.k), p.k), role: p.role })).filter(p => p.span_id != null);
  switch (op.t) {
    case 'cs': { const { t, k, ...body } = op; made.add(k); return { op: 'create_span', key: k, body }; }
    case 'us': {
      if (s && !s.id && made.has(s.k)) return 'later'; // its update keeps the defaults its create answers with
      if (!s?.id) return null;
      const names = new Set(attrsFor(s.layer, op.label).map(x => x.name));
      const attributes = Object.fromEntries(Object.entries({ ...s.srv?.attributes, ...op.attributes }).filter(([n]) => names.has(n)));
      const entity = op.entity_name ? { entity_name: op.entity_name } : { entity_id: op.entity_id ?? null }; // a link, or none
      return { op: 'update_span', span_id: s.id, body: { version: s.sv, label: op.label, attributes, ...entity } };
    }
    case 'ds': { const id = ref(s, op.k); return id == null ? null : { op: 'delete_span', span_id: id, body: { version: s.sv } }; }
    case 'lab': {
      const body = { value: op.value, version: row(op.sid, op.layer).sv };
      if (op.layer === FIRST) Object.assign(body, { unsure: op.unsure, comment: op.comment || '' });
      return { op: 'set_label', sentence_id: op.sid, layer: op.layer, body };
    }
    case 'ca': made.add(op.k); return { op: 'create_attribution', key: op.k, body: { relation: op.relation, attributes: op.attributes, parts: parts(op.parts),
      ...op.suggestion_id && { suggestion_id: op.suggestion_id } } };
    case 'ua': { const id = ref(a, op.k); return id == null ? null : { op: 'update_attribution', attribution_id: id, body: { version: a.sv, attributes: op.attributes, parts: parts(op.parts) } }; }
    case 'da': { const id = ref(a, op.k); return id == null ? null : { op: 'delete_attribution', attribution_id: id, body: { version: a.sv } }; }
  }
  return null;
}
function nextBatch() { // the changes of the queue's first ops, dropping the ops whose item was never saved
  const changes = [], made = new Set();
  while (changes.length < Math.min(queue.length, MAX_BATCH)) {
    const op = queue[changes.length], c = change(op, made);
    if (c === 'later') break;
    if (c) changes.push({ ...c, idempotency_key: op.ik }); else queue.splice(changes.length, 1);
  }
  persist();
  return changes;
}
async function call(method, url, body) {
  const res = await fetch(url, { method, credentials: 'same-origin', body: body && JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': CSRF } });
  return [res, await res.json().catch(() => ({}))];
}
async function pump() { // one batch at a time, in order; the server stops a batch at its first failed change
  if (busy || blocked || retryAt) return;
  busy = true;
  try {
    while (queue.length && !blocked) {
      const changes = nextBatch();
      if (!changes.length) continue;
      let res = null, body = {};
      try { [res, body] = await call('POST', DATA.api.changes, { changes }); } catch { /* offline: retried */ }
      if (!res || res.status >= 500) return retryLater();
      fails = 0;
      if (res.status === 401 || (res.status === 400 && /csrf/i.test(body.error || ''))) {
        blocked = 'logged out — log in again in another tab, then reload; changes are kept in this browser';
        break;
      }
      // The batch refused whole (nothing was saved): the first change takes the blame, so the queue moves on.
      const results = res.ok ? body.results : [{ status: res.status, body }];
      for (const result of results) {
        const op = queue.shift();
        await (result.status < 300 ? saved(op, result.body) : failed(op, result.status, result.body));
      }
      persist();
      render();
    }
  } finally { busy = false; showSave(); }
}
function retryLater() { // exponential backoff: 1, 2, 4 … 30 s
  retryAt = Date.now() + Math.min(30, 2 ** fails++) * 1000;
  clearInterval(timer);
  timer = setInterval(() => (Date.now() >= retryAt ? retryNow() : showSave()), 250);
}
function retryNow() { clearInterval(timer); retryAt = 0; pump(); }
addEventListener('online', () => retryAt && retryNow());
addEventListener('beforeunload', e => { if (queue.length) { e.preventDefault(); e.returnValue = ''; } });
function showSave() {
  const n = queue.length;
  let state = 'saved', text = 'Saved';
  if (blocked || (lastError && !n)) [state, text] = ['error', `Not saved: ${blocked || lastError}`];
  else if (retryAt) [state, text] = ['offline', `Offline — retrying in ${Math.max(1, Math.ceil((retryAt - Date.now()) / 1000))}s (${plural(n, 'unsaved change')} kept)`];
  else if (n) [state, text] = ['saving', 'Saving…'];
  if (SAVE.textContent !== text) SAVE.textContent = text;
  Object.assign(SAVE.dataset, { state, pending: n });
}
async function saved(op, j) {
  const s = getS(op.k), a = getA(op.k);
  switch (op.t) {
    case 'cs': {
      ids[op.k] = j.id;
      const had = liveSpan(spanKeyOfId.get(j.id));
      if (had && had !== s) { // saved before this page loaded it (sent again after a reload): one span, the loaded one
        s.gone = true;
        alias[op.k] = had.k;
        break;
      }
      Object.assign(s, { id: j.id, sv: j.version, srv: spanSrv(j) }, pending(s.k) ? {} : { entity_id: j.entity_id ?? null, entity_name: null });
      learnEntity(op, j);
      spanKeyOfId.set(j.id, s.k);
      for (const n in j.attributes) if (!(n in s.attributes)) s.attributes[n] = j.attributes[n]; // defaults, prefills
      break;
    }
    case 'us': Object.assign(s, { sv: j.version, srv: spanSrv(j) }, pending(s.k) ? {} : spanSrv(j)); adoptAttrs(j.attributions); learnEntity(op, j); break;
    case 'ds': adoptAttrs(j.attributions); break;
    case 'lab': Object.assign(row(op.sid, op.layer), { id: j.id, sv: j.version, srv: rowSrv(j) }); break;
    case 'ca': {
      ids[op.k] = j.id;
      const had = getA('a' + j.id);
      if (had && !had.gone && had !== a) { a.gone = true; alias[op.k] = had.k; break; } // as a span above
    } // fall through
    case 'ua': Object.assign(a, { id: j.id, sv: j.version, srv: attrSrv(j) });
  }
  touch(s);
  changes++;
}
function learnEntity(op, j) { if (op.entity_name && j.entity_id != null && !entityNames.has(j.entity_id)) entityNames.set(j.entity_id, op.entity_name); }
async function fetchState() {
  try { const [res, body] = await call('GET', DATA.api.annotations); return res.ok ? body : null; } catch { return null; }
}
async function failed(op, status, body) { // a 4xx: say why, undo the change here
  const conflict = status === 409, cur = body.current, s = getS(op.k), a = getA(op.k);
  if (status === 404 && (op.t === 'ds' || op.t === 'da')) return; // gone already
  if (op.t === 'lab' && cur && JSON.stringify(rowSrv(cur)) === JSON.stringify(rowSrv(op))) return saved(op, cur); // saved before
  if (op.t === 'cs' && conflict && await adopt(op)) return;
  lastError = conflict && op.t !== 'cs' ? 'changed in another tab or window — reload to see the latest' : body.error || `the server answered ${status}`;
  queue = queue.filter(o => canonical(o.k) !== canonical(op.k));
  switch (op.t) {
    case 'cs': unlink(s).failed = true; break;
    case 'us': if (cur) Object.assign(s, { sv: cur.version, srv: spanSrv(cur) }); Object.assign(s, spanSrv(s.srv)); break;
    case 'ds': s.gone = false; for (const l of op.links) getA(l.a)?.parts.push({ k: s.k, role: l.role }); break;
    case 'lab': { const r = row(op.sid, op.layer); if (cur) Object.assign(r, { id: cur.id, sv: cur.version, srv: rowSrv(cur) }); Object.assign(r, r.srv || rowSrv({})); break; }
    case 'ca': a.gone = a.failed = true; break;
    case 'ua': if (cur) Object.assign(a, { sv: cur.version, srv: attrSrv(cur) }); Object.assign(a, copyAttr(a.srv)); break;
    case 'da': a.gone = false;
  }
  if (op.t === 'lab') rowChanged(op.sid);
  touch(s);
  changes++;
  undos.length = redos.length = 0; // history no longer matches the saved state
}
async function adopt(op) { // a create saved before (its answer lost): take the saved span as ours
  const j = (await fetchState())?.spans.find(x => sameSpan(x, op));
  return j && !liveSpan(spanKeyOfId.get(j.id)) && !await saved(op, j);
}

// --- Operations, and their undo
const undos = [], redos = [];
let grouping = null; // while grouped() runs: the entries it collects into one
function record(e) {
  if (grouping) return grouping.push(e);
  undos.push(e); if (undos.length > 200) undos.shift(); redos.length = 0;
}
function grouped(name, change) { // the user changes `change` makes, as one undo step
  if (grouping) return change(); // within another group: part of its step
  grouping = [];
  try { change(); } finally {
    const es = grouping;
    grouping = null;
    if (es.length) record({ name, undo: () => [...es].reverse().forEach(e => e.undo()), redo: () => es.forEach(e => e.redo()) });
  }
  render();
}
function undo(back = true) {
  const e = (back ? undos : redos).pop();
  if (!e) return hint(`Nothing to ${back ? 'undo' : 'redo'}.`);
  back ? e.undo() : e.redo();
  (back ? redos : undos).push(e);
  hint(`${back ? 'Undone' : 'Redone'}: ${e.name}.`);
  render();
}
const linksOf = k => attrsOf(k).flatMap(a => a.parts.filter(p => canonical(p.k) === canonical(k)).map(p => ({ a: a.k, role: p.role })));
function snapSpan(k) { const s = getS(k); return { ...s, attributes: { ...s.attributes }, links: linksOf(k) }; }
function createSpan(x) {
  const k = newKey('n');
  act({ t: 'cs', k, layer: x.layer, label: x.label, start: x.start, end: x.end, text: sub(x.start, x.end), attributes: { ...x.attributes },
    ...x.fragments && { fragments: x.fragments }, ...x.comment && { comment: x.comment }, // an undone delete brings them back
    ...x.suggestion_id && { suggestion_id: x.suggestion_id }, // accepted from a suggestion (an undone delete too)
    ...x.entity_id != null && { entity_id: x.entity_id }, ...x.entity_name && { entity_name: x.entity_name } }); // linked (an undone delete)
  return k;
}
function restoreSpan(snap) { // recreated (a new id) and put back into its attributions
  const k = alias[snap.k] = createSpan(snap);
  changes++; // the alias
  for (const l of snap.links) { const a = getA(l.a); if (a && !a.gone) updateAttr(a.k, { parts: [...a.parts, { k, role: l.role }] }); }
}
function deleteSpan(k) { const s = liveSpan(k); if (s) act({ t: 'ds', k: s.k, links: linksOf(s.k) }); }
function updateSpan(k, x) {
  const s = liveSpan(k);
  if (!s) return;
  const label = x.label ?? s.label, was = s.label, names = attrsFor(s.layer, label).map(a => a.name);
  const link = !linkable(s.layer, label) ? { entity_id: null, entity_name: null } // only a source's span is linked
    : 'entity_id' in x || 'entity_name' in x ? { entity_id: x.entity_id ?? null, entity_name: x.entity_name ?? null }
      : { entity_id: s.entity_id ?? null, entity_name: s.entity_name ?? null };
  act({ t: 'us', k: s.k, label, attributes: Object.fromEntries(Object.entries(x.attributes ?? s.attributes).filter(([n]) => names.includes(n))), ...link });
  if (label === was) return;
  for (const a of attrsOf(s.k)) { // as the server does: the part takes the new label's role, or goes
    const part = a.parts.find(p => canonical(p.k) === s.k), role = relOf(a.relation)?.roles.find(r => r.label === label);
    const free = role && (role.multiple || !a.parts.some(p => p.role === role.name && p !== part));
    if (part) a.parts = a.parts.flatMap(p => p !== part ? [p] : free ? [{ k: p.k, role: role.name }] : []);
  }
  changes++;
}
function adoptAttrs(list = []) { // attributions the server changed along with a span: their new versions
  for (const x of list) {
    const a = liveAttrs().find(y => y.id === x.id);
    if (a) Object.assign(a, { sv: x.version, srv: attrSrv(x) }, pending(a.k) ? {} : copyAttr(attrSrv(x)));
  }
}
const snapAttr = k => { const a = getA(k); return { k: a.k, relation: a.relation, suggestion_id: a.suggestion_id, ...copyAttr(a) }; };
const cleanParts = parts => parts.map(p => ({ k: canonical(p.k), role: p.role })).filter((p, i, all) => liveSpan(p.k) && all.findIndex(q => q.k === p.k) === i);
function createAttr(x) {
  const k = newKey('m');
  act({ t: 'ca', k, relation: x.relation, attributes: { ...x.attributes }, parts: cleanParts(x.parts), ...x.suggestion_id && { suggestion_id: x.suggestion_id } });
  return k;
}
function updateAttr(k, x) {
  const a = getA(k);
  if (a && !a.gone) act({ t: 'ua', k: a.k, attributes: { ...(x.attributes ?? a.attributes) }, parts: cleanParts(x.parts ?? a.parts) });
}
function deleteAttr(k) { const a = getA(k); if (a && !a.gone) act({ t: 'da', k: a.k }); }
function setRow(sid, layer, x) { act({ t: 'lab', k: row(sid, layer).k, sid, layer, ...rowSrv({ ...row(sid, layer), ...x }) }); }

// A cue starts an attribution (with its sentence's unlinked parts); other parts join the latest
// attribution whose cue is in their sentence (a source: or next to it).
function autoLink(k) {
  const s = getS(k), si = sentAt(s.start);
  let made = null;
  for (const rel of RELS) {
    const role = rel.layer === s.layer && rel.roles.find(r => r.label === s.label);
    if (!role) continue;
    const ofRel = x => attrsOf(x.k).filter(a => a.relation === rel.name);
    if (role.name === rel.anchor) {
      const parts = [{ k, role: role.name }];
      for (const r of rel.roles.filter(r => r !== role)) {
        const found = spansOf(si).filter(x => x.layer === rel.layer && x.label === r.label && sentAt(x.start) === si && !ofRel(x).length);
        for (const x of r.multiple ? found : found.slice(0, 1)) parts.push({ k: x.k, role: r.name });
      }
      made = createAttr({ relation: rel.name, attributes: {}, parts });
      continue;
    }
    const reach = !role.multiple && !role.required ? 1 : 0; // the source
    let target = null;
    for (let i = si - reach; i <= si + reach; i++) for (const cue of spansOf(i)) { // the attributions of the cues near
      if (Math.abs(sentAt(cue.start) - si) > reach) continue;
      for (const a of ofRel(cue)) {
        const anchor = liveSpan(a.parts.find(p => p.role === rel.anchor)?.k);
        if (anchor === cue && (role.multiple || !a.parts.some(p => p.role === role.name)) && (!target || a.order > target.order)) target = a;
      }
    }
    if (target) updateAttr(target.k, { parts: [...target.parts, { k, role: role.name }] });
  }
  return made;
}
// What the user does: a change plus its undo entry.
function markSelection(layer, label) {
  if (!ui.sel) return hint(`Select words first: drag over them, or Shift+${nextArrow()} word by word.`);
  const [start, end] = ui.sel, from = SUGG_OF.get(ui.fromSug); // a selection begun as a suggestion's extent accepts it, edited or not
  const accepting = from && offered(from) ? { suggestion_id: from.id } : {};
  const attributes = from && from.layer === layer && from.label === label ? { ...from.attributes } : {};
  if (!markSpan({ layer, label, start, end, attributes, ...accepting })) return;
  ui.sel = ui.anchor = ui.fromSug = null;
  render();
}
function markSpan(x, link = true) { // the new span's key; false when that text already has that label
  const { layer, label, start, end } = x;
  if (hasSpan({ layer, label, start, end })) return hint(`This text is already marked ${labelShown(layer, label)}.`) ?? false;
  const k = createSpan(x);
  const e = { name: `mark ${labelShown(layer, label)}`, k, made: link ? autoLink(k) : null }; // undo drops the attribution it made
  e.undo = () => {
    const a = e.made && getA(e.made);
    e.asnap = a && !a.gone ? snapAttr(e.made) : null;
    deleteAttr(e.made);
    e.snap = snapSpan(e.k);
    deleteSpan(e.k);
  };
  e.redo = () => { restoreSpan(e.snap); if (e.asnap) alias[e.asnap.k] = createAttr(e.asnap); };
  record(e);
  hint(`Marked ${labelShown(layer, label)}: ${quote(sub(start, end))}. Enter edits it, z undoes.`);
  return k;
}
function userDeleteSpan(k) {
  const snap = snapSpan(k);
  deleteSpan(k);
  record({ name: `delete ${labelShown(snap.layer, snap.label)}`, undo: () => restoreSpan(snap), redo: () => deleteSpan(snap.k) });
  if (ui.panel) closePanel();
  hint(`Deleted ${labelShown(snap.layer, snap.label)} ${quote(spanText(snap))}. z undoes.`);
  render();
}
function undoable(name, get, set, change) { // a change whose undo sets back what `get` read
  const before = get();
  change();
  const after = get();
  record({ name, undo: () => set(before), redo: () => set(after) });
  render();
}
const userUpdateSpan = (k, x) => undoable(`change ${labelShown(getS(k).layer, getS(k).label)}`, () => spanSrv(getS(k)), y => updateSpan(k, y), () => updateSpan(k, x));
function userAttr(k, x) { // x: changes, or null to delete
  if (x) return undoable('change attribution', () => snapAttr(k), y => updateAttr(k, y), () => updateAttr(k, x));
  const before = snapAttr(k);
  deleteAttr(k);
  record({ name: 'delete attribution', undo: () => { alias[before.k] = createAttr(before); }, redo: () => deleteAttr(k) });
  closePanel();
  render();
}
function userNewAttr(x) {
  const e = { name: 'new attribution', k: createAttr(x) };
  e.undo = () => { e.snap = snapAttr(e.k); deleteAttr(e.k); };
  e.redo = () => { alias[e.snap.k] = createAttr(e.snap); };
  record(e);
  render();
}
// A whole attribution as one undo step (the adjudication page accepts one): each part reuses the
// live span with its label and extent or is marked (linked to this attribution only); `replace`:
// the key of the attribution it becomes, instead of a new one.
function userUnit(x, name, replace = null) {
  grouped(name, () => {
    const parts = x.parts.map(p => ({ k: spanLike(p)?.k || markSpan(p, false), role: p.role })).filter(p => p.k);
    if (replace) userAttr(replace, { attributes: x.attributes, parts });
    else userNewAttr({ relation: x.relation, attributes: x.attributes, parts, suggestion_id: x.suggestion_id });
  });
}
// Accepting a suggestion: a span with its label, extent and attributes; one of a proposed
// attribution's group accepts the whole group, its spans and the attribution with the relation's
// attributes (carried by the group's anchor, the cue), as one undo step.
const suggestedSpan = x => ({ layer: x.layer, label: x.label, start: x.start, end: x.end, attributes: { ...x.attributes }, suggestion_id: x.id });
function acceptSuggestion(x) {
  if (!x || !offered(x)) return hint('No suggestion here: put the word caret on one, or Tab to it.');
  const group = x.group ? SUGGS.filter(y => y.group === x.group && offered(y)) : [], anchor = group.find(y => y.relation_attributes);
  if (!anchor) {
    if (markSpan(suggestedSpan(x))) hint(`Accepted the suggested ${labelShown(x.layer, x.label)} ${quote(sub(x.start, x.end))}. z undoes.`);
    return render();
  }
  const rel = relOf(anchor.relation);
  userUnit({ relation: anchor.relation, attributes: anchor.relation_attributes, suggestion_id: anchor.id,
    parts: group.map(y => ({ ...suggestedSpan(y), role: y.role })) }, `accept suggested ${rel?.title || anchor.relation}`);
  hint(`Accepted the suggested ${rel?.title || anchor.relation}: ${group.map(y => `${labelShown(y.layer, y.label)} ${quote(sub(y.start, y.end), 30)}`).join(', ')}. z undoes.`);
}
// Rejecting one: gone from the page at once, and recorded on the server (z shows it again here;
// the server keeps the rejection until the suggestion is accepted after all).
function rejectSuggestion(x) {
  if (readOnly) return hint(READ_ONLY_HINT);
  if (!x || !offered(x)) return hint('No suggestion here: put the word caret on one, or Tab to it.');
  const show = on => { if (on) rejected.delete(x.id); else rejected.add(x.id); dirty.add(sentAt(x.start)); };
  show(false);
  sendRejection(x, show);
  record({ name: `reject suggested ${labelShown(x.layer, x.label)}`, undo: () => show(true), redo: () => { show(false); sendRejection(x, show); } });
  hint(`Rejected the suggested ${labelShown(x.layer, x.label)} ${quote(sub(x.start, x.end))}. z undoes.`);
  DOC.focus({ preventScroll: true });
  render();
}
async function sendRejection(x, show) {
  let res = null;
  try { [res] = await call('POST', DATA.api.reject.replace('/0/', `/${x.id}/`), {}); } catch { /* offline */ }
  if (res?.ok) return;
  lastError = 'a rejected suggestion was not recorded — it is shown again; reject it once more';
  show(true);
  render();
}
function currentSuggestion(t = document.activeElement) { // the focused suggestion tag's, else the one under the word caret
  const tagged = t?.classList?.contains('sug-tag') && SUGG_OF.get(Number(t.dataset.sug));
  if (tagged) return offered(tagged) ? tagged : null;
  const w = ui.caret != null && words(ui.cur)[ui.caret];
  return w ? suggsOf(ui.cur).find(x => x.start < w[1] && x.end > w[0]) : null;
}
// The live attributions over sentence i, each part with its span.
const unitsAt = i => [...new Set(spansOf(i).flatMap(s => attrsOf(s.k)))]
  .map(a => ({ k: a.k, relation: a.relation, attributes: a.attributes, parts: a.parts.map(p => ({ role: p.role, span: liveSpan(p.k) })).filter(p => p.span) }));
function userSetRow(i, layer, x) {
  const sid = SENTS[i].id;
  undoable(`${layer} of sentence ${i + 1}`, () => rowSrv(row(sid, layer)), y => setRow(sid, layer, y), () => setRow(sid, layer, x));
}
function choose(layer, value) {
  const c = CHOICES.find(x => x.name === layer), cur = row(SENTS[ui.cur].id, layer).value;
  const list = Array.isArray(cur) ? cur : [];
  const next = !c.multiple ? (cur === value ? null : value) : list.includes(value) ? list.filter(v => v !== value) : [...list, value];
  userSetRow(ui.cur, layer, { value: next });
  hint(`${c.title}: ${next?.length ? [].concat(next).join(', ') : 'cleared'}`);
}
const toggleUnsure = () => FIRST && userSetRow(ui.cur, FIRST, { unsure: !row(SENTS[ui.cur].id, FIRST).unsure });
function saveComment() {
  const i = Number(COMMENT.dataset.i), text = COMMENT.value.trim();
  if (FIRST && SENTS[i] && text !== row(SENTS[i].id, FIRST).comment) userSetRow(i, FIRST, { comment: text });
}

// --- Focus, selection, mouse
// The URL names the focus (#s<position>) for links, bookmarks and reloads. A history call costs
// milliseconds on a long article (and browsers throttle many), so it is written at most every
// 250 ms; the focus is also kept in sessionStorage, which a reload reads first.
const FOCUS_KEY = `annotator:focus:${DATA.document.id}:${ROOT.dataset.user}`;
let hashAt = -Infinity, hashTimer = 0;
function hashTo() {
  try { sessionStorage.setItem(FOCUS_KEY, SENTS[ui.cur].position); } catch { /* storage off */ }
  clearTimeout(hashTimer);
  const wait = hashAt + 250 - performance.now();
  if (wait > 0) hashTimer = setTimeout(writeHash, wait); else writeHash();
}
function writeHash() { hashAt = performance.now(); history.replaceState(null, '', `#s${SENTS[ui.cur].position}`); }
addEventListener('pagehide', () => { clearTimeout(hashTimer); writeHash(); });
const isDone = i => doneFlags[i] === 1;
function setCur(i, scroll = 'nearest') { // scroll: how to bring it into view, or false
  i = Math.max(0, Math.min(SENTS.length - 1, i));
  if (i !== ui.cur) { ui.caret = ui.anchor = null; if (ui.panel) closePanel(false); }
  ui.cur = i;
  hashTo();
  render();
  if (scroll) sentEls[i].scrollIntoView({ block: scroll });
}
function toUndone(dir) { // the next (or previous) sentence not done
  const i = dir > 0 ? doneFlags.indexOf(0, ui.cur + 1) : ui.cur > 0 ? doneFlags.lastIndexOf(0, ui.cur - 1) : -1;
  if (i < 0) return hint(`Every sentence ${dir > 0 ? 'after' : 'before'} this one is done.`);
  setCur(i, 'center');
  hint(`Sentence ${i + 1}: not done. ${plural(SENTS.length - doneCount, 'sentence')} left.`);
}
function kbMove(step, extend = false) { // the word caret; with Shift, a selection word by word. ±Infinity: to the sentence's first or last word
  const ws = words(ui.cur), to = n => Math.max(0, Math.min(ws.length - 1, n));
  if (!ws.length) return;
  const from = ui.caret ?? (step > 0 ? 0 : ws.length - 1), jump = !Number.isFinite(step);
  if (extend) {
    const first = ui.anchor == null; // the first press selects the caret's word (and Home/End on to the sentence's end)
    const x = first && currentSuggestion(); // or, on a suggestion, its extent: the presses after adjust it, a label key (or Enter) accepts it
    if (first) ui.fromSug = x ? x.id : null;
    if (x) {
      [ui.anchor, ui.focus] = [ws.findIndex(w => w[1] > x.start), ws.findLastIndex(w => w[0] < x.end)];
      [ui.caret, ui.sel] = [ui.focus, [x.start, x.end]];
      hint(`The suggested ${labelShown(x.layer, x.label)}, selected: Shift+arrows change its end, then a label key (or Enter) accepts it.`);
      return render();
    }
    if (first) ui.anchor = ui.focus = from;
    if (jump || !first) ui.focus = to(jump ? step : ui.focus + step);
    ui.caret = ui.focus;
    ui.sel = [ws[Math.min(ui.anchor, ui.focus)][0], ws[Math.max(ui.anchor, ui.focus)][1]];
  } else {
    ui.caret = jump ? to(step) : ui.caret == null ? from : to(ui.caret + step);
    ui.anchor = ui.sel = null;
  }
  render();
}
function textOffset(node, offset) { // a DOM point as a UTF-16 offset into the article text
  const el = node.nodeType === Node.TEXT_NODE ? node.parentNode : node, para = el.closest('.para');
  if (!para) { // between paragraphs, only blanks: the start of the next paragraph (or chunk) will do
    let next = node.nodeType === Node.ELEMENT_NODE ? node.childNodes[offset] : node.nextSibling, up = el;
    for (;;) {
      while (next && next.nodeType !== Node.ELEMENT_NODE) next = next.nextSibling;
      if (next || up === DOC) break;
      [next, up] = [up.nextSibling, up.parentNode];
    }
    return next ? next.at : TEXT.length;
  }
  const r = document.createRange(); // counted from the paragraph, not from the top of a long article
  r.setStart(para, 0);
  r.setEnd(node, offset);
  return para.at + r.toString().length;
}
function wordsAround([a, b]) { // the selection as first and last word of the sentence in focus, so Shift+arrows extend it
  const ws = words(ui.cur), first = ws.findIndex(w => w[1] > a), last = ws.findLastIndex(w => w[0] < b);
  const inside = sentAt(b - 1) === ui.cur && sentAt(a) === ui.cur && first >= 0 && last >= first;
  [ui.anchor, ui.focus, ui.caret] = inside ? [first, last, last] : [null, null, null];
}
DOC.addEventListener('mousedown', e => { if (e.button === 0) ui.drag = true; });
DOC.addEventListener('focusin', e => { // a suggestion's tag tabbed or clicked to: its sentence is the one in focus
  const x = e.target.classList.contains('sug-tag') && SUGG_OF.get(Number(e.target.dataset.sug));
  if (x && sentAt(x.start) !== ui.cur) setCur(sentAt(x.start), false);
});
document.addEventListener('mouseup', e => {
  if (!ui.drag) return;
  ui.drag = false;
  const sel = getSelection(), range = sel.rangeCount ? sel.getRangeAt(0) : null;
  if (range && !range.collapsed && range.intersectsNode(DOC)) {
    const a = DOC.contains(range.startContainer) ? textOffset(range.startContainer, range.startOffset) : 0; // or began before
    const b = DOC.contains(range.endContainer) ? textOffset(range.endContainer, range.endOffset) : TEXT.length;
    sel.removeAllRanges();
    if (ui.panel) closePanel(false);
    ui.sel = snap(toCp(a), toCp(b));
    ui.anchor = ui.fromSug = null;
    if (!ui.sel) hint('Nothing to mark there: select words.');
    else {
      if (sentAt(ui.sel[0]) !== ui.cur) setCur(sentAt(ui.sel[0]), false);
      wordsAround(ui.sel);
    }
    render();
    return DOC.focus({ preventScroll: true });
  }
  const on = e.target.closest('.tag, .seg[data-k]');
  const hit = on && on.dataset.k.split(' ').map(liveSpan).filter(Boolean).sort((x, y) => x.end - x.start - y.end + y.start)[0];
  if (hit) { setCur(sentAt(hit.start), false); return openPanel({ span: hit.k }, on.id); }
  if (range && DOC.contains(e.target)) { // a click: that sentence, the word caret on the word clicked (or the next)
    const p = toCp(textOffset(range.startContainer, range.startOffset)), w = words(sentAt(p)).findIndex(x => x[1] >= p);
    ui.sel = ui.anchor = null;
    setCur(sentAt(p), false);
    ui.caret = w < 0 ? null : w;
  }
  render();
});

// --- Keys
const typing = el => el.isContentEditable || el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !/^(radio|checkbox|button)$/.test(el.type));
const MAC = /^(Mac|iP)/.test(navigator.platform);
function keyName(e) { // "j", "Shift+J", "Ctrl+Shift+ArrowLeft", "Space"…; null: a key left to the browser
  const k = e.key, arrow = k === 'ArrowLeft' || k === 'ArrowRight';
  const word = arrow && (MAC ? e.altKey && !e.ctrlKey : e.ctrlKey && !e.altKey); // the platform's word-by-word modifier
  if (e.metaKey || ((e.ctrlKey || e.altKey) && !word)) return null; // Ctrl+C, Ctrl+F, Alt+← (back)…
  if (k === ' ') return 'Space';
  if ([...k].length === 1) return /\p{L}/u.test(k) ? (e.shiftKey ? `Shift+${k.toUpperCase()}` : k.toLowerCase()) : k; // Caps Lock alone changes nothing
  return `${word ? 'Ctrl+' : ''}${e.shiftKey ? 'Shift+' : ''}${k}`;
}
document.addEventListener('keydown', e => {
  if (e.defaultPrevented || e.isComposing || GUIDE.open) return;
  const key = keyName(e);
  if (key == null) return;
  if (typing(e.target)) {
    if (key === 'Escape') { e.preventDefault(); DOC.focus(); }
    return;
  }
  if (handleKey(key, e.target) !== false) e.preventDefault();
});
// The arrows go the way they point: in a right-to-left sentence ← is the next word in reading
// order (the selection grows forwards), → the previous one. Home and End are its start and end.
const dirAt = i => sentEls[i].closest('[dir]').dir, rtlAt = i => dirAt(i) === 'rtl';
const ahead = right => (right === rtlAt(ui.cur) ? -1 : 1);
const nextArrow = () => (rtlAt(ui.cur) ? '←' : '→');
function enter(t, space) { // a span tag's panel, a suggestion accepted; else (Enter) the span just marked, or the sentence's first
  if (t.classList.contains('tag')) return openPanel({ span: t.dataset.k }, t.id);
  if (t.classList.contains('sug-tag')) return acceptSuggestion(currentSuggestion(t));
  if (space || t.closest('button, a, input, summary')) return false;
  const from = ui.sel && SUGG_OF.get(ui.fromSug); // a suggestion's extent, adjusted: accepted with its label
  if (from) return markSelection(from.layer, from.label);
  const x = !ui.sel && currentSuggestion(t);
  if (x) return acceptSuggestion(x);
  const here = spansOf(ui.cur), s = here.find(x => x.k === canonical(ui.last)) || here[0];
  return s ? openPanel({ span: s.k }) : hint('No span here.');
}
// Every key the page answers to besides the codebook's, as keyName names them. The guidelines'
// list of keys (_guidelines.html) names the same ones; a browser test holds the two together.
const KEYS = {
  '?': () => GUIDE.showModal(),
  z: () => undo(true), 'Shift+Z': () => undo(false),
  j: () => setCur(ui.cur + 1), ArrowDown: () => setCur(ui.cur + 1),
  k: () => setCur(ui.cur - 1), ArrowUp: () => setCur(ui.cur - 1),
  'Shift+J': () => toUndone(1), 'Shift+K': () => toUndone(-1),
  ArrowRight: () => kbMove(ahead(true)), ArrowLeft: () => kbMove(ahead(false)),
  'Shift+ArrowRight': () => kbMove(ahead(true), true), 'Shift+ArrowLeft': () => kbMove(ahead(false), true),
  'Ctrl+ArrowRight': () => kbMove(ahead(true)), 'Ctrl+ArrowLeft': () => kbMove(ahead(false)), // as in text editors (the caret here is a word caret anyway)
  'Ctrl+Shift+ArrowRight': () => kbMove(ahead(true), true), 'Ctrl+Shift+ArrowLeft': () => kbMove(ahead(false), true),
  Home: () => kbMove(-Infinity), End: () => kbMove(Infinity), 'Shift+Home': () => kbMove(-Infinity, true), 'Shift+End': () => kbMove(Infinity, true),
  u: () => toggleUnsure(), n: () => COMMENT.focus(),
  Enter: t => enter(t, false), Space: t => enter(t, true),
  Escape: () => { if (ui.panel) return closePanel(); ui.sel = ui.anchor = ui.caret = ui.fromSug = null; hint(''); render(); },
  Delete: () => (ui.panel?.span ? userDeleteSpan(ui.panel.span) : false),
  p: t => rejectSuggestion(currentSuggestion(t)), // "pass": reserved for the page (annotator.codebook.RESERVED_KEYS)
  '@': t => hooks.link(t), // link a SOURCE span to a source entity (static/entities.js); reserved too
  '#': t => hooks.editEntity(t), // edit the source entity a SOURCE span links to (static/entities.js); reserved too
};
const ANYWHERE = new Set(['?', 'z', 'Shift+Z', '@', '#']), MOVES = new Set(['j', 'k', 'ArrowDown', 'ArrowUp', 'Shift+J', 'Shift+K']);
function handleKey(key, t) {
  if (t.type === 'radio' && key.includes('Arrow')) return false; // the radios' own keys
  const hotkey = key.replace(/^Shift\+(?=\p{L}$)/u, '').toLowerCase(); // a codebook key, with or without Shift
  if (ui.panel && !ANYWHERE.has(key)) { // a span's panel: its keys first
    if (key === 'Escape' || key === 'Delete') return KEYS[key]();
    if (panelKey(hotkey)) return;
    if (!MOVES.has(key)) return false;
    closePanel(false);
  }
  if (KEYS[key]) return KEYS[key](t);
  const b = HOTKEYS.sentence?.[hotkey];
  if (!b) return false;
  return b.label ? markSelection(b.layer, b.label) : choose(b.layer, b.value);
}
function panelKey(key) { // in a panel, keys set its span's attributes, then its attribution's
  const s = ui.panel.span && liveSpan(ui.panel.span), a = panelAttr();
  const toggle = (x, b) => ({ attributes: { ...x.attributes, [b.attribute]: x.attributes[b.attribute] === b.value ? null : b.value } });
  const bs = s && HOTKEYS[`span_layer:${s.layer}`]?.[key], ba = a && HOTKEYS[`relation:${a.relation}`]?.[key];
  if (bs && attrsFor(s.layer, s.label).some(x => x.name === bs.attribute)) return userUpdateSpan(s.k, toggle(s, bs)) ?? true;
  if (ba) return userAttr(a.k, toggle(a, ba)) ?? true;
  return false;
}
$('#open-guide').addEventListener('click', () => GUIDE.showModal());
GUIDE.addEventListener('close', () => DOC.focus({ preventScroll: true }));
for (const el of GUIDE.querySelectorAll('[data-color]')) if (HEX.test(el.dataset.color)) paint(el, el.dataset.color);

// --- Rendering
const READ_ONLY_HINT = $('#read-only').dataset.hint;
function hint(t) { HINT.textContent = readOnly ? READ_ONLY_HINT : t; } // no edit is announced as made
// The article in blocks ("chunks") of about CHUNK sentences, whole paragraphs each. The browser
// lays out and paints only the chunks near the window (content-visibility), and a chunk's
// sentences get their spans, tags and marks ("decorated") when it first comes near, or when the
// browser is idle; until then they are plain text, the same text.
const CHUNK = 64, chunks = [], chunkOf = new Uint32Array(SENTS.length), sentEls = []; // chunks: { el, first, last, decorated }
const paras = []; // p.para elements; .own: the paragraph's direction where it is not the article's
function buildDoc() { // paragraphs as blocks of sentence elements; the blanks between them stay in the DOM as text
  const all = document.createDocumentFragment();
  let chunk = null, para = null, at = 0;
  const block = (tag, cls, i) => { const el = h(tag, { class: cls }); el.at = UTF16[SENTS[i].start]; return el; }; // .at: where its text starts (UTF-16), for mouse offsets
  SENTS.forEach((s, i) => {
    const gap = sub(at, s.start);
    if (!para || gap.includes('\n')) {
      if (!chunk || i - chunk.first >= CHUNK) {
        all.append(gap);
        chunk = { el: block('div', 'chunk', i), first: i, lines: 0 };
        chunk.el.chunk = chunk;
        chunk.el.lang = DATA.document.language; // the text's, not the region's (its label is English)
        chunks.push(chunk);
        all.append(chunk.el);
      } else chunk.el.append(gap);
      chunk.el.append(para = block('p', 'para', i));
      paras.push(para);
      para.from = s.start;
      chunk.lines += 0.5; // the gap between paragraphs
    } else para.append(gap);
    para.append(sentEls[i] = h('span', { class: 'sent', id: `s${s.position}`, 'data-i': i }, sub(s.start, s.end)));
    para.to = s.end;
    chunk.last = i;
    chunkOf[i] = chunks.length - 1;
    chunk.lines += (s.end - s.start + gap.length) / 80;
    at = s.end;
  });
  all.append(sub(at, NCP));
  for (const p of paras) { const own = directionOf(sub(p.from, p.to)); if (own && own !== DATA.document.direction) p.own = own; }
  for (const c of chunks) c.el.style.setProperty('contain-intrinsic-size', `auto ${Math.ceil(c.lines * 2.15) + 1}em`); // a guess, until drawn once
  DOC.replaceChildren(all);
}
// Direction (docs/annotation-ui.md, "Right-to-left text"): the article's is its text's (the
// server's annotator/direction.py), a paragraph's its own where most of its words go the other
// way; the button reads the article the other way, kept for this document in this browser.
const RTL_LETTER = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u; // as annotator/direction.py's
function directionOf(text) { // that of most of its words (by their first letter); null: a tie
  let n = 0;
  for (const word of text.split(/\s+/)) { const letter = /\p{L}/u.exec(word); if (letter) n += RTL_LETTER.test(letter[0]) ? 1 : -1; }
  return n > 0 ? 'rtl' : n < 0 ? 'ltr' : null;
}
const DIR_KEY = `annotator:dir:${DATA.document.id}`, DIR_BUTTON = $('#text-dir');
let chosenDir = null; // 'rtl' or 'ltr' when the reader turned the article round
try { chosenDir = ['rtl', 'ltr'].find(d => d === localStorage.getItem(DIR_KEY)) ?? null; } catch { /* storage off */ }
function showDirection() {
  const dir = chosenDir || DATA.document.direction;
  DOC.dir = $('#ann-title').dir = dir;
  for (const p of paras) if (p.own && !chosenDir) p.dir = p.own; else p.removeAttribute('dir');
  DIR_BUTTON.textContent = `Text: ${dir === 'rtl' ? 'right to left' : 'left to right'}`;
  DIR_BUTTON.hidden = dir === 'ltr' && !chosenDir && !RTL_LETTER.test(TEXT); // nothing to turn round in a left-to-right-only text
}
DIR_BUTTON.addEventListener('click', e => {
  const other = DOC.dir === 'rtl' ? 'ltr' : 'rtl';
  chosenDir = other === DATA.document.direction ? null : other;
  try { if (chosenDir) localStorage.setItem(DIR_KEY, chosenDir); else localStorage.removeItem(DIR_KEY); } catch { /* storage off: this visit only */ }
  showDirection();
  render();
  backToText(e);
});
function decorate(c) { c.decorated = true; for (let i = c.first; i <= c.last; i++) renderSentence(i); }
DOC.addEventListener('contentvisibilityautostatechange', e => { // a chunk coming near the window
  const c = e.target.chunk;
  if (c && !e.skipped && !c.decorated && !ui.drag) decorate(c);
}, true);
const whenIdle = window.requestIdleCallback || (f => setTimeout(() => { const t = performance.now() + 10; f({ timeRemaining: () => t - performance.now() }); }, 1));
let undecorated = 0; // chunks before it are decorated
function decorateWhenIdle(deadline) { // the rest of the article, a few chunks at a time
  for (; undecorated < chunks.length && deadline.timeRemaining() > 3 && !ui.drag; undecorated++) if (!chunks[undecorated].decorated) decorate(chunks[undecorated]);
  if (undecorated < chunks.length) whenIdle(decorateWhenIdle);
  else ROOT.dataset.decorated = 'true';
}
let shown = {}; // the focus, selection and caret the article shows
function renderDoc() { // only the sentences that look different: those of the old and new focus, selection and caret, and those `dirty` names
  const sentsOf = r => (r ? spanSents({ start: r[0], end: r[1] }) : []);
  if (shown.cur !== ui.cur) dirty.add(shown.cur).add(ui.cur);
  if (String(shown.sel) !== String(ui.sel)) for (const i of [...sentsOf(shown.sel), ...sentsOf(ui.sel)]) dirty.add(i);
  if (shown.caret !== ui.caret) dirty.add(ui.cur);
  shown = { cur: ui.cur, sel: ui.sel, caret: ui.caret };
  const shownNow = i => i === ui.cur || (ui.sel && inSent({ start: ui.sel[0], end: ui.sel[1] }, SENTS[i]));
  for (const i of dirty) {
    const c = chunks[chunkOf[i]];
    if (!sentEls[i] || !c) continue;
    if (c.decorated) renderSentence(i);
    else if (shownNow(i)) decorate(c); // else drawn when decorated
  }
  dirty.clear();
}
function renderSentence(i) { // segments cut at every span boundary
  const el = sentEls[i], st = SENTS[i], sel = ui.sel, cur = i === ui.cur, clip = p => Math.min(st.end, Math.max(st.start, p));
  const over = spansOf(i).sort((a, b) => a.start - b.start || b.end - a.end), ends = [], lane = new Map();
  for (const s of over) { // overlapping spans get stacked underlines
    let l = ends.findIndex(end => end <= s.start);
    if (l < 0) l = ends.length;
    ends[l] = s.end;
    lane.set(s, l);
  }
  const pts = new Set([st.start, st.end]), cw = cur && ui.caret != null && !sel && words(i)[ui.caret], sg = suggsOf(i);
  for (const [a, b] of [...over.flatMap(pieces), ...sg.map(x => [x.start, x.end]), sel || [0, 0], cw || [0, 0]]) if (a < st.end && b > st.start) pts.add(clip(a)).add(clip(b));
  const ps = [...pts].sort((a, b) => a - b), plan = [];
  for (let j = 0; j < ps.length - 1; j++) {
    const a = ps[j], b = ps[j + 1], cov = over.filter(s => marks(s, a, b)).sort((x, y) => lane.get(x) - lane.get(y));
    const sc = sg.filter(x => x.start < b && x.end > a); // the suggestions over it: a dashed outline, open where one goes on
    for (const s of over) if (s.start === a) plan.push({ tag: s, sig: `T${s.k}${s.label}${entityOf(s) ?? ''}` });
    for (const x of sg) if (x.start === a) plan.push({ sugTag: x, sig: `S${x.id}` });
    const cls = `seg${sel && sel[0] < b && sel[1] > a ? ' sel' : ''}${cw && cw[0] <= a && cw[1] >= b ? ' caret' : ''}${cov.length ? ' m' : ''}`
      + `${sc.length ? ' sug' : ''}${sc.some(x => x.start === a) ? ' sug-a' : ''}${sc.some(x => x.end === b) ? ' sug-b' : ''}`;
    plan.push({ a, b, cov, sc, cls, lane, sig: a + cls + cov.map(s => s.k + s.label + lane.get(s)) + sc.map(x => x.id) });
  }
  const sig = cur + plan.map(p => p.sig).join('|'); // rebuild only what changed
  if (el.sig !== sig) el.replaceChildren(...plan.map(p => p.tag ? tagFor(p.tag, cur) : p.sugTag ? sugTagFor(p.sugTag, cur) : segment(p)));
  el.sig = sig;
  el.classList.toggle('cur', cur);
  el.classList.toggle('done', isDone(i));
  if (cur) el.setAttribute('aria-current', 'true'); else el.removeAttribute('aria-current');
}
function segment({ a, b, cov, sc, cls, lane }) {
  if (cls === 'seg') return sub(a, b);
  const seg = h('span', { class: cls }, sub(a, b));
  if (sc.length) seg.dataset.sug = sc.map(x => x.id).join(' ');
  if (!cov.length) return seg;
  seg.dataset.k = cov.map(s => s.k).join(' ');
  seg.title = cov.map(s => `${labelShown(s.layer, s.label)} ${quote(spanText(s), 40)}`).join('\n');
  const bg = cov.map(s => [colorOf(s), '100% 2px', `0 calc(100% - ${lane.get(s) * 3}px)`]);
  if (!cls.includes('sel')) bg.push([colorOf(cov[0]) + '24', '100% calc(100% - 8px)', '0 0']); // a tint
  seg.style.setProperty('background-image', bg.map(([c]) => `linear-gradient(${c},${c})`).join());
  seg.style.setProperty('background-size', bg.map(x => x[1]).join());
  seg.style.setProperty('background-position', bg.map(x => x[2]).join());
  return seg;
}
function tagFor(s, cur) { // a span's handle, showing its label (focusable in the current sentence)
  // Inside a word, the tag is raised above the text (.in-word), taking no room in the line, so the
  // letters on either side stay joined; elsewhere it is isolated, so it never reorders the text.
  const t = h('span', { class: isW(s.start - 1) && isW(s.start) ? 'tag in-word' : 'tag', id: `tag-${s.k}`, role: 'button', tabindex: cur ? '0' : '-1', 'data-k': s.k,
    'data-label': s.label, 'data-entity': entityOf(s), 'aria-label': `${labelShown(s.layer, s.label)}${entityOf(s) ? ` (${entityOf(s)})` : ''}: ${spanText(s)}`,
    title: `${labelShown(s.layer, s.label)} ${quote(spanText(s))}${entityOf(s) ? ` → ${quote(entityOf(s))}` : ''} — click or Enter to edit` });
  paint(t, colorOf(s));
  return t;
}
function sugTagFor(x, cur) { // a suggestion's handle: "suggested" and its label, dashed (focusable in the current sentence)
  const label = labelShown(x.layer, x.label), about = `${x.suggester} ${x.version}, score ${x.score.toFixed(2)}`;
  const t = h('span', { class: isW(x.start - 1) && isW(x.start) ? 'sug-tag in-word' : 'sug-tag', id: `sug-${x.id}`, role: 'button', tabindex: cur ? '0' : '-1',
    'data-sug': x.id, 'data-label': x.label, 'aria-label': `suggested ${label}: ${sub(x.start, x.end)}`,
    title: `Suggested ${label} ${quote(sub(x.start, x.end))} (${about}) — Enter accepts, p rejects, Shift+arrows adjust it first` });
  paint(t, colorOf(x));
  return t;
}
function buildSide() {
  const group = (x, ...kids) => h('div', { class: 'group', role: 'group', 'aria-label': x.title, title: x.description },
    h('span', { class: 'group-title' }, x.title, x.required && ' (required)'), ...kids);
  $('#label-buttons').append(...CODEBOOK.span_layers.map(layer => group(layer, layer.labels.map(l => {
      const b = btn({ class: 'lab', title: tip(l, l.hotkey), 'aria-keyshortcuts': l.hotkey,
        onclick: e => { markSelection(layer.name, l.name); backToText(e); } }, h('span', { class: 'chip' }), displayed(l), l.hotkey && h('kbd', {}, l.hotkey));
      paint(b, HEX.test(l.color) ? l.color : '#888888');
      return b;
    }))));
  $('#choices').append(...CHOICES.map(c => group(c, c.values.map(v => btn({ class: 'choice', 'data-layer': c.name, 'data-value': v.name, title: tip(v, v.hotkey),
      'aria-pressed': 'false', 'aria-keyshortcuts': v.hotkey, onclick: e => { choose(c.name, v.name); backToText(e); } }, v.hotkey && h('kbd', {}, v.hotkey), displayed(v))))));
  UNSURE.addEventListener('change', () => UNSURE.checked !== row(SENTS[ui.cur].id, FIRST).unsure && toggleUnsure());
  COMMENT.addEventListener('blur', saveComment);
  COMMENT.addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); DOC.focus({ preventScroll: true }); }
  });
  if (!FIRST) $('.flags').hidden = true;
  SIDE_TOGGLE.addEventListener('click', e => { showSide(SIDE.classList.contains('collapsed')); backToText(e); });
}
// After a mouse click on a label, value or panel button, the keys act on the text again (Enter
// opens the span just marked); a button pressed from the keyboard keeps the focus.
const backToText = e => e.detail && DOC.focus({ preventScroll: true });
function showSide(open) { // below 1000 px the side panel is docked at the bottom, and can be folded away
  SIDE.classList.toggle('collapsed', !open);
  SIDE_TOGGLE.setAttribute('aria-expanded', open);
  SIDE_TOGGLE.textContent = open ? 'Hide panel' : 'Show panel';
}
function missing(a) {
  return (relOf(a.relation)?.roles || []).filter(r => r.required && !a.parts.some(p => p.role === r.name && liveSpan(p.k))).map(displayed);
}
function attrSummary(a) {
  const rel = relOf(a.relation), miss = missing(a);
  const bits = rel.roles.flatMap(r => a.parts.filter(p => p.role === r.name).map(p => [`${displayed(r)} `, quotedSpan(getS(p.k), 40), entityTag(getS(p.k))]));
  return [`${rel.title}: `, bits.length ? bits.map((b, i) => (i ? [' · ', b] : b)) : 'no parts',
    miss.length ? ` — incomplete (no ${miss.join(', ')})` : ''].flat(Infinity);
}
const entityTag = s => entityOf(s) && [' → ', h('bdi', { class: 'entity-name' }, entityOf(s))]; // the source entity a span is linked to
function item(id, cls, onclick, ...kids) { return h('li', {}, btn({ class: `item ${cls}`, id, onclick: () => onclick(id) }, ...kids)); }
const none = text => [h('li', { class: 'muted' }, text)];
function renderSide() {
  const i = ui.cur, st = SENTS[i];
  const head = `Sentence ${i + 1} of ${SENTS.length}${isDone(i) ? ' · done' : ''}`;
  if (SENT_HEAD.textContent !== head) SENT_HEAD.textContent = head;
  $('#sel-info').replaceChildren(...ui.sel ? ['Selected: ', ...quoted(...ui.sel, 120), ' — press a label key or button.']
    : [`No text selected: drag over words, or Shift+${nextArrow()} word by word.`]);
  for (const b of document.querySelectorAll('.choice')) b.setAttribute('aria-pressed', [].concat(row(st.id, b.dataset.layer).value).includes(b.dataset.value));
  if (FIRST) {
    const r = row(st.id, FIRST);
    UNSURE.checked = r.unsure;
    if (document.activeElement !== COMMENT) { COMMENT.value = r.comment; COMMENT.dataset.i = i; }
  }
  const here = spansOf(i).sort((a, b) => a.start - b.start);
  $('#sent-spans').replaceChildren(...here.map(s => {
    const li = item(`sl-${s.k}`, '', id => openPanel({ span: s.k }, id), h('span', { class: 'chip' }), `${labelShown(s.layer, s.label)} `, h('span', { class: 'quote' }, quotedSpan(s)));
    paint(li.firstChild, colorOf(s));
    return li;
  }), ...here.length ? [] : none('None yet.'));
  const as = [...new Set(here.flatMap(s => attrsOf(s.k)))].sort((x, y) => x.order - y.order);
  $('#sent-attrs').replaceChildren(...as.map(a => item(`al-${a.k}`, missing(a).length ? 'incomplete' : '', id => openPanel({ attr: a.k }, id), attrSummary(a))),
    ...as.length ? [] : none('None: marking a cue starts one.'));
  $('#progress').value = doneCount;
  $('#progress-text').textContent = `${doneCount} / ${SENTS.length} sentences done`;
}

// --- The panel of a span (with its attribution) or of an attribution
function panelAttr() {
  const a = ui.panel?.attr && getA(ui.panel.attr), s = ui.panel?.span && liveSpan(ui.panel.span);
  if (a) return a.gone ? null : a;
  return s ? attrsOf(s.k).reduce((x, y) => (x && x.order > y.order ? x : y), null) : null; // the latest
}
function openPanel(what, from) {
  ui.panel = { ...what, from: from || document.activeElement?.id };
  if (what.span) ui.last = canonical(what.span);
  showSide(true);
  render();
  PANEL.focus();
}
function closePanel(refocus = true) {
  const from = ui.panel?.from && document.getElementById(ui.panel.from);
  ui.panel = null;
  PANEL.hidden = true;
  PANEL.replaceChildren();
  if (refocus) (from || DOC).focus({ preventScroll: true });
}
function radios(prefix, attribute, current, pick, always) {
  return h('fieldset', { class: 'radios', title: attribute.description },
    h('legend', {}, displayed(attribute), attribute.required && ' (required)'),
    [...always ? [] : [{ name: '' }], ...attribute.values].map(v => {
      const id = `${prefix}-${attribute.name}-${v.name || 'none'}`;
      return h('label', { class: 'radio', for: id, title: v.name && tip(v, v.hotkey) },
        h('input', { type: 'radio', id, name: `${prefix}-${attribute.name}`, value: v.name, checked: (current ?? '') === v.name, onchange: () => pick(v.name || null) }),
        ` ${v.name ? displayed(v) : 'not set'}`, v.hotkey && h('kbd', {}, v.hotkey));
    }));
}
function spanSection(s) {
  const layer = LAYERS[s.layer], rel = RELS.find(r => r.layer === s.layer && r.roles.some(x => x.label === s.label));
  const role = rel?.roles.find(x => x.label === s.label);
  return [
    h('h3', { id: 'panel-title' }, h('span', { class: 'chip' }), `${labelShown(s.layer, s.label)} `, h('span', { class: 'quote' }, quotedSpan(s, 120))),
    s.comment && h('p', { class: 'span-comment' }, s.comment),
    h('p', { class: 'muted' }, `${layer.title} · sentence ${sentAt(s.start) + 1}${s.id ? '' : ' · saving…'}`),
    radios('pl', { name: 'label', values: layer.labels.map(l => ({ ...l, hotkey: null })) }, s.label, label => userUpdateSpan(s.k, { label }), true),
    attrsFor(s.layer, s.label).map(x => radios('sa', x, s.attributes[x.name], v => userUpdateSpan(s.k, { attributes: { ...s.attributes, [x.name]: v } }))),
    hooks.spanPanel(s),
    !panelAttr() && role && h('p', {}, btn({ onclick: () => userNewAttr({ relation: rel.name, attributes: {}, parts: [{ k: s.k, role: role.name }] }) },
      `Start an attribution with this ${displayed(role)}`)),
    h('p', { class: 'actions' }, btn({ class: 'danger', 'aria-keyshortcuts': 'Delete', onclick: () => userDeleteSpan(s.k) }, 'Delete span ', h('kbd', {}, 'Del'))),
  ];
}
function nearSpans(at) { // the live spans starting within two sentences of sentence `at`: that sentence's free ones (in no attribution) first, then its others, then the neighbours'
  const found = new Set();
  for (let i = at - 2; i <= at + 2; i++) for (const x of spansOf(i)) if (Math.abs(sentAt(x.start) - at) <= 2) found.add(x);
  const rank = x => (sentAt(x.start) === at ? 0 : 2) + (attrsOf(x.k).length ? 1 : 0);
  return [...found].sort((x, y) => rank(x) - rank(y) || x.start - y.start);
}
function attrSection(a, s) {
  const rel = relOf(a.relation), miss = missing(a), inIt = a.parts.map(p => canonical(p.k));
  const anchor = liveSpan(a.parts.find(p => p.role === rel.anchor)?.k) || liveSpan(a.parts[0]?.k), near = anchor ? sentAt(anchor.start) : ui.cur;
  const button = (cls, label, onclick, text) => btn({ class: cls, 'aria-label': label, onclick }, text);
  return h('div', { class: 'attr' },
    h('h3', { id: s ? 'panel-attr-title' : 'panel-title' }, rel.title),
    miss.length ? h('p', { class: 'warn' }, `Incomplete: add ${miss.join(', ')}.`) : h('p', { class: 'ok' }, 'Complete.'),
    h('dl', { class: 'parts' }, rel.roles.map(r => {
      const parts = a.parts.filter(p => p.role === r.name && liveSpan(p.k));
      const cands = r.multiple || !parts.length ? nearSpans(near).filter(x => x.layer === rel.layer && x.label === r.label && !inIt.includes(x.k)) : [];
      return [h('dt', {}, displayed(r), r.required && ' (required)'), h('dd', {},
        parts.map(p => { const x = getS(p.k); return h('span', { class: 'part' }, button('link', null, () => openPanel({ span: x.k }), quotedSpan(x, 50)), entityTag(x),
          button('small', `Remove ${displayed(r)} ${spanText(x)}`, () => userAttr(a.k, { parts: a.parts.filter(q => q !== p) }), 'remove')); }),
        !parts.length && h('span', { class: 'muted' }, 'none '),
        cands.map(x => button('small add', `Add ${spanText(x)} as ${displayed(r)}`, () => userAttr(a.k, { parts: [...a.parts, { k: x.k, role: r.name }] }), ['+ ', quotedSpan(x, Infinity)])))];
    })),
    rel.attributes.map(x => radios('ra', x, a.attributes[x.name], v => userAttr(a.k, { attributes: { ...a.attributes, [x.name]: v } }))),
    h('p', { class: 'actions' }, button('danger', null, () => userAttr(a.k, null), 'Delete attribution')));
}
function renderPanel() {
  if (!ui.panel) return;
  const s = ui.panel.span && liveSpan(ui.panel.span), a = panelAttr();
  if (!s && !a) return closePanel();
  const focused = PANEL.contains(document.activeElement) && document.activeElement.id;
  PANEL.replaceChildren(...[btn({ class: 'close', 'aria-label': 'Close panel', onclick: () => closePanel() }, '×'),
    s && spanSection(s), a && attrSection(a, s), h('p', { class: 'muted keys-hint' }, 'The keys shown set the attributes; Esc closes.')].flat(3).filter(Boolean));
  if (s) paint(PANEL.querySelector('.chip'), colorOf(s));
  PANEL.hidden = false;
  if (focused) document.getElementById(focused)?.focus();
}
const afterRender = []; // the adjudication panel's (static/adjudicate.js)
function render() {
  const focused = document.activeElement?.id;
  if (!ui.drag) renderDoc(); // mid-drag, the mouseup renders it
  renderSide();
  renderPanel();
  for (const f of afterRender) f();
  if (focused && document.activeElement === document.body) document.getElementById(focused)?.focus({ preventScroll: true });
  showSave();
}

// --- Done, and active time per sentence (like Label Studio's lead_time)
let readOnly = DATA.state.status === 'done' || DATA.state.status === 'not_started'; // the latter: gold not started
const DONE = $('#mark-done'), READ_ONLY = $('#read-only');
function showDone() { DONE.hidden = readOnly; READ_ONLY.hidden = !readOnly; }
DONE.addEventListener('click', async () => {
  if (queue.length) return hint('Wait until every change is saved, then mark the document done.');
  if (!confirm(DONE.dataset.confirm)) return;
  let res = null;
  try { [res] = await call('POST', DATA.api.done, {}); } catch { /* offline */ }
  if (res?.ok) { readOnly = true; showDone(); } else hint('Could not mark the document done; try again.');
});
// Time counts for the sentence in focus while the tab is visible and the annotator was active
// in the last minute; it is sent when the focus moves, every 30 s and when the page is hidden.
const IDLE_MS = 60000, owed = new Map();
let watched = null, lastTick = Date.now(), lastInput = Date.now(), lastSent = Date.now();
for (const t of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'scroll']) addEventListener(t, () => { lastInput = Date.now(); }, { passive: true, capture: true });
function tickActivity() {
  const now = Date.now(), sid = SENTS[ui.cur]?.id ?? null;
  if (watched !== null && document.visibilityState === 'visible' && now - lastInput < IDLE_MS) owed.set(watched, (owed.get(watched) || 0) + now - lastTick);
  lastTick = now;
  if (sid !== watched || now - lastSent > 30000) { watched = sid; sendActivity(); }
}
function sendActivity() {
  lastSent = Date.now();
  for (const [sid, ms] of owed) {
    owed.delete(sid);
    const back = () => owed.set(sid, (owed.get(sid) || 0) + ms); // kept for the next report
    if (ms >= 1) fetch(DATA.api.activity, { method: 'POST', keepalive: true, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': CSRF },
      body: JSON.stringify({ sentence_id: sid, ms: Math.min(Math.round(ms), 600000) }) }).then(r => r.status >= 500 && back(), back);
  }
}
setInterval(tickActivity, 1000);
addEventListener('visibilitychange', () => { tickActivity(); if (document.visibilityState === 'hidden') sendActivity(); });
addEventListener('pagehide', () => { tickActivity(); sendActivity(); });

// --- Start
showDone();
buildDoc();
showDirection();
buildSide();
restore();
for (const r of rows.values()) rowChanged(r.sid);
const atPosition = p => SENTS.findIndex(s => s.position === p);
const atHash = () => { const m = /^#s(\d+)$/.exec(location.hash); return m ? atPosition(+m[1]) : -1; };
const reloaded = performance.getEntriesByType('navigation')[0]?.type === 'reload';
let kept = -1;
try { kept = reloaded ? atPosition(Number(sessionStorage.getItem(FOCUS_KEY) ?? -1)) : -1; } catch { /* storage off */ }
ui.cur = [kept, atHash(), doneFlags.indexOf(0), 0].find(i => i >= 0);
hashTo();
watched = SENTS[ui.cur]?.id ?? null;
for (const c of chunks.slice(Math.max(0, chunkOf[ui.cur] - 1), chunkOf[ui.cur] + 2)) decorate(c); // around the focus, before the first frame
render();
DOC.focus({ preventScroll: true });
sentEls[ui.cur].scrollIntoView({ block: 'center' });
whenIdle(decorateWhenIdle);
addEventListener('hashchange', () => atHash() >= 0 && setCur(atHash()));
ROOT.dataset.ready = 'true';
pump();

// What the adjudication page (static/adjudicate.js) works with: its changes go through the
// same operations, undo history and save queue as the annotator's.
export const page = {
  DATA, SENTS, CHOICES, RELS, DOC, h, btn, quoted, paint, colorOf, hint, render, afterRender, displayed, labelShown, sentAt,
  cur: () => ui.cur, row, spansOf, hasSpan, inSent, sameSpan, grouped, markSpan, userSetRow, userUnit, unitsAt, call, typing,
  queued: () => queue.length, readOnly: () => readOnly, keys: Object.keys(KEYS),
  ui, hooks, linkable, liveSpan, words, quote, entityNames, entityOf, userUpdateSpan, touch,
};
