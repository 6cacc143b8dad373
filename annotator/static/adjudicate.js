// The adjudication page (docs/adjudication.md): the annotation page editing gold, plus a panel
// of every annotator's work on the sentence in focus. Taking a value or a span goes through the
// annotation page's own changes, so undo, the save queue, offline retry and conflicts work as
// they do for annotators. Text only ever enters the DOM as text.
import { page } from './annotate.js';

const $ = (s, r = document) => r.querySelector(s);
const { DATA, SENTS, CHOICES, RELS, h, btn, hint } = page;
const AD = JSON.parse($('#adjudication-data').textContent);
const BODY = $('#adj-body'), PREFILL = $('#prefill'), GUIDE = $('#guide');
const ANNS = AD.annotators, PROPOSAL = AD.proposal || {};
const same = (x, y) => JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
// A choice layer's value (or values) as annotators read them: the codebook's display names.
const shown = (layer, v) => (v == null ? '—' : [].concat(v).map(x => {
  const value = CHOICES.find(c => c.name === layer)?.values.find(y => y.name === x);
  return value ? page.displayed(value) : x;
}).join(', '));
const nameOf = id => ANNS.find(a => String(a.id) === String(id))?.name ?? `annotator ${id}`;
const names = ids => (ids || []).map(nameOf).join(', ');
const spansOf = a => AD.spans?.[a.id] || [];
const sentence = () => SENTS[page.cur()];
const valueOf = (a, layer) => AD.labels?.[sentence().id]?.[layer]?.[a.id];
const inGold = s => page.hasSpan(s);
const here = list => (list || []).filter(x => x.sentence_id === sentence().id);

// --- Attributions as units: { relation, attributes, parts: [{ role, span: { layer, label, start, end, text, attributes } }] }
const relOf = name => RELS.find(r => r.name === name);
const relTitle = name => relOf(name)?.title ?? name;
const roleShown = (rel, role) => { const r = rel?.roles.find(x => x.name === role); return r ? page.displayed(r) : role; };
const UNITS = ANNS.map(a => { // each annotator's attributions, their parts with their spans
  const byId = new Map(spansOf(a).map(s => [s.id, s]));
  return (AD.attributions?.[a.id] || []).map(x => ({ id: x.id, relation: x.relation, attributes: x.attributes || {},
    parts: x.parts.map(p => ({ role: p.role, span: byId.get(p.span_id) })).filter(p => p.span) }));
});
const anchorOf = u => (u.parts.find(p => p.role === relOf(u.relation)?.anchor) || u.parts[0])?.span;
const isHere = u => { const s = anchorOf(u); return !!s && page.sentAt(s.start) === page.cur(); }; // by its cue's sentence
const setAttrs = x => Object.fromEntries(Object.entries(x || {}).filter(([, v]) => v != null));
const partKey = p => [p.role, p.span.layer, p.span.label, p.span.start, p.span.end].join(':');
const sameUnit = (x, y) => x.relation === y.relation && same(setAttrs(x.attributes), setAttrs(y.attributes))
  && same(x.parts.map(partKey).sort(), y.parts.map(partKey).sort());
const overlaps = (x, y) => x.start < y.end && y.start < x.end;
const aligned = (x, y) => x.relation === y.relation && x.parts.some(p => y.parts.some(q => p.role === q.role && overlaps(p.span, q.span)));
const goldUnits = () => page.unitsAt(page.cur());
const goldHas = u => goldUnits().some(g => sameUnit(g, u));
function goldTwin(u) { // the gold attribution u would replace: the one with its cue (or, without cues, a part in common)
  const a = anchorOf(u), rel = relOf(u.relation);
  return goldUnits().find(g => {
    if (g.relation !== u.relation) return false;
    const b = g.parts.find(p => p.role === rel?.anchor)?.span;
    return a && b && u.parts.some(p => p.role === rel?.anchor) ? page.sameSpan(a, b) : g.parts.some(p => u.parts.some(q => partKey(p) === partKey(q)));
  });
}
function acceptUnit(u, name) { // into gold as one undo step (replacing its twin there)
  if (page.readOnly() || goldHas(u)) return;
  page.userUnit({ relation: u.relation, attributes: setAttrs(u.attributes),
    parts: u.parts.map(p => ({ role: p.role, layer: p.span.layer, label: p.span.label, start: p.span.start, end: p.span.end, attributes: { ...p.span.attributes } })) },
  name, goldTwin(u)?.k);
}
const unitText = u => u.parts.map(p => `${roleShown(relOf(u.relation), p.role)} “${p.span.text}”`).join(' · ');
function acceptAnnotatorUnit(n) {
  const a = ANNS[n];
  if (!a) return hint(`There is no annotator ${n + 1} on this document.`);
  const units = UNITS[n].filter(isHere), u = units.find(x => !goldHas(x));
  if (!u) return hint(units.length ? `Gold already has ${a.name}'s attributions of this sentence.` : `${a.name} has no attribution with its cue in this sentence.`);
  acceptTheirs(a, u);
}
function acceptTheirs(a, u) {
  acceptUnit(u, `${a.name}'s attribution`);
  hint(`Accepted ${a.name}'s attribution: ${unitText(u)}. z undoes.`);
}
// The proposal's attribution items (services/adjudication.proposal): decided parts, open parts and attributes.
const proposedUnit = item => ({ relation: item.relation, attributes: item.attributes || {},
  parts: (item.parts || []).map(p => ({ role: p.role, span: { layer: item.layer, label: p.label, start: p.start, end: p.end, text: p.text, attributes: {} } })) });
const proposedHere = () => (PROPOSAL.attributions || []).filter(item => {
  const rel = relOf(item.relation), extents = [...item.parts || [], ...(item.open_parts || []).flatMap(o => o.candidates)];
  const at = (item.parts || []).find(p => p.role === rel?.anchor) || (item.open_parts || []).find(o => o.role === rel?.anchor)?.candidates[0] || extents[0];
  return at && page.sentAt(at.start) === page.cur();
});
const stillOpen = item => [...(item.open_parts || []).map(o => roleShown(relOf(item.relation), o.role)), ...(item.open_attributes || []).map(o => o.name)];

// Annotators' spans: the full text, with the words none of the others' overlapping spans of its
// label includes marked (<mark class="diff-extra">; all of it when none overlaps), as review
// marks them (annotator/spandiff.py).
function diffQuoted(s, others) {
  const theirs = others.filter(o => o.layer === s.layer && o.label === s.label && overlaps(o, s));
  const q = page.quoted(s.start, s.end, Infinity), chars = Array.from(q[1].textContent);
  if (!others.length || theirs.some(o => o.start <= s.start && s.end <= o.end)) return q; // no one else, or all of it in another's
  const cuts = [...new Set([s.start, s.end, ...theirs.flatMap(o => [o.start, o.end])])].filter(p => p >= s.start && p <= s.end).sort((x, y) => x - y), out = [];
  for (let i = 0; i < cuts.length - 1; i++) {
    const [a, b] = [cuts[i], cuts[i + 1]], text = chars.slice(a - s.start, b - s.start).join('');
    if (theirs.some(o => o.start <= a && b <= o.end)) { out.push(text); continue; }
    const [, lead, core, tail] = /^([^\p{L}\p{N}]*)([\s\S]*?)([^\p{L}\p{N}\p{M}]*)$/u.exec(text); // whole words: spaces and punctuation stay outside
    out.push(lead, core && h('mark', { class: 'diff-extra', title: 'only this annotator includes it' }, core), tail);
  }
  q[1].replaceChildren(...out.filter(Boolean));
  return q;
}
const othersOf = a => ANNS.filter(b => b !== a).flatMap(spansOf);

// --- Taking values and spans
function takeAnnotator(n) {
  const a = ANNS[n], i = page.cur(), st = sentence();
  if (!a) return hint(`There is no annotator ${n + 1} on this document.`);
  const values = CHOICES.map(c => [c, valueOf(a, c.name)]).filter(([, v]) => v != null);
  if (!values.length) return hint(`${a.name} gave sentence ${i + 1} no values.`);
  page.grouped(`${a.name}'s values for sentence ${i + 1}`, () => {
    for (const [c, value] of values) if (!same(page.row(st.id, c.name).value, value)) page.userSetRow(i, c.name, { value });
  });
  hint(`Took ${a.name}'s values: ${values.map(([c, v]) => `${c.title} ${shown(c.name, v)}`).join(' · ')}. z undoes.`);
}
function takeProposal() {
  const i = page.cur(), st = sentence(), ties = here(PROPOSAL.ties);
  const labels = here(PROPOSAL.labels).filter(l => !same(page.row(st.id, l.layer).value, l.value));
  const spans = (PROPOSAL.spans || []).filter(s => page.inSent(s, st) && !inGold(s));
  const items = proposedHere(), units = items.filter(item => (item.parts || []).length && !goldHas(proposedUnit(item)) && !goldTwin(proposedUnit(item)));
  const open = items.flatMap(stillOpen);
  const left = [ties.length && 'the ties', open.length && `in its attributions ${[...new Set(open)].join(', ')}`].filter(Boolean).join('; ');
  if (!labels.length && !spans.length && !units.length) {
    return hint(left ? `Gold has the proposal here; open for you: ${left}. Take an annotator's value or attribution, or choose.`
      : 'Nothing to take: gold already has the proposal for this sentence.');
  }
  page.grouped(`the proposal for sentence ${i + 1}`, () => {
    for (const l of labels) page.userSetRow(i, l.layer, { value: l.value });
    for (const item of units) acceptUnit(proposedUnit(item), 'the proposed attribution');
    // The proposal's attributions are the ones it makes: a proposed cue starts none of its own.
    for (const s of spans) if (!inGold(s)) page.markSpan({ layer: s.layer, label: s.label, start: s.start, end: s.end, attributes: { ...s.attributes } }, false);
  });
  hint(`Took the proposal for sentence ${i + 1}${left ? `; open for you: ${left}` : ''}. z undoes.`);
}
function takeOrHeld(a, s) { // a span's Accept button, or that gold holds it
  return inGold(s) ? h('span', { class: 'agrees' }, ' ✓ in gold')
    : btn({ class: 'small adj-take', id: `take-${a.id}-${s.id}`, 'aria-label': `Accept ${a.name}'s ${page.labelShown(s.layer, s.label)} ${s.text}`,
      onclick: () => takeSpan(s, `take-${a.id}-${s.id}`) }, 'Accept');
}
function takeSpan(s, id) {
  takeWith(id, () => page.markSpan({ layer: s.layer, label: s.label, start: s.start, end: s.end, attributes: { ...s.attributes } }) && page.render());
}
function takeUnit(a, u, id) {
  takeWith(id, () => acceptTheirs(a, u));
}
function takeWith(id, take) { // the focus then goes to the next Accept button
  const buttons = [...BODY.querySelectorAll('.adj-take')], at = buttons.findIndex(b => b.id === id);
  take();
  const rest = [...BODY.querySelectorAll('.adj-take')];
  (rest[Math.min(at, rest.length - 1)] || page.DOC).focus({ preventScroll: true });
}
function moveTake(dir) {
  const buttons = [...BODY.querySelectorAll('.adj-take')];
  if (!buttons.length) return hint('No annotator span or attribution here that gold lacks.');
  const at = buttons.indexOf(document.activeElement);
  const next = at < 0 ? (dir > 0 ? 0 : buttons.length - 1) : Math.max(0, Math.min(buttons.length - 1, at + dir));
  buttons[next].focus();
  buttons[next].scrollIntoView({ block: 'nearest' });
}

// --- The panel: per annotator their values, spans and attributions here, then the proposal
function spanLine(s, extra, others = []) {
  const chip = h('span', { class: 'chip' });
  page.paint(chip, page.colorOf(s));
  return [chip, `${page.labelShown(s.layer, s.label)} `, h('span', { class: 'quote' }, diffQuoted(s, others)), extra];
}
function unitParts(u, others, a) { // role: each part's full text, the words others' parts leave out marked
  const rel = relOf(u.relation);
  return h('dl', { class: 'adj-parts' }, (rel?.roles || []).map(r => {
    const parts = u.parts.filter(p => p.role === r.name);
    return [h('dt', {}, page.displayed(r)), h('dd', {}, parts.length
      ? parts.map((p, n) => [n ? ' · ' : null, h('span', { class: 'quote' }, diffQuoted(p.span, others)), a && takeOrHeld(a, p.span)])
      : h('span', { class: r.required ? 'warn' : 'muted' }, r.required ? 'none (required)' : '—'))];
  }));
}
function unitAttributes(u, rivals) { // every attribute; one another annotator set otherwise is marked ≠
  const rel = relOf(u.relation);
  return h('p', { class: 'adj-attrs' }, (rel?.attributes || []).map((x, n) => {
    const v = u.attributes[x.name] ?? null, differs = rivals.some(w => (w.attributes[x.name] ?? null) !== v);
    const value = v == null ? '—' : page.displayed(x.values.find(y => y.name === v) || { name: v });
    return [n ? ' · ' : null, `${page.displayed(x)}: `, differs ? h('span', { class: 'diff-value' }, value, ' ', h('span', { class: 'diff-cue', title: 'another annotator chose otherwise' }, '≠')) : value];
  }));
}
function annotatorUnits(a, n) {
  const units = UNITS[n].filter(isHere);
  if (!units.length) return null;
  const rivals = u => UNITS.flatMap((list, m) => (m === n ? [] : list.filter(w => aligned(u, w))));
  const others = othersOf(a);
  return h('ul', { class: 'adj-units' }, units.map(u => h('li', { class: 'adj-unit' },
    h('p', { class: 'adj-unit-head' }, relTitle(u.relation), ' ',
      goldHas(u) ? h('span', { class: 'agrees' }, '✓ in gold')
        : btn({ class: 'small adj-take', id: `unit-${a.id}-${u.id}`, 'aria-label': `Accept ${a.name}'s attribution: ${unitText(u)}`,
          onclick: () => takeUnit(a, u, `unit-${a.id}-${u.id}`) }, 'Accept attribution')),
    unitParts(u, others, a), unitAttributes(u, rivals(u)))));
}
function proposedUnitItem(item) { // decided parts and attributes, and what stays open (never hidden)
  const rel = relOf(item.relation), attributes = rel?.attributes || [];
  const open = h('strong', {}, 'open ');
  const parts = (rel?.roles || []).flatMap(r => {
    const decided = (item.parts || []).filter(p => p.role === r.name), tie = (item.open_parts || []).filter(o => o.role === r.name);
    if (!decided.length && !tie.length) return [];
    const candidates = tie.flatMap(o => o.candidates);
    return [h('dt', {}, page.displayed(r)), h('dd', {},
      decided.map((p, n) => [n ? ' · ' : null, h('span', { class: 'quote' }, page.quoted(p.start, p.end, Infinity)), h('span', { class: 'muted' }, ` (${names(p.agreed)})`)]),
      tie.length ? h('span', { class: 'adj-open' }, open.cloneNode(true), candidates.map((c, n) => [n ? ' or ' : null,
        h('span', { class: 'quote' }, diffQuoted({ ...c, layer: item.layer, label: tie[0].label }, candidates.filter(x => x !== c).map(x => ({ ...x, layer: item.layer, label: tie[0].label })))),
        h('span', { class: 'muted' }, ` (${names(c.annotators)})`)])) : null)];
  });
  const attrs = attributes.flatMap(x => {
    const tie = (item.open_attributes || []).find(o => o.name === x.name), v = item.attributes?.[x.name];
    const valueShown = name => page.displayed(x.values.find(y => y.name === name) || { name });
    if (tie) return [h('span', { class: 'adj-open' }, open.cloneNode(true), `${page.displayed(x)}: `,
      tie.candidates.map(c => `${valueShown(c.value)} (${names(c.annotators)})`).join(' · '))];
    return v == null ? [] : [h('span', {}, `${page.displayed(x)}: ${valueShown(v)}`, h('span', { class: 'muted' }, ` (${names(item.attribute_agreed?.[x.name])})`))];
  });
  return h('li', { class: 'adj-proposed adj-unit' },
    h('p', { class: 'adj-unit-head' }, relTitle(item.relation), h('span', { class: 'muted' }, ` (${names(item.agreed)})`),
      item.in_gold || goldHas(proposedUnit(item)) ? h('span', { class: 'agrees' }, ' ✓ in gold') : null),
    h('dl', { class: 'adj-parts' }, parts), h('p', { class: 'adj-attrs' }, attrs.map((x, n) => [n ? ' · ' : null, x])));
}
function annotatorBlock(a, n) {
  const st = sentence(), goldOf = layer => page.row(st.id, layer).value;
  const inUnits = new Set(UNITS[n].filter(isHere).flatMap(u => u.parts.map(p => p.span.id))); // shown with their attribution
  const spans = spansOf(a).filter(s => page.inSent(s, st) && !inUnits.has(s.id)).sort((x, y) => x.start - y.start);
  return h('li', { class: 'adj-ann' },
    h('p', { class: 'adj-who' }, n < 9 && h('kbd', { title: `Shift+${n + 1}: take ${a.name}'s values; Shift+A then ${n + 1}: accept their attribution` }, `⇧${n + 1}`), ` ${a.name}`),
    h('dl', { class: 'adj-values' }, CHOICES.map(c => {
      const v = valueOf(a, c.name), agrees = v != null && same(v, goldOf(c.name));
      return [h('dt', {}, c.title), h('dd', { class: agrees ? 'agrees' : v == null ? 'muted' : '' }, shown(c.name, v), agrees && ' ✓')];
    })),
    spans.length ? h('ul', { class: 'adj-spans' }, spans.map(s => h('li', {}, spanLine(s, takeOrHeld(a, s), othersOf(a)))))
      : !inUnits.size && h('p', { class: 'muted' }, 'No spans here.'),
    annotatorUnits(a, n));
}
function proposalBlock() {
  const st = sentence(), labels = here(PROPOSAL.labels), ties = here(PROPOSAL.ties);
  const spans = (PROPOSAL.spans || []).filter(s => page.inSent(s, st));
  const layerTitle = name => CHOICES.find(c => c.name === name)?.title ?? name;
  const items = [
    ...labels.map(l => h('li', { class: 'adj-proposed' }, `${layerTitle(l.layer)}: ${shown(l.layer, l.value)}`,
      h('span', { class: 'muted' }, ` (${names(l.agreed)})`), same(page.row(st.id, l.layer).value, l.value) && h('span', { class: 'agrees' }, ' ✓ in gold'))),
    ...ties.map(t => h('li', { class: 'adj-open' }, h('strong', {}, 'open '), `${layerTitle(t.layer)}: a tie — `,
      Object.entries(t.values || {}).map(([id, v]) => `${nameOf(id)} ${shown(t.layer, v)}`).join(' · '))),
    ...(PROPOSAL.span_ties || []).filter(t => t.candidates.some(c => page.inSent(c, st))).map(t => h('li', { class: 'adj-open' },
      h('strong', {}, 'open '), `${t.layer} spans: a tie between `,
      t.candidates.flatMap((c, i) => [i ? ' and ' : null, `${page.labelShown(t.layer, c.label)} `, ...page.quoted(c.start, c.end, 40)]), ` (${names(t.annotators)})`)),
    ...spans.map(s => h('li', { class: 'adj-proposed' }, spanLine(s,
      [h('span', { class: 'muted' }, ` (${names(s.agreed)})`), inGold(s) && h('span', { class: 'agrees' }, ' ✓ in gold')]))),
    ...proposedHere().map(proposedUnitItem),
  ];
  return h('div', { class: 'adj-proposal' }, h('h4', {}, 'Proposal ', h('kbd', { title: 'p: take the proposal for this sentence' }, 'p')),
    items.length ? h('ul', { class: 'items' }, items) : h('p', { class: 'muted' }, 'No proposal for this sentence.'));
}
let sig = null;
function renderPanel() {
  const st = sentence();
  const next = JSON.stringify([page.cur(), CHOICES.map(c => page.row(st.id, c.name).value),
    page.spansOf(page.cur()).map(s => [s.layer, s.label, s.start, s.end]), goldUnits().map(g => [g.attributes, g.parts.map(partKey)])]);
  if (PREFILL) PREFILL.hidden = page.readOnly() && DATA.state.status !== 'not_started';
  if (next === sig) return;
  sig = next;
  BODY.replaceChildren(
    ANNS.length ? h('ol', { class: 'adj-anns' }, ANNS.map(annotatorBlock)) : h('p', { class: 'muted' }, 'No annotator has worked on this document yet.'),
    proposalBlock());
}

// --- Keys: read before the annotation page's (capture), which skips what is handled here
let unitNext = false; // Shift+A was pressed: the next digit names whose attribution to accept
document.addEventListener('keydown', e => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || GUIDE.open || page.typing(e.target)) return;
  if (['Shift', 'CapsLock'].includes(e.key)) return;
  const digit = /^Digit([1-9])$/.exec(e.code), wanted = unitNext;
  unitNext = false;
  let done = true;
  if (wanted && digit) acceptAnnotatorUnit(Number(digit[1]) - 1);
  else if (wanted && e.key === 'Escape') hint('');
  else if (e.shiftKey && e.key === 'A') {
    unitNext = true;
    hint(`Accept whose attribution in this sentence? ${ANNS.slice(0, 9).map((a, n) => `${n + 1}: ${a.name}`).join(' · ')}`);
  } else if (e.shiftKey && digit) takeAnnotator(Number(digit[1]) - 1);
  else if (e.key === 'p' || e.key === 'P') takeProposal();
  else if (e.shiftKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) moveTake(e.key === 'ArrowDown' ? 1 : -1);
  else if (e.key === 'Escape' && BODY.contains(e.target)) page.DOC.focus({ preventScroll: true });
  else done = false;
  if (done) e.preventDefault();
}, true);

async function post(url, what) { // then reload: the page starts from the saved gold, with its versions
  if (page.queued()) return hint(`Wait until every change is saved, then ${what}.`);
  let res = null, body = {};
  try { [res, body] = await page.call('POST', url, {}); } catch { /* offline */ }
  if (res?.ok) location.reload();
  else hint(body.error || `Could not ${what}; try again.`);
}
PREFILL?.addEventListener('click', () => post(DATA.api.proposal, 'pre-fill from the proposal'));
$('#start')?.addEventListener('click', () => post(DATA.api.start, 'start adjudicating'));

page.afterRender.push(renderPanel);
renderPanel();
$('#annotate').dataset.adjudicating = 'ready';
