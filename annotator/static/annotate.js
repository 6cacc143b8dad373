// The annotation page (docs/annotation-ui.md). A vanilla ES module: it builds the article and
// the side panel from the JSON data block, keeps the user's annotations in memory, and saves
// every change through a persistent queue of JSON API calls. The article text only ever
// enters the DOM as text nodes.

const $ = (s, r = document) => r.querySelector(s);

// Builds an element; strings among the children become text nodes.
function h(tag, props = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (typeof v === 'boolean') el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
  return el;
}

const D = JSON.parse($('#annotator-data').textContent);
const ROOT = $('#annotate'), DOC = $('#doc'), SIDE = $('#side'), PANEL = $('#panel');
const SAVE = $('#save-state'), HINT = $('#hint'), GUIDE = $('#guide');
const COMMENT = $('#comment'), UNSURE = $('#unsure');
const CB = D.codebook, HK = D.hotkeys, TEXT = D.document.text, SENTS = D.sentences;
const CSRF = $('meta[name="csrf-token"]').content;
const STORE = `annotator:queue:${D.document.id}:${ROOT.dataset.user}`;

// --- Text: the server counts code points, JS strings count UTF-16 units ---------------------
const CP = Array.from(TEXT), U = [0]; // U[i]: UTF-16 index of code point i
for (const c of CP) U.push(U[U.length - 1] + c.length);
const sub = (a, b) => TEXT.slice(U[a], U[b]);
function toCp(u) { // UTF-16 index -> code point index (rounding up inside a pair)
  let lo = 0, hi = CP.length;
  while (lo < hi) { const m = (lo + hi + 1) >> 1; if (U[m] <= u) lo = m; else hi = m - 1; }
  return U[lo] < u ? lo + 1 : lo;
}
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const isW = i => i >= 0 && i < CP.length && WORD_CHAR.test(CP[i]);
// A selection snaps to whole words, without surrounding spaces or punctuation.
function snap(a, b) {
  while (a < b && !isW(a)) a++;
  while (b > a && !isW(b - 1)) b--;
  if (a >= b) return null;
  while (isW(a - 1)) a--;
  while (isW(b)) b++;
  return [a, b];
}
const WORD = /[\p{L}\p{N}\p{M}]+(?:['’\-.,/:][\p{L}\p{N}\p{M}]+)*/gu;
const wordCache = [];
function words(i) { // [[start, end]] in code points, the keyboard's word steps
  if (!wordCache[i]) {
    const s = SENTS[i];
    wordCache[i] = [...sub(s.start, s.end).matchAll(WORD)].map(m => {
      const u = U[s.start] + m.index;
      return [toCp(u), toCp(u + m[0].length)];
    });
  }
  return wordCache[i];
}
function sentAt(p) { // index of the sentence containing (or last starting before) p
  let lo = 0, hi = SENTS.length - 1;
  while (lo < hi) { const m = (lo + hi + 1) >> 1; if (SENTS[m].start <= p) lo = m; else hi = m - 1; }
  return lo;
}

// --- Codebook ----------------------------------------------------------------------------------
const LAYERS = Object.fromEntries(CB.span_layers.map(l => [l.name, l]));
const RELS = CB.relations || [];
const CHOICES = CB.choice_layers || [];
const FIRST = CHOICES[0]?.name; // its row carries the sentence's unsure flag and comment
const REQUIRED = CHOICES.filter(c => c.required);
const DONE_LAYERS = (REQUIRED.length ? REQUIRED : CHOICES).map(c => c.name);
const labelOf = (layer, name) => LAYERS[layer]?.labels.find(l => l.name === name);
const attrsFor = (layer, label) => [...(LAYERS[layer]?.attributes || []), ...(labelOf(layer, label)?.attributes || [])];
const relOf = name => RELS.find(r => r.name === name);
const HEX = /^#[0-9a-f]{6}$/i;
const colorOf = s => { const c = labelOf(s.layer, s.label)?.color; return HEX.test(c) ? c : '#888888'; };
function inkOn(c) { // readable text colour on a label colour
  const n = parseInt(c.slice(1), 16), l = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return l > 150 ? '#111' : '#fff';
}
function tip(item, key) { // tooltip: description, example, key
  return [item.description, item.example && `Example: ${item.example}`, key && `Key: ${key}`].filter(Boolean).join('\n');
}
const quote = (t, n = 60) => `“${t.length > n ? t.slice(0, n - 1) + '…' : t}”`;

// --- State -------------------------------------------------------------------------------------
// Entities by key: "s<id>"/"a<id>" for saved rows, "n…"/"m…" for ones made here. A key
// recreated by undo points on to its successor through `alias`. Deleted entities stay,
// flagged `gone`, so queued requests can still name them.
const spans = new Map(), attrs = new Map(), rows = new Map(), alias = {};
const R = k => { while (alias[k]) k = alias[k]; return k; };
const getS = k => spans.get(R(k)), getA = k => attrs.get(R(k));
const liveSpans = () => [...spans.values()].filter(s => !s.gone);
const liveAttrs = () => [...attrs.values()].filter(a => !a.gone);
const liveSpan = k => { const s = getS(k); return s && !s.gone ? s : null; };
let serial = 0, order = 1e9;
const newKey = p => p + Date.now().toString(36) + (serial++).toString(36);
const rowKey = (sid, layer) => `r${sid}:${layer}`;

const spanSrv = j => ({ label: j.label, attributes: { ...j.attributes } });
function attrSrv(j) {
  return { attributes: { ...j.attributes }, parts: j.parts.map(p => ({ k: keyOfSpanId(p.span_id), role: p.role })) };
}
function keyOfSpanId(id) { for (const s of spans.values()) if (s.id === id) return s.k; return 's' + id; }
function addSpan(j) {
  spans.set('s' + j.id, { k: 's' + j.id, id: j.id, sv: j.version, srv: spanSrv(j), layer: j.layer, label: j.label,
    start: j.start, end: j.end, text: j.text, attributes: { ...j.attributes } });
}
function addAttr(j) {
  const srv = attrSrv(j);
  attrs.set('a' + j.id, { k: 'a' + j.id, id: j.id, sv: j.version, srv, relation: j.relation, order: j.id,
    attributes: { ...srv.attributes }, parts: srv.parts.map(p => ({ ...p })) });
}
function row(sid, layer) {
  const k = rowKey(sid, layer);
  if (!rows.has(k)) rows.set(k, { k, sid, layer, id: null, sv: null, srv: null, value: null, unsure: false, comment: '' });
  return rows.get(k);
}
function addRow(j) {
  Object.assign(row(j.sentence_id, j.layer), { id: j.id, sv: j.version, value: j.value, unsure: j.unsure,
    comment: j.comment || '', srv: { value: j.value, unsure: j.unsure, comment: j.comment || '' } });
}
D.state.spans.forEach(addSpan);
D.state.attributions.forEach(addAttr);
D.state.labels.forEach(addRow);

const ui = { cur: 0, sel: null, caret: null, anchor: null, focus: null, panel: null, last: null };

// --- Local effects of a change (applied at once, and replayed after a reload) ---------------
function apply(op) {
  const s = op.t.endsWith('s') ? getS(op.k) : null, a = op.t.endsWith('a') ? getA(op.k) : null;
  switch (op.t) {
    case 'cs':
      spans.set(op.k, { k: op.k, id: null, sv: null, srv: null, layer: op.layer, label: op.label, start: op.start,
        end: op.end, text: op.text, attributes: { ...op.attributes } });
      ui.last = op.k;
      break;
    case 'us': if (s) Object.assign(s, { label: op.label, attributes: { ...op.attributes } }); break;
    case 'ds':
      if (!s) break;
      s.gone = true;
      for (const x of attrs.values()) x.parts = x.parts.filter(p => R(p.k) !== s.k);
      break;
    case 'lab': Object.assign(row(op.sid, op.layer), { value: op.value, unsure: op.unsure, comment: op.comment }); break;
    case 'ca':
      attrs.set(op.k, { k: op.k, id: null, sv: null, srv: null, relation: op.relation, order: ++order,
        attributes: { ...op.attributes }, parts: op.parts.map(p => ({ ...p })) });
      break;
    case 'ua': if (a) Object.assign(a, { attributes: { ...op.attributes }, parts: op.parts.map(p => ({ ...p })) }); break;
    case 'da': if (a) a.gone = true; break;
  }
}

// --- The save queue ----------------------------------------------------------------------------
// Requests go one at a time, in order; the queue lives in localStorage until each is answered.
let queue = [], ids = {}, busy = false, fails = 0, retryAt = 0, timer = null, lastError = null, blocked = null;
function persist() {
  try {
    if (queue.length) localStorage.setItem(STORE, JSON.stringify({ queue, ids }));
    else { localStorage.removeItem(STORE); ids = {}; }
  } catch { /* private mode or full: the queue still lives in memory */ }
}
function restore() { // a queue left by a crash, a reload or a closed tab: replay it on the saved state
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(STORE) || 'null'); } catch { /* ignore */ }
  if (!saved?.queue?.length) return;
  ids = saved.ids || {};
  for (const [k, id] of Object.entries(ids)) {
    const target = (k.startsWith('n') ? 's' : 'a') + id;
    if (spans.has(target) || attrs.has(target)) alias[k] = target;
  }
  queue = saved.queue;
  queue.forEach(apply);
  hint(`Restored ${queue.length} unsaved change${queue.length === 1 ? '' : 's'} from this browser; saving them now.`);
}
function act(op) { apply(op); queue.push(op); lastError = null; persist(); showSave(); queueMicrotask(pump); }
const pending = k => queue.some(o => R(o.k) === R(k));

const labelUrl = (sid, layer) => D.api.label.replace('{sentence_id}', sid).replace('{layer}', encodeURIComponent(layer));
function partsOut(parts) {
  return parts.map(p => ({ span_id: getS(p.k)?.id, role: p.role })).filter(p => p.span_id != null);
}
function build(op) { // [method, url, body], or null when the target was never saved
  const s = getS(op.k), a = getA(op.k);
  switch (op.t) {
    case 'cs': return ['POST', D.api.spans, { layer: op.layer, label: op.label, start: op.start, end: op.end, text: op.text, attributes: op.attributes }];
    case 'us': {
      if (!s?.id) return null;
      const names = new Set(attrsFor(s.layer, op.label).map(x => x.name));
      const merged = Object.entries({ ...s.srv?.attributes, ...op.attributes }).filter(([n]) => names.has(n));
      return ['PATCH', D.api.span + s.id, { version: s.sv, label: op.label, attributes: Object.fromEntries(merged) }];
    }
    case 'ds': return s?.id ? ['DELETE', D.api.span + s.id, { version: s.sv }] : null;
    case 'lab': {
      const r = row(op.sid, op.layer), body = { value: op.value, version: r.sv };
      if (op.layer === FIRST) Object.assign(body, { unsure: op.unsure, comment: op.comment || '' });
      return ['PUT', labelUrl(op.sid, op.layer), body];
    }
    case 'ca': return ['POST', D.api.attributions, { relation: op.relation, attributes: op.attributes, parts: partsOut(op.parts) }];
    case 'ua': return a?.id ? ['PATCH', D.api.attribution + a.id, { version: a.sv, attributes: op.attributes, parts: partsOut(op.parts) }] : null;
    case 'da': return a?.id ? ['DELETE', D.api.attribution + a.id, { version: a.sv }] : null;
  }
  return null;
}
async function call(method, url, body) {
  const res = await fetch(url, {
    method, credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': CSRF, Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return [res, await res.json().catch(() => ({}))];
}
async function pump() {
  if (busy || blocked || retryAt) return;
  busy = true;
  try {
    while (queue.length && !blocked) {
      const op = queue[0], req = build(op);
      if (!req) { queue.shift(); persist(); continue; }
      let res = null, body = {};
      try { [res, body] = await call(...req); } catch { /* network down: retried below */ }
      if (!res || res.status >= 500) { scheduleRetry(); return; }
      fails = 0;
      if (res.status === 401 || (res.status === 400 && /csrf/i.test(body.error || ''))) {
        blocked = res.status === 401 ? 'you are logged out' : 'the session expired';
        blocked += ' — log in again in another tab, then reload this page; your changes are kept in this browser';
        break;
      }
      queue.shift();
      if (res.ok) await saved(op, body); else await failed(op, res.status, body);
      persist();
      render();
    }
  } finally { busy = false; showSave(); }
}
function scheduleRetry() {
  fails++;
  retryAt = Date.now() + Math.min(30, 2 ** (fails - 1)) * 1000;
  clearInterval(timer);
  timer = setInterval(() => { if (Date.now() >= retryAt) retryNow(); else showSave(); }, 250);
}
function retryNow() { clearInterval(timer); timer = null; retryAt = 0; pump(); }
addEventListener('online', () => { if (retryAt) retryNow(); });
addEventListener('beforeunload', e => { if (queue.length) { e.preventDefault(); e.returnValue = ''; } });

function showSave() {
  const n = queue.length, kept = `${n} unsaved change${n === 1 ? '' : 's'} kept`;
  let state = 'saved', text = 'Saved';
  if (blocked) [state, text] = ['error', `Not saved: ${blocked}`];
  else if (retryAt) [state, text] = ['offline', `Offline — retrying in ${Math.max(1, Math.ceil((retryAt - Date.now()) / 1000))}s (${kept})`];
  else if (n) [state, text] = ['saving', 'Saving…'];
  else if (lastError) [state, text] = ['error', `Not saved: ${lastError}`];
  if (SAVE.textContent !== text) SAVE.textContent = text;
  SAVE.dataset.state = state;
  SAVE.dataset.pending = n;
}

async function saved(op, j) {
  const s = getS(op.k), a = getA(op.k);
  switch (op.t) {
    case 'cs':
      Object.assign(s, { id: j.id, sv: j.version, srv: spanSrv(j) });
      ids[op.k] = j.id;
      for (const [n, v] of Object.entries(j.attributes)) if (!(n in s.attributes)) s.attributes[n] = v; // defaults, prefills
      break;
    case 'us':
      Object.assign(s, { sv: j.version, srv: spanSrv(j) });
      if (!pending(s.k)) Object.assign(s, spanSrv(j));
      break;
    case 'ds': await refreshAttrVersions(s); break;
    case 'lab': {
      const r = row(op.sid, op.layer);
      Object.assign(r, { id: j.id, sv: j.version, srv: { value: j.value, unsure: j.unsure, comment: j.comment || '' } });
      break;
    }
    case 'ca': Object.assign(a, { id: j.id, sv: j.version, srv: attrSrv(j) }); ids[op.k] = j.id; break;
    case 'ua': Object.assign(a, { sv: j.version, srv: attrSrv(j) }); break;
  }
}
// Deleting a span also removes it from attributions on the server, which moves their versions.
async function refreshAttrVersions(s) {
  try {
    const [res, body] = await call('GET', D.api.annotations);
    if (!res.ok) throw new Error();
    for (const j of body.attributions) {
      const a = [...attrs.values()].find(x => x.id === j.id);
      if (a) Object.assign(a, { sv: j.version, srv: attrSrv(j) });
    }
  } catch {
    for (const a of attrs.values()) {
      if (a.srv?.parts.some(p => R(p.k) === s.k)) { a.sv++; a.srv.parts = a.srv.parts.filter(p => R(p.k) !== s.k); }
    }
  }
}
const sameRow = (c, op) => c.value === op.value || JSON.stringify(c.value) === JSON.stringify(op.value);

async function failed(op, status, body) {
  const conflict = status === 409, cur = body.current;
  if (status === 404 && (op.t === 'ds' || op.t === 'da')) return; // already gone: what we wanted
  if (op.t === 'lab' && conflict && cur && sameRow(cur, op) && !!cur.unsure === !!op.unsure
      && (cur.comment || '') === (op.comment || '').trim()) return saved(op, cur); // the same value was saved already
  if (op.t === 'cs' && conflict && await adopt(op)) return;
  lastError = conflict && op.t !== 'cs'
    ? 'changed in another tab or window — reload to see the latest'
    : (body.error || `the server answered ${status}`);
  queue = queue.filter(o => R(o.k) !== R(op.k));
  const s = getS(op.k), a = getA(op.k);
  switch (op.t) {
    case 'cs': s.gone = s.failed = true; for (const x of attrs.values()) x.parts = x.parts.filter(p => R(p.k) !== s.k); break;
    case 'us':
      if (cur) Object.assign(s, { sv: cur.version, srv: spanSrv(cur) });
      Object.assign(s, spanSrv(s.srv));
      break;
    case 'ds':
      s.gone = false;
      for (const l of op.links || []) { const x = getA(l.a); if (x && !x.gone) x.parts.push({ k: s.k, role: l.role }); }
      break;
    case 'lab': {
      const r = row(op.sid, op.layer);
      if (cur) Object.assign(r, { id: cur.id, sv: cur.version, srv: { value: cur.value, unsure: cur.unsure, comment: cur.comment || '' } });
      Object.assign(r, r.srv || { value: null, unsure: false, comment: '' });
      break;
    }
    case 'ca': a.gone = a.failed = true; break;
    case 'ua':
      if (cur) Object.assign(a, { sv: cur.version, srv: attrSrv(cur) });
      Object.assign(a, { attributes: { ...a.srv.attributes }, parts: a.srv.parts.map(p => ({ ...p })) });
      break;
    case 'da': a.gone = false; break;
  }
  undoStack.length = redoStack.length = 0; // history no longer matches what is saved
  hint(`Not saved: ${lastError}`);
}
// A create that was saved before (its answer lost on the way): take the saved span as ours.
async function adopt(op) {
  try {
    const [res, body] = await call('GET', D.api.annotations);
    const j = res.ok && body.spans.find(x => x.layer === op.layer && x.label === op.label && x.start === op.start && x.end === op.end);
    if (!j || [...spans.values()].some(x => x.id === j.id && !x.gone)) return false;
    await saved(op, j);
    return true;
  } catch { return false; }
}

// --- Changes, and undo/redo --------------------------------------------------------------------
const undoStack = [], redoStack = [];
function record(entry) { undoStack.push(entry); if (undoStack.length > 200) undoStack.shift(); redoStack.length = 0; }
function undo() {
  const e = undoStack.pop();
  if (!e) return hint('Nothing to undo.');
  e.undo(); redoStack.push(e); hint(`Undone: ${e.name}.`); render();
}
function redo() {
  const e = redoStack.pop();
  if (!e) return hint('Nothing to redo.');
  e.redo(); undoStack.push(e); hint(`Redone: ${e.name}.`); render();
}

const linksOf = k => liveAttrs().flatMap(a => a.parts.filter(p => R(p.k) === R(k)).map(p => ({ a: a.k, role: p.role })));
function snapSpan(k) {
  const s = getS(k);
  return { k: s.k, layer: s.layer, label: s.label, start: s.start, end: s.end, text: s.text, attributes: { ...s.attributes }, links: linksOf(k) };
}
function createSpan(x) {
  const k = newKey('n');
  act({ t: 'cs', k, layer: x.layer, label: x.label, start: x.start, end: x.end, text: sub(x.start, x.end), attributes: { ...x.attributes } });
  return k;
}
function restoreSpan(snap) { // recreate (new id) and put back into its attributions
  const k = createSpan(snap);
  alias[snap.k] = k;
  for (const l of snap.links) {
    const a = getA(l.a);
    if (a && !a.gone) updateAttr(a.k, { parts: [...a.parts, { k, role: l.role }] });
  }
  return k;
}
function deleteSpan(k) {
  const s = getS(k);
  if (!s || s.gone) return;
  act({ t: 'ds', k: s.k, links: linksOf(s.k) });
}
function updateSpan(k, x) {
  const s = liveSpan(k);
  if (!s) return;
  const label = x.label ?? s.label, was = s.label;
  const names = new Set(attrsFor(s.layer, label).map(a => a.name));
  const attributes = Object.fromEntries(Object.entries(x.attributes ?? s.attributes).filter(([n]) => names.has(n)));
  act({ t: 'us', k: s.k, label, attributes });
  if (label === was) return;
  for (const a of liveAttrs()) { // keep its attribution roles true to the new label
    const part = a.parts.find(p => R(p.k) === s.k);
    if (!part) continue;
    const role = relOf(a.relation)?.roles.find(r => r.label === label);
    const free = role && (role.multiple || !a.parts.some(p => p.role === role.name && p !== part));
    updateAttr(a.k, { parts: a.parts.flatMap(p => p !== part ? [p] : free ? [{ k: p.k, role: role.name }] : []) });
  }
}
function snapAttr(k) { const a = getA(k); return { k: a.k, relation: a.relation, attributes: { ...a.attributes }, parts: a.parts.map(p => ({ ...p })) }; }
function createAttr(x) {
  const k = newKey('m');
  act({ t: 'ca', k, relation: x.relation, attributes: { ...x.attributes }, parts: cleanParts(x.parts) });
  return k;
}
function restoreAttr(snap) { const k = createAttr(snap); alias[snap.k] = k; return k; }
const cleanParts = parts => parts.map(p => ({ k: R(p.k), role: p.role })).filter(p => liveSpan(p.k))
  .filter((p, i, all) => all.findIndex(q => q.k === p.k) === i);
function updateAttr(k, x) {
  const a = getA(k);
  if (!a || a.gone) return;
  act({ t: 'ua', k: a.k, attributes: { ...(x.attributes ?? a.attributes) }, parts: cleanParts(x.parts ?? a.parts) });
}
function deleteAttr(k) { const a = getA(k); if (a && !a.gone) act({ t: 'da', k: a.k }); }
function setRow(sid, layer, x) {
  const r = row(sid, layer);
  act({ t: 'lab', k: r.k, sid, layer, value: x.value !== undefined ? x.value : r.value,
    unsure: x.unsure ?? r.unsure, comment: x.comment ?? r.comment });
}
const pickRow = r => ({ value: r.value, unsure: r.unsure, comment: r.comment });

// Creating a cue starts an attribution (taking in the sentence's unlinked parts); a source,
// content or supplement joins the latest attribution whose cue is in its sentence (a source
// may also sit in the sentence before or after).
function autoLink(k) {
  const s = getS(k), si = sentAt(s.start);
  let made = null;
  for (const rel of RELS) {
    const role = rel.layer === s.layer && rel.roles.find(r => r.label === s.label);
    if (!role) continue;
    const live = liveAttrs().filter(a => a.relation === rel.name);
    if (role.name === rel.anchor) {
      const linked = new Set(live.flatMap(a => a.parts.map(p => R(p.k))));
      const parts = [{ k, role: role.name }];
      for (const r of rel.roles) {
        if (r === role) continue;
        const found = liveSpans().filter(x => x.layer === rel.layer && x.label === r.label && !linked.has(x.k) && sentAt(x.start) === si);
        for (const x of r.multiple ? found : found.slice(0, 1)) parts.push({ k: x.k, role: r.name });
      }
      made = createAttr({ relation: rel.name, attributes: {}, parts });
      continue;
    }
    const near = !role.multiple && !role.required;
    const target = live.filter(a => {
      const cue = liveSpan(a.parts.find(p => p.role === rel.anchor)?.k);
      const d = cue ? Math.abs(sentAt(cue.start) - si) : 9;
      return (d === 0 || (near && d === 1)) && (role.multiple || !a.parts.some(p => p.role === role.name));
    }).sort((x, y) => y.order - x.order)[0];
    if (target) updateAttr(target.k, { parts: [...target.parts, { k, role: role.name }] });
  }
  return made;
}

// User actions: each a change plus its undo entry.
function markSelection(layer, label) {
  if (!ui.sel) return hint('Select some words first: drag over them, or press Shift+→ word by word.');
  const [start, end] = ui.sel;
  if (liveSpans().some(s => s.layer === layer && s.label === label && s.start === start && s.end === end)) {
    return hint(`This text is already marked ${label}.`);
  }
  const k = createSpan({ layer, label, start, end, attributes: {} });
  const e = { name: `mark ${label}`, k, made: autoLink(k) };
  e.undo = () => {
    e.asnap = e.made && getA(e.made) && !getA(e.made).gone ? snapAttr(e.made) : null;
    if (e.asnap) deleteAttr(e.made);
    e.snap = snapSpan(e.k);
    deleteSpan(e.k);
  };
  e.redo = () => { restoreSpan(e.snap); if (e.asnap) restoreAttr(e.asnap); };
  record(e);
  ui.sel = null; ui.anchor = null;
  hint(`Marked ${label}: ${quote(sub(start, end))}. Enter edits it, z undoes.`);
  render();
}
function userDeleteSpan(k) {
  const snap = snapSpan(k);
  deleteSpan(k);
  record({ name: `delete ${snap.label}`, undo: () => restoreSpan(snap), redo: () => deleteSpan(R(snap.k)) });
  if (ui.panel && (R(ui.panel.span) === R(k))) closePanel();
  hint(`Deleted ${snap.label} ${quote(snap.text)}. z undoes.`);
  render();
}
function userUpdateSpan(k, x) {
  const s = getS(k), before = { label: s.label, attributes: { ...s.attributes } };
  updateSpan(k, x);
  const after = { label: s.label, attributes: { ...s.attributes } };
  record({ name: `change ${s.label}`, undo: () => updateSpan(R(k), before), redo: () => updateSpan(R(k), after) });
  render();
}
function userUpdateAttr(k, x) {
  const a = getA(k), before = snapAttr(k);
  updateAttr(k, x);
  const after = snapAttr(k);
  record({ name: 'change attribution', undo: () => updateAttr(R(a.k), before), redo: () => updateAttr(R(a.k), after) });
  render();
}
function userCreateAttr(x) {
  const k = createAttr(x);
  const e = { name: 'new attribution', k };
  e.undo = () => { e.snap = snapAttr(e.k); deleteAttr(e.k); };
  e.redo = () => restoreAttr(e.snap);
  record(e);
  return k;
}
function userDeleteAttr(k) {
  const snap = snapAttr(k);
  deleteAttr(k);
  record({ name: 'delete attribution', undo: () => restoreAttr(snap), redo: () => deleteAttr(R(snap.k)) });
  closePanel();
  render();
}
function userSetRow(i, layer, x) {
  const sid = SENTS[i].id, r = row(sid, layer), before = pickRow(r);
  setRow(sid, layer, x);
  const after = pickRow(r);
  record({ name: `${layer} of sentence ${i + 1}`, undo: () => setRow(sid, layer, before), redo: () => setRow(sid, layer, after) });
  render();
}
function choose(layer, value) {
  const c = CHOICES.find(x => x.name === layer), cur = row(SENTS[ui.cur].id, layer).value;
  let next;
  if (c.multiple) {
    const list = Array.isArray(cur) ? cur : [];
    next = list.includes(value) ? list.filter(v => v !== value) : [...list, value];
  } else next = cur === value ? null : value;
  userSetRow(ui.cur, layer, { value: next });
  hint(`${c.title || layer}: ${next == null || next.length === 0 ? 'cleared' : [].concat(next).join(', ')}`);
}
function toggleUnsure() {
  if (!FIRST) return;
  const r = row(SENTS[ui.cur].id, FIRST);
  userSetRow(ui.cur, FIRST, { unsure: !r.unsure });
}
function saveComment() {
  const i = Number(COMMENT.dataset.i);
  if (!FIRST || Number.isNaN(i)) return;
  const text = COMMENT.value.trim();
  if (text !== (row(SENTS[i].id, FIRST).comment || '')) userSetRow(i, FIRST, { comment: text });
}

// --- Focus, selection ----------------------------------------------------------------------------
function isDone(i) {
  return DONE_LAYERS.length > 0 && DONE_LAYERS.every(l => rows.get(rowKey(SENTS[i].id, l))?.value != null);
}
function setCur(i, scroll = true) {
  i = Math.max(0, Math.min(SENTS.length - 1, i));
  if (i !== ui.cur) { ui.caret = ui.anchor = null; if (ui.panel) closePanel(false); }
  ui.cur = i;
  history.replaceState(null, '', `#s${SENTS[i].position}`);
  render();
  if (scroll) DOC.children[i]?.scrollIntoView({ block: 'nearest' });
}
function kbMove(dir, extend) {
  const ws = words(ui.cur);
  if (!ws.length) return;
  const clamp = n => Math.max(0, Math.min(ws.length - 1, n));
  const start = ui.caret ?? (dir > 0 ? 0 : ws.length - 1);
  if (extend) {
    if (ui.anchor == null) ui.anchor = ui.focus = start;
    else ui.focus = clamp(ui.focus + dir);
    ui.caret = ui.focus;
    const lo = Math.min(ui.anchor, ui.focus), hi = Math.max(ui.anchor, ui.focus);
    ui.sel = [ws[lo][0], ws[hi][1]];
  } else {
    ui.caret = ui.caret == null ? start : clamp(ui.caret + dir);
    ui.anchor = null; ui.sel = null;
  }
  render();
}
function textOffset(node, offset) { // DOM point -> UTF-16 offset in the article text
  const r = document.createRange();
  r.setStart(DOC, 0);
  r.setEnd(node, offset);
  return r.toString().length;
}
DOC.addEventListener('mousedown', e => { if (e.button === 0) ui.drag = true; });
document.addEventListener('mouseup', e => {
  if (e.button !== 0 || GUIDE.open || !ui.drag) return;
  ui.drag = false;
  const sel = getSelection();
  const range = sel.rangeCount ? sel.getRangeAt(0) : null;
  if (range && !range.collapsed && range.intersectsNode(DOC)) {
    const all = document.createRange();
    all.selectNodeContents(DOC);
    const a = range.compareBoundaryPoints(Range.START_TO_START, all) < 0 ? 0 : textOffset(range.startContainer, range.startOffset);
    const b = range.compareBoundaryPoints(Range.END_TO_END, all) > 0 ? TEXT.length : textOffset(range.endContainer, range.endOffset);
    sel.removeAllRanges();
    const s = snap(toCp(a), toCp(b));
    if (!s) { hint('Nothing to mark there: select words.'); return render(); }
    ui.sel = s; ui.anchor = null;
    const i = sentAt(s[0]);
    if (i !== ui.cur) { ui.cur = i; ui.caret = null; history.replaceState(null, '', `#s${SENTS[i].position}`); }
    render();
    DOC.focus({ preventScroll: true });
    return;
  }
  const tag = e.target.closest('.tag, .seg[data-k]');
  if (tag) {
    const keys = (tag.dataset.k || '').split(' ').map(getS).filter(Boolean).sort((x, y) => (x.end - x.start) - (y.end - y.start));
    if (keys.length) { setCur(sentAt(keys[0].start), false); return openPanel({ span: keys[0].k }, tag.id); }
  }
  if (range && DOC.contains(e.target)) { // a click: focus that sentence, put the word caret there
    const p = toCp(textOffset(range.startContainer, range.startOffset)), i = sentAt(p);
    const w = words(i).findIndex(([, end]) => end >= p);
    ui.sel = null; ui.anchor = null;
    setCur(i, false);
    ui.caret = w < 0 ? null : w;
  }
  render();
});

// --- Keys ---------------------------------------------------------------------------------------
const typing = el => el && (el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT'
  || (el.tagName === 'INPUT' && !['radio', 'checkbox', 'button', 'submit', 'reset'].includes(el.type)));
document.addEventListener('keydown', e => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || GUIDE.open) return;
  const t = e.target;
  if (typing(t)) {
    if (e.key === 'Escape') { if (t === COMMENT) saveComment(); DOC.focus(); e.preventDefault(); }
    return;
  }
  const key = e.key.length === 1 && e.key !== 'Z' ? e.key.toLowerCase() : e.key;
  if (handleKey(key, e, t) !== false) e.preventDefault();
});
function handleKey(key, e, t) {
  if (t.type === 'radio' && key.startsWith('Arrow')) return false; // native radio group keys
  if (key === '?') return openGuide();
  if (key === 'z') return undo();
  if (key === 'Z') return redo();
  const nav = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 }[key];
  if (ui.panel) {
    if (key === 'Escape') return closePanel();
    if (key === 'Delete' && ui.panel.span) return userDeleteSpan(ui.panel.span);
    if (panelKey(key)) return;
    if (!nav) return false;
    closePanel(false);
  }
  if (nav) return setCur(ui.cur + nav);
  if (key === 'ArrowRight' || key === 'ArrowLeft') return kbMove(key === 'ArrowRight' ? 1 : -1, e.shiftKey);
  if (key === 'u') return toggleUnsure();
  if (key === 'n') return COMMENT.focus();
  if (key === 'Escape') { ui.sel = ui.anchor = ui.caret = null; HINT.textContent = ''; render(); return DOC.focus(); }
  if (key === 'Enter' || key === ' ') {
    if (t.classList?.contains('tag')) return openPanel({ span: t.dataset.k }, t.id);
    if (key === ' ' || t.closest?.('button, a, input, summary')) return false;
    const st = SENTS[ui.cur], here = liveSpans().filter(s => s.start < st.end && s.end > st.start);
    const s = here.find(x => x.k === R(ui.last || '')) || here[0];
    return s ? openPanel({ span: s.k }) : hint('No span in this sentence to edit.');
  }
  const b = HK.sentence?.[key];
  if (!b) return false;
  if (b.label) return markSelection(b.layer, b.label);
  return choose(b.layer, b.value);
}
// While a panel is open, keys set its span's attributes, then its attribution's.
function panelKey(key) {
  const s = ui.panel.span && liveSpan(ui.panel.span), a = panelAttr();
  const bs = s && HK[`span_layer:${s.layer}`]?.[key];
  if (bs && attrsFor(s.layer, s.label).some(x => x.name === bs.attribute)) {
    userUpdateSpan(s.k, { attributes: { ...s.attributes, [bs.attribute]: s.attributes[bs.attribute] === bs.value ? null : bs.value } });
    return true;
  }
  const ba = a && HK[`relation:${a.relation}`]?.[key];
  if (ba) {
    userUpdateAttr(a.k, { attributes: { ...a.attributes, [ba.attribute]: a.attributes[ba.attribute] === ba.value ? null : ba.value } });
    return true;
  }
  return false;
}

// --- Guidelines ----------------------------------------------------------------------------------
function openGuide() { if (!GUIDE.open) GUIDE.showModal(); }
$('#open-guide').addEventListener('click', openGuide);
GUIDE.addEventListener('close', () => DOC.focus({ preventScroll: true }));
for (const el of GUIDE.querySelectorAll('[data-color]')) {
  if (HEX.test(el.dataset.color)) { el.style.setProperty('--c', el.dataset.color); el.style.setProperty('--ink', inkOn(el.dataset.color)); }
}

// --- Rendering -----------------------------------------------------------------------------------
function hint(text) { HINT.textContent = text; }
function paint(el, color) { el.style.setProperty('--c', color); el.style.setProperty('--ink', inkOn(color)); }

function buildDoc() {
  const kids = [];
  let at = 0;
  SENTS.forEach((s, i) => {
    if (s.start > at) kids.push(document.createTextNode(sub(at, s.start)));
    kids.push(h('span', { class: 'sent', id: `s${s.position}`, 'data-i': i }));
    at = s.end;
  });
  if (at < CP.length) kids.push(document.createTextNode(sub(at, CP.length)));
  DOC.replaceChildren(...kids);
}
const SENT_EL = () => DOC.querySelectorAll('.sent');
function renderDoc() {
  const live = liveSpans().sort((a, b) => a.start - b.start || b.end - a.end);
  const lanes = [], lane = new Map(); // overlapping spans get stacked underlines
  for (const s of live) {
    let l = lanes.findIndex(end => end <= s.start);
    if (l < 0) l = lanes.length;
    lanes[l] = s.end; lane.set(s.k, l);
  }
  SENT_EL().forEach((el, i) => renderSentence(el, i, live, lane));
}
function renderSentence(el, i, live, lane) {
  const st = SENTS[i], sel = ui.sel, cur = i === ui.cur;
  const over = live.filter(s => s.start < st.end && s.end > st.start);
  const clip = p => Math.min(st.end, Math.max(st.start, p));
  const pts = new Set([st.start, st.end]);
  for (const s of over) { pts.add(clip(s.start)); pts.add(clip(s.end)); }
  if (sel && sel[0] < st.end && sel[1] > st.start) { pts.add(clip(sel[0])); pts.add(clip(sel[1])); }
  const cw = cur && ui.caret != null && !sel ? words(i)[ui.caret] : null;
  if (cw) { pts.add(cw[0]); pts.add(cw[1]); }
  const ps = [...pts].sort((a, b) => a - b), plan = [];
  for (let j = 0; j < ps.length - 1; j++) {
    const a = ps[j], b = ps[j + 1];
    for (const s of over) if (s.start === a) plan.push({ tag: s, sig: `T${s.k}${s.label}` });
    const cov = over.filter(s => s.start < b && s.end > a).sort((x, y) => lane.get(x.k) - lane.get(y.k));
    const cls = `seg${sel && sel[0] < b && sel[1] > a ? ' sel' : ''}${cw && cw[0] <= a && cw[1] >= b ? ' caret' : ''}${cov.length ? ' m' : ''}`;
    plan.push({ a, b, cov, cls, lanes: cov.map(s => lane.get(s.k)), sig: `${a}-${b}${cls}${cov.map(s => s.k + s.label + lane.get(s.k)).join()}` });
  }
  // Rebuild only what changed: a save answered mid-drag must not pull the text from under the mouse.
  const sig = cur + plan.map(p => p.sig).join('|');
  if (el.sig !== sig) {
    el.sig = sig;
    el.replaceChildren(...plan.map(p => p.tag ? tagFor(p.tag, cur) : segment(p)));
  }
  el.classList.toggle('cur', cur);
  el.classList.toggle('done', isDone(i));
  if (cur) el.setAttribute('aria-current', 'true'); else el.removeAttribute('aria-current');
}
function segment({ a, b, cov, cls, lanes }) {
  if (cls === 'seg') return sub(a, b);
  const seg = h('span', { class: cls }, sub(a, b));
  if (!cov.length) return seg;
  seg.dataset.k = cov.map(s => s.k).join(' ');
  seg.title = cov.map(s => `${s.label} ${quote(s.text, 40)}`).join('\n');
  const img = [], size = [], pos = [];
  cov.forEach((s, i) => {
    const c = colorOf(s);
    img.push(`linear-gradient(${c},${c})`); size.push('100% 2px'); pos.push(`0 calc(100% - ${lanes[i] * 3}px)`);
  });
  if (!cls.includes('sel')) { const c = colorOf(cov[0]) + '24'; img.push(`linear-gradient(${c},${c})`); size.push('100% calc(100% - 8px)'); pos.push('0 0'); }
  seg.style.setProperty('background-image', img.join(','));
  seg.style.setProperty('background-size', size.join(','));
  seg.style.setProperty('background-position', pos.join(','));
  return seg;
}
function tagFor(s, cur) { // the span's handle: its label as text, focusable in the current sentence
  const t = h('span', { class: 'tag', id: `tag-${s.k}`, role: 'button', tabindex: cur ? '0' : '-1', 'data-k': s.k,
    'data-label': s.label, 'aria-label': `${s.label}: ${s.text}`, title: `${s.label} ${quote(s.text)} — click or Enter to edit` });
  paint(t, colorOf(s));
  return t;
}

function buildSide() {
  const box = $('#label-buttons');
  for (const layer of CB.span_layers) {
    box.append(h('div', { class: 'group', role: 'group', 'aria-label': layer.title, title: layer.description || null },
      h('span', { class: 'group-title' }, layer.title),
      layer.labels.map(l => {
        const b = h('button', { type: 'button', class: 'lab', title: tip(l, l.hotkey), 'aria-keyshortcuts': l.hotkey || null,
          onclick: () => markSelection(layer.name, l.name) }, h('span', { class: 'chip' }), l.name, l.hotkey ? h('kbd', {}, l.hotkey) : null);
        paint(b, HEX.test(l.color) ? l.color : '#888888');
        return b;
      })));
  }
  const choices = $('#choices');
  for (const c of CHOICES) {
    choices.append(h('div', { class: 'group', role: 'group', 'aria-label': c.title, title: c.description || null },
      h('span', { class: 'group-title' }, c.title, c.required ? ' (required)' : ''),
      c.values.map(v => h('button', { type: 'button', class: 'choice', 'data-layer': c.name, 'data-value': v.name,
        title: tip(v, v.hotkey), 'aria-pressed': 'false', 'aria-keyshortcuts': v.hotkey || null,
        onclick: () => choose(c.name, v.name) }, v.hotkey ? h('kbd', {}, v.hotkey) : null, v.name.replace(/_/g, ' ')))));
  }
  UNSURE.addEventListener('change', () => { if (UNSURE.checked !== !!row(SENTS[ui.cur].id, FIRST).unsure) toggleUnsure(); });
  COMMENT.addEventListener('blur', saveComment);
  COMMENT.addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); saveComment(); DOC.focus({ preventScroll: true }); }
  });
  if (!FIRST) $('.flags').hidden = true;
}
function attrSummary(a) {
  const rel = relOf(a.relation), miss = missing(a);
  const bits = rel.roles.flatMap(r => a.parts.filter(p => p.role === r.name).map(p => `${r.name} ${quote(getS(p.k).text, 40)}`));
  return `${rel.title}: ${bits.join(' · ') || 'no parts'}${miss.length ? ` — incomplete (no ${miss.join(', ')})` : ''}`;
}
function missing(a) {
  const rel = relOf(a.relation);
  return rel ? rel.roles.filter(r => r.required && !a.parts.some(p => p.role === r.name && liveSpan(p.k))).map(r => r.name) : [];
}
function renderSide() {
  const i = ui.cur, st = SENTS[i];
  $('#sent-head').textContent = `Sentence ${i + 1} of ${SENTS.length}${isDone(i) ? ' · done' : ''}`;
  $('#sel-info').textContent = ui.sel
    ? `Selected: ${quote(sub(...ui.sel), 120)} — press a label key or button.`
    : 'No text selected: drag over words, or Shift+→ / Shift+← word by word.';
  for (const b of document.querySelectorAll('.choice')) {
    const v = row(st.id, b.dataset.layer).value;
    b.setAttribute('aria-pressed', String(v === b.dataset.value || (Array.isArray(v) && v.includes(b.dataset.value))));
  }
  if (FIRST) {
    const r = row(st.id, FIRST);
    UNSURE.checked = !!r.unsure;
    if (document.activeElement !== COMMENT) { COMMENT.value = r.comment || ''; COMMENT.dataset.i = i; }
  }
  const here = liveSpans().filter(s => s.start < st.end && s.end > st.start).sort((a, b) => a.start - b.start);
  $('#sent-spans').replaceChildren(...(here.length ? here.map(s => h('li', {}, h('button', { type: 'button', class: 'item', id: `sl-${s.k}`,
    onclick: () => openPanel({ span: s.k }, `sl-${s.k}`) }, h('span', { class: 'chip' }), `${s.label} `, h('span', { class: 'quote' }, quote(s.text)))))
    : [h('li', { class: 'muted' }, 'None yet.')]));
  for (const s of here) paint($(`#sl-${CSS.escape(s.k)}`), colorOf(s));
  const keys = new Set(here.map(s => s.k));
  const as = liveAttrs().filter(a => a.parts.some(p => keys.has(R(p.k))));
  $('#sent-attrs').replaceChildren(...(as.length ? as.map(a => h('li', {}, h('button', { type: 'button', class: `item${missing(a).length ? ' incomplete' : ''}`,
    id: `al-${a.k}`, onclick: () => openPanel({ attr: a.k }, `al-${a.k}`) }, attrSummary(a))))
    : [h('li', { class: 'muted' }, 'None: marking a cue starts one.')]));
  const done = SENTS.filter((_, j) => isDone(j)).length;
  $('#progress').value = done;
  $('#progress-text').textContent = `${done} / ${SENTS.length} sentences done`;
}

// --- The span / attribution panel --------------------------------------------------------------
function panelAttr() {
  if (!ui.panel) return null;
  if (ui.panel.attr) { const a = getA(ui.panel.attr); return a && !a.gone ? a : null; }
  const s = liveSpan(ui.panel.span);
  return s ? liveAttrs().filter(a => a.parts.some(p => R(p.k) === s.k)).sort((x, y) => y.order - x.order)[0] || null : null;
}
function openPanel(what, from) {
  ui.panel = { ...what, from: from || document.activeElement?.id || null };
  if (what.span) ui.last = R(what.span);
  render();
  PANEL.focus();
}
function closePanel(refocus = true) {
  const from = ui.panel?.from;
  ui.panel = null;
  PANEL.hidden = true;
  PANEL.replaceChildren();
  if (refocus) ((from && document.getElementById(from)) || DOC).focus({ preventScroll: true });
}
function radios(prefix, attribute, current, onpick) {
  return h('fieldset', { class: 'radios', title: attribute.description || null },
    h('legend', {}, attribute.name.replace(/_/g, ' '), attribute.required ? ' (required)' : ''),
    [{ name: '', label: 'not set' }, ...attribute.values].map(v => {
      const id = `${prefix}-${attribute.name}-${v.name || 'none'}`;
      return h('label', { class: 'radio', for: id, title: v.label ? null : tip(v, v.hotkey) },
        h('input', { type: 'radio', id, name: `${prefix}-${attribute.name}`, value: v.name, checked: (current ?? '') === v.name,
          onchange: () => onpick(v.name || null) }),
        ` ${v.label || v.name.replace(/_/g, ' ')}`, v.hotkey ? h('kbd', {}, v.hotkey) : null);
    }));
}
function spanSection(s) {
  const layer = LAYERS[s.layer];
  return [
    h('h3', { id: 'panel-title' }, h('span', { class: 'chip' }), `${s.label} `, h('span', { class: 'quote' }, quote(s.text, 120))),
    h('p', { class: 'muted' }, `${layer.title} · sentence ${sentAt(s.start) + 1}${s.id ? '' : ' · saving…'}`),
    h('fieldset', { class: 'radios' }, h('legend', {}, 'Label'), layer.labels.map(l => h('label', { class: 'radio', title: tip(l) },
      h('input', { type: 'radio', id: `pl-${l.name}`, name: 'panel-label', value: l.name, checked: l.name === s.label,
        onchange: () => userUpdateSpan(s.k, { label: l.name }) }), ` ${l.name}`))),
    attrsFor(s.layer, s.label).map(x => radios('sa', x, s.attributes[x.name],
      v => userUpdateSpan(s.k, { attributes: { ...s.attributes, [x.name]: v } }))),
    h('p', { class: 'actions' }, h('button', { type: 'button', class: 'danger', id: 'panel-delete', 'aria-keyshortcuts': 'Delete',
      onclick: () => userDeleteSpan(s.k) }, 'Delete span ', h('kbd', {}, 'Del'))),
  ];
}
function attrSection(a) {
  const rel = relOf(a.relation), miss = missing(a);
  const anchor = liveSpan(a.parts.find(p => p.role === rel.anchor)?.k) || liveSpan(a.parts[0]?.k);
  const near = anchor ? sentAt(anchor.start) : ui.cur;
  const inIt = new Set(a.parts.map(p => R(p.k)));
  return h('div', { class: 'attr' },
    h('h3', { id: ui.panel.span ? 'panel-attr-title' : 'panel-title' }, rel.title),
    miss.length ? h('p', { class: 'warn' }, `Incomplete: add ${miss.join(', ')}.`) : h('p', { class: 'ok' }, 'Complete.'),
    h('dl', { class: 'parts' }, rel.roles.flatMap(r => {
      const parts = a.parts.filter(p => p.role === r.name && liveSpan(p.k));
      const room = r.multiple || !parts.length;
      const cands = room ? liveSpans().filter(x => x.layer === rel.layer && x.label === r.label && !inIt.has(x.k)
        && Math.abs(sentAt(x.start) - near) <= 2) : [];
      return [h('dt', {}, r.name, r.required ? ' (required)' : ''), h('dd', {},
        parts.map(p => { const x = getS(p.k); return h('span', { class: 'part' }, h('button', { type: 'button', class: 'link',
          onclick: () => openPanel({ span: x.k }) }, quote(x.text, 50)), h('button', { type: 'button', class: 'small',
          'aria-label': `Remove ${r.name} ${x.text}`, onclick: () => userUpdateAttr(a.k, { parts: a.parts.filter(q => q !== p) }) }, 'remove')); }),
        !parts.length ? h('span', { class: 'muted' }, 'none ') : null,
        cands.map(x => h('button', { type: 'button', class: 'small add', onclick: () => userUpdateAttr(a.k, { parts: [...a.parts, { k: x.k, role: r.name }] }) },
          `+ ${quote(x.text, 40)}`)))];
    })),
    rel.attributes.map(x => radios('ra', x, a.attributes[x.name], v => userUpdateAttr(a.k, { attributes: { ...a.attributes, [x.name]: v } }))),
    h('p', { class: 'actions' }, h('button', { type: 'button', class: 'danger', onclick: () => userDeleteAttr(a.k) }, 'Delete attribution')));
}
function renderPanel() {
  if (!ui.panel) return;
  const s = ui.panel.span && liveSpan(ui.panel.span), a = panelAttr();
  if (!s && !a) return closePanel();
  const focusId = PANEL.contains(document.activeElement) ? document.activeElement.id : null;
  const kids = [h('button', { type: 'button', class: 'close', 'aria-label': 'Close panel', onclick: () => closePanel() }, '×')];
  if (s) kids.push(...spanSection(s).flat());
  if (s && !a) {
    const rel = RELS.find(r => r.layer === s.layer && r.roles.some(x => x.label === s.label));
    if (rel) {
      const role = rel.roles.find(x => x.label === s.label);
      kids.push(h('p', {}, h('button', { type: 'button', onclick: () => { userCreateAttr({ relation: rel.name, attributes: {}, parts: [{ k: s.k, role: role.name }] }); render(); } },
        `Start an attribution with this ${role.name}`)));
    }
  }
  if (a) kids.push(attrSection(a));
  if (s && a) {
    const others = liveAttrs().filter(x => x !== a && x.parts.some(p => R(p.k) === s.k));
    if (others.length) kids.push(h('p', {}, 'Also in: ', others.map(x => h('button', { type: 'button', class: 'link', onclick: () => openPanel({ attr: x.k }) }, attrSummary(x)))));
  }
  kids.push(h('p', { class: 'muted keys-hint' }, 'Keys set the attributes shown with them; Esc closes.'));
  PANEL.replaceChildren(...kids);
  if (s) PANEL.querySelectorAll('#panel-title .chip').forEach(c => paint(c, colorOf(s)));
  PANEL.hidden = false;
  if (focusId) document.getElementById(focusId)?.focus();
}

function render() {
  const focusId = document.activeElement && document.activeElement !== document.body ? document.activeElement.id : null;
  if (!ui.drag) renderDoc(); // the mouseup renders it
  renderSide();
  renderPanel();
  if (focusId && !document.activeElement?.id && document.getElementById(focusId)) document.getElementById(focusId).focus({ preventScroll: true });
  else if (document.activeElement === document.body) DOC.focus({ preventScroll: true });
  showSave();
}

// --- Start -----------------------------------------------------------------------------------------
buildDoc();
buildSide();
restore();
const wanted = /^#s(\d+)$/.exec(location.hash);
const fromHash = wanted ? SENTS.findIndex(s => s.position === Number(wanted[1])) : -1;
const firstOpen = SENTS.findIndex((_, i) => !isDone(i));
ui.cur = fromHash >= 0 ? fromHash : Math.max(0, firstOpen);
history.replaceState(null, '', `#s${SENTS[ui.cur].position}`);
render();
DOC.focus({ preventScroll: true });
DOC.children[ui.cur]?.scrollIntoView({ block: 'center' });
addEventListener('hashchange', () => {
  const m = /^#s(\d+)$/.exec(location.hash), i = m ? SENTS.findIndex(s => s.position === Number(m[1])) : -1;
  if (i >= 0) setCur(i);
});
ROOT.dataset.ready = 'true';
pump();
