// Sources as entities on the annotation page (docs/entities.md, "Linking a source"). With a SOURCE
// span selected, @ opens a type-ahead over the project's registry, prefilled with the span's text,
// its best match first (an entity by name or alias, one whose name the text holds) or "New source
// «text»"; Enter links the span to it: two keystrokes. A pronoun ("he", "وہ") lists the entities
// linked in this article, the nearest before it first. The link is a change of the span, so it is
// queued, saved, undone and kept in the browser as every change is (static/annotate.js). Names only
// ever enter the DOM as text.
import { page } from './annotate.js';

const { DATA, SENTS, DOC, h, btn, hint, quoted, ui, hooks, linkable, liveSpan, words, quote, entityNames, entityOf, call, touch, render } = page;
const API = DATA.entity_search;
const WAIT_MS = 1500; // how long Enter waits for the registry's answer before choosing among what is shown
const TYPING_MS = 150; // a search goes out once typing pauses this long

const BOX = h('dialog', { id: 'entity-box', class: 'entity-box', 'aria-labelledby': 'entity-title' });
const TITLE = h('h2', { id: 'entity-title' });
const INPUT = h('input', { id: 'entity-q', type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false', dir: 'auto',
  lang: DATA.document.language, 'aria-autocomplete': 'list', 'aria-controls': 'entity-list', 'aria-expanded': 'true',
  'aria-label': 'Name of the source: a person, organisation, outlet or document' });
const LIST = h('ul', { id: 'entity-list', role: 'listbox', 'aria-label': 'Sources' });
const NOTE = h('p', { id: 'entity-note', class: 'muted', role: 'status', 'aria-live': 'polite' });
BOX.append(TITLE, INPUT, LIST, NOTE, h('p', { class: 'muted keys-hint' }, h('kbd', {}, '↑'), '/', h('kbd', {}, '↓'), ' choose · ',
  h('kbd', {}, 'Enter'), ' links · ', h('kbd', {}, 'Esc'), ' closes · ', h('kbd', {}, 'z'), ' undoes a link'));
document.body.append(BOX);

let span = null, from = null, options = [], active = 0, seq = 0, searched = '', searching = Promise.resolve(), timer = 0;

// The SOURCE span @ acts on: the panel's, the focused tag's, the one just marked, the one under the
// word caret, else the sentence's first.
function target(t) {
  const source = s => (s && linkable(s.layer, s.label) ? s : null);
  const here = page.spansOf(page.cur()).filter(s => linkable(s.layer, s.label)).sort((x, y) => x.start - y.start);
  const last = liveSpan(ui.last);
  const w = ui.caret != null && words(page.cur())[ui.caret];
  return source(ui.panel?.span && liveSpan(ui.panel.span)) || source(t?.classList?.contains('tag') && liveSpan(t.dataset.k))
    || (here.includes(last) ? last : null) || (w && here.find(s => s.start < w[1] && s.end > w[0])) || here[0] || null;
}

// The entities linked on this page, nearest before `s` first, then those after it: whom a pronoun may mean.
function nearby(s) {
  const seen = new Set(), linked = [];
  for (let i = 0; i < SENTS.length; i++) for (const x of page.spansOf(i)) if (!seen.has(x) && x !== s && entityOf(x)) { seen.add(x); linked.push(x); }
  const before = linked.filter(x => x.start < s.start).sort((x, y) => y.start - x.start), after = linked.filter(x => x.start >= s.start).sort((x, y) => x.start - y.start);
  const found = new Map();
  for (const x of [...before, ...after]) {
    const key = x.entity_id ?? `new:${x.entity_name}`;
    if (!found.has(key)) found.set(key, x.entity_id != null ? { kind: 'entity', entity: { id: x.entity_id, name: entityOf(x) }, here: true }
      : { kind: 'new', name: x.entity_name, here: true });
  }
  return [...found.values()];
}

function open(t) {
  if (page.readOnly()) return hint('');
  const s = target(t);
  if (!s) return hint('No SOURCE span here: mark the source first (its label key), then @ links it to a source.');
  span = s;
  from = document.activeElement;
  TITLE.replaceChildren('Who is ', ...quoted(s.start, s.end, 80), '?');
  INPUT.value = s.text;
  BOX.showModal();
  INPUT.focus();
  INPUT.select();
  search(INPUT.value);
}

function close() {
  clearTimeout(timer);
  if (BOX.open) BOX.close();
  span = null;
  (from?.isConnected && from !== document.body ? from : DOC).focus({ preventScroll: true });
}

function search(q) {
  const mine = ++seq;
  searched = q;
  show(q, undefined);
  searching = (async () => {
    let answer = null;
    try {
      const res = await fetch(`${API}?q=${encodeURIComponent(q)}`, { credentials: 'same-origin' });
      if (res.ok) answer = await res.json();
    } catch { /* offline: this page's entities and a new one */ }
    if (mine === seq && span) show(q, answer);
  })();
}

// The options: for a pronoun or nothing typed, this page's entities; else the registry's matches and
// a new source (first when nothing matches better than somewhere inside a name); offline (answer
// null), this page's entities whose name holds the text, and a new source. `undefined`: not answered yet.
function show(q, answer) {
  const text = q.trim().replace(/\s+/g, ' '), mark = span;
  const local = nearby(mark), lower = text.toLowerCase();
  const fresh = { kind: 'new', name: text };
  let note = '';
  if (!text || answer?.pronoun) {
    options = local;
    note = text ? `${quote(text)} is a pronoun: choose whom it refers to, or type a name.` : 'Type a name, or choose a source of this article.';
  } else if (answer) {
    const found = answer.entities.map(entity => ({ kind: 'entity', entity }));
    const offer = answer.new.problem ? [] : [fresh];
    options = found.some(o => o.entity.match !== 'substring') ? [...found, ...offer] : [...offer, ...found];
    if (answer.new.problem && !found.length) note = answer.new.problem;
  } else {
    options = [...local.filter(o => (o.entity?.name ?? o.name).toLowerCase().includes(lower)), fresh];
    if (answer === null) note = 'The registry cannot be reached: a new source is made when the link is saved.';
  }
  if (entityOf(mark)) options.push({ kind: 'unlink' });
  active = 0;
  NOTE.textContent = note;
  LIST.replaceChildren(...options.map((o, i) => {
    const li = h('li', { id: `entity-opt-${i}`, role: 'option', class: 'entity-option', 'aria-selected': String(i === active), 'data-kind': o.kind },
      ...describe(o, mark));
    li.addEventListener('mousedown', e => { e.preventDefault(); active = i; choose(); });
    return li;
  }));
  INPUT.setAttribute('aria-activedescendant', options.length ? 'entity-opt-0' : '');
}

function describe(o, s) {
  if (o.kind === 'unlink') return ['Unlink from ', h('bdi', {}, entityOf(s))];
  if (o.kind === 'new') return ['New source ', '«', h('bdi', { dir: 'auto' }, o.name), '»', o.here ? h('span', { class: 'muted' }, ' (in this article, not saved yet)') : null];
  const e = o.entity, bits = [e.kind, e.affiliation].filter(Boolean);
  const alias = o.entity.match === 'alias' && o.entity.matched;
  return [h('bdi', { dir: 'auto', class: 'entity-name' }, e.name), alias ? [' ', h('span', { class: 'muted' }, 'also ', h('bdi', {}, alias))] : null,
    bits.length ? h('span', { class: 'muted' }, ` · ${bits.join(' · ')}`) : null, o.here ? h('span', { class: 'muted' }, ' · in this article') : null];
}

function move(step) {
  if (!options.length) return;
  active = (active + step + options.length) % options.length;
  LIST.querySelectorAll('[role=option]').forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
  INPUT.setAttribute('aria-activedescendant', `entity-opt-${active}`);
  document.getElementById(`entity-opt-${active}`)?.scrollIntoView({ block: 'nearest' });
}

async function choose() {
  const mark = span;
  clearTimeout(timer);
  if (INPUT.value !== searched) search(INPUT.value); // typed since the last search went out
  await Promise.race([searching, new Promise(resolve => setTimeout(resolve, WAIT_MS))]);
  if (span !== mark) return; // closed meanwhile
  const o = options[active];
  if (!o) return;
  close();
  const s = liveSpan(mark.k);
  if (!s) return hint('That span is gone.');
  if (o.kind === 'entity') {
    entityNames.set(o.entity.id, o.entity.name);
    link(s, { entity_id: o.entity.id }, o.entity.name);
  } else if (o.kind === 'new') link(s, { entity_name: o.name }, o.name);
  else link(s, { entity_id: null }, null);
}

function link(s, x, name) {
  page.userUpdateSpan(s.k, x);
  hint(name ? `Linked ${quote(s.text, 40)} to ${quote(name)}. z undoes.` : `Unlinked ${quote(s.text, 40)}. z undoes.`);
}

INPUT.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => search(INPUT.value), TYPING_MS);
});
BOX.addEventListener('keydown', e => {
  e.stopPropagation(); // the page's keys wait until the box is closed
  if (e.isComposing) return; // an input method (Urdu, Arabic) is still composing
  if (e.key === 'Escape') { e.preventDefault(); close(); } else if (e.key === 'ArrowDown') { e.preventDefault(); move(1); } else if (e.key === 'ArrowUp') { e.preventDefault(); move(-1); } else if (e.key === 'Enter') { e.preventDefault(); choose(); }
});
BOX.addEventListener('cancel', e => { e.preventDefault(); close(); });

hooks.link = t => open(t);

// --- # : the linked entity's fields, on this page (docs/entities.md, "Editing a source on the page").
// Whoever may change it (its maker, a supervisor) edits them; anyone else sees them read-only, with
// why. Gender is what a person records: empty unless someone chose it, never guessed.
const entityUrl = id => new URL(`../../entities/${id}`, new URL(API, location.href)).href; // API is /api/projects/N/entities
const EDITOR = h('dialog', { id: 'entity-editor', class: 'entity-box entity-editor', 'aria-labelledby': 'entity-editor-title' });
const FORM = h('form', { method: 'dialog', novalidate: '' });
const FIELD_LABELS = { name: 'Name', aliases: 'Other names (one per line)', kind: 'Kind', anonymity: 'Anonymity', affiliation: 'Affiliation',
  wikidata_id: 'Wikidata id', gender: 'Gender' };
const shownValue = v => v.replace(/_/g, ' ');
let editing = null, editSpan = null, editFrom = null;

function field(name, entity, choices) {
  const id = `entity-edit-${name}`, text = { dir: 'auto', lang: DATA.document.language, spellcheck: 'false' };
  let control;
  if (name in choices) {
    control = h('select', { id, name }, h('option', { value: '' }, name === 'gender' ? 'not set (not known, not applicable)' : 'not set'),
      ...choices[name].map(v => h('option', { value: v }, shownValue(v))));
    control.value = entity[name] ?? '';
  } else if (name === 'aliases') {
    control = h('textarea', { id, name, rows: 3, ...text });
    control.value = entity.aliases.join('\n');
  } else {
    control = h('input', { id, name, type: 'text', autocomplete: 'off', ...(name === 'wikidata_id' ? { dir: 'ltr', placeholder: 'Q42' } : text) });
    control.value = entity[name] ?? '';
  }
  control.disabled = !entity.editable;
  return h('p', { class: 'entity-field' }, h('label', { for: id }, FIELD_LABELS[name]), control);
}

async function openEditor(t) {
  if (EDITOR.open) return;
  const s = target(t);
  if (!s) return hint('No SOURCE span here: mark the source first, link it with @, then # edits its source.');
  if (s.entity_id == null) return hint(s.entity_name ? 'This link is not saved yet: # edits its source once it is.' : 'This span is not linked to a source: @ links it.');
  let res = null, entity = {};
  try { [res, entity] = await call('GET', entityUrl(s.entity_id)); } catch { /* offline */ }
  if (!res?.ok) return hint(res ? `The source cannot be shown: ${entity.error || res.status}` : 'The registry cannot be reached: try again when the network is back.');
  editing = entity;
  editSpan = s;
  editFrom = document.activeElement;
  const choices = Object.fromEntries(Object.entries(entity.choices).filter(([, values]) => values.length));
  const fields = ['name', 'aliases', 'kind', 'anonymity', 'affiliation', 'wikidata_id', 'gender'].filter(n => n !== 'kind' && n !== 'anonymity' || n in choices);
  FORM.replaceChildren(
    h('h2', { id: 'entity-editor-title' }, 'Source: ', h('bdi', { dir: 'auto', class: 'entity-name' }, entity.name)),
    entity.editable ? null : h('p', { id: 'entity-read-only', class: 'muted' }, `Read-only: ${entity.read_only}.`),
    ...fields.map(n => field(n, entity, choices)),
    h('p', { id: 'entity-edit-note', class: 'error', role: 'status', 'aria-live': 'polite' }),
    h('p', { class: 'entity-buttons' }, entity.editable ? h('button', { type: 'submit', value: 'save' }, 'Save') : null, ' ',
      h('button', { type: 'button', class: 'ghost', onclick: () => closeEditor() }, 'Close ', h('kbd', {}, 'Esc'))));
  if (!entity.editable) EDITOR.setAttribute('aria-describedby', 'entity-read-only'); else EDITOR.removeAttribute('aria-describedby');
  EDITOR.showModal();
  FORM.querySelector(entity.editable ? '#entity-edit-name' : 'button.ghost').focus();
}

function closeEditor() {
  if (EDITOR.open) EDITOR.close();
  const tag = editSpan && DOC.querySelector(`.tag[data-k="${CSS.escape(editSpan.k)}"]`);
  (tag || (editFrom?.isConnected && editFrom !== document.body ? editFrom : DOC)).focus({ preventScroll: true });
  editing = editSpan = null;
}

async function saveEditor() {
  const entity = editing, value = n => FORM.elements[n] ? FORM.elements[n].value.trim() : undefined;
  const body = { version: entity.version, aliases: value('aliases').split('\n').map(a => a.trim()).filter(Boolean) };
  for (const n of ['name', 'kind', 'anonymity', 'affiliation', 'wikidata_id', 'gender']) if (FORM.elements[n]) body[n] = value(n) || null;
  let res = null, saved = {};
  try { [res, saved] = await call('PATCH', entityUrl(entity.id), body); } catch { /* offline */ }
  if (editing !== entity) return;
  if (!res?.ok) {
    FORM.querySelector('#entity-edit-note').textContent = res ? saved.error || `not saved (${res.status})` : 'Not saved: the server cannot be reached.';
    const bad = saved.field && FORM.elements[saved.field];
    if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
    return;
  }
  named(saved.id, saved.name);
  hint(`Saved the source ${quote(saved.name)}.`);
  closeEditor();
}

// Draw again every tag of the page linked to entity `id`, now called `name`.
function named(id, name) {
  entityNames.set(id, name);
  for (let i = 0; i < SENTS.length; i++) for (const x of page.spansOf(i)) if (x.entity_id === id) touch(x);
  render();
}

FORM.addEventListener('submit', e => { e.preventDefault(); if (editing?.editable) saveEditor(); });
EDITOR.append(FORM);
EDITOR.addEventListener('keydown', e => {
  e.stopPropagation(); // the page's keys wait until the editor is closed
  if (e.key === 'Escape' && !e.isComposing) { e.preventDefault(); closeEditor(); }
});
EDITOR.addEventListener('cancel', e => { e.preventDefault(); closeEditor(); });
document.body.append(EDITOR);
hooks.editEntity = t => openEditor(t);

// An entity id the page has no name for (a span re-pointed to a merge's survivor since the page
// was loaded): "…" until the registry names it, then the name; never a bare id.
const asked = new Set();
hooks.unknownEntity = id => {
  if (!asked.has(id)) {
    asked.add(id);
    call('GET', entityUrl(id)).then(([res, entity]) => { if (res.ok) named(id, entity.name); else asked.delete(id); })
      .catch(() => asked.delete(id));
  }
  return '…';
};

// In a SOURCE span's panel: the entity it is linked to, with Link (or Change) and Unlink.
hooks.spanPanel = s => linkable(s.layer, s.label) && h('p', { class: 'entity-line' }, 'Source: ',
  entityOf(s) ? h('bdi', { class: 'entity-name', dir: 'auto' }, entityOf(s)) : h('span', { class: 'muted' }, 'not linked'), ' ',
  btn({ class: 'small', 'aria-keyshortcuts': '@', onclick: () => open() }, entityOf(s) ? 'Change ' : 'Link ', h('kbd', {}, '@')),
  entityOf(s) && [' ', btn({ class: 'small', onclick: () => link(s, { entity_id: null }, null) }, 'Unlink')],
  s.entity_id != null && [' ', btn({ class: 'small', 'aria-keyshortcuts': '#', onclick: () => openEditor() }, 'Edit source ', h('kbd', {}, '#'))]);
