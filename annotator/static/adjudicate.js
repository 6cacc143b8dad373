// The adjudication page (docs/adjudication.md): the annotation page editing gold, plus a panel
// of every annotator's work on the sentence in focus. Taking a value or a span goes through the
// annotation page's own changes, so undo, the save queue, offline retry and conflicts work as
// they do for annotators. Text only ever enters the DOM as text.
import { page } from './annotate.js';

const $ = (s, r = document) => r.querySelector(s);
const { DATA, SENTS, CHOICES, h, btn, hint } = page;
const AD = JSON.parse($('#adjudication-data').textContent);
const BODY = $('#adj-body'), PREFILL = $('#prefill'), GUIDE = $('#guide');
const ANNS = AD.annotators, PROPOSAL = AD.proposal || {};
const same = (x, y) => JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
const shown = v => (v == null ? '—' : [].concat(v).join(', ')); // names as the codebook writes them, as everywhere
const nameOf = id => ANNS.find(a => String(a.id) === String(id))?.name ?? `annotator ${id}`;
const names = ids => (ids || []).map(nameOf).join(', ');
const spansOf = a => AD.spans?.[a.id] || [];
const sentence = () => SENTS[page.cur()];
const valueOf = (a, layer) => AD.labels?.[sentence().id]?.[layer]?.[a.id];
const inGold = s => page.hasSpan(s);
const here = list => (list || []).filter(x => x.sentence_id === sentence().id);

// --- Taking values and spans
function takeAnnotator(n) {
  const a = ANNS[n], i = page.cur(), st = sentence();
  if (!a) return hint(`There is no annotator ${n + 1} on this document.`);
  const values = CHOICES.map(c => [c, valueOf(a, c.name)]).filter(([, v]) => v != null);
  if (!values.length) return hint(`${a.name} gave sentence ${i + 1} no values.`);
  page.grouped(`${a.name}'s values for sentence ${i + 1}`, () => {
    for (const [c, value] of values) if (!same(page.row(st.id, c.name).value, value)) page.userSetRow(i, c.name, { value });
  });
  hint(`Took ${a.name}'s values: ${values.map(([c, v]) => `${c.title} ${shown(v)}`).join(' · ')}. z undoes.`);
}
function takeProposal() {
  const i = page.cur(), st = sentence(), ties = here(PROPOSAL.ties);
  const labels = here(PROPOSAL.labels).filter(l => !same(page.row(st.id, l.layer).value, l.value));
  const spans = (PROPOSAL.spans || []).filter(s => page.inSent(s, st) && !inGold(s));
  if (!labels.length && !spans.length) {
    return hint(ties.length ? 'Gold has the proposal here; the ties are open: take an annotator\'s value or choose one.'
      : 'Nothing to take: gold already has the proposal for this sentence.');
  }
  page.grouped(`the proposal for sentence ${i + 1}`, () => {
    for (const l of labels) page.userSetRow(i, l.layer, { value: l.value });
    for (const s of spans) page.markSpan({ layer: s.layer, label: s.label, start: s.start, end: s.end, attributes: { ...s.attributes } });
  });
  hint(`Took the proposal for sentence ${i + 1}${ties.length ? '; the ties stay open for you' : ''}. z undoes.`);
}
function takeSpan(s, id) {
  const buttons = [...BODY.querySelectorAll('.adj-take')], at = buttons.findIndex(b => b.id === id);
  if (page.markSpan({ layer: s.layer, label: s.label, start: s.start, end: s.end, attributes: { ...s.attributes } })) page.render();
  const rest = [...BODY.querySelectorAll('.adj-take')];
  (rest[Math.min(at, rest.length - 1)] || page.DOC).focus({ preventScroll: true });
}
function moveTake(dir) {
  const buttons = [...BODY.querySelectorAll('.adj-take')];
  if (!buttons.length) return hint('No annotator span here that gold lacks.');
  const at = buttons.indexOf(document.activeElement);
  const next = at < 0 ? (dir > 0 ? 0 : buttons.length - 1) : Math.max(0, Math.min(buttons.length - 1, at + dir));
  buttons[next].focus();
  buttons[next].scrollIntoView({ block: 'nearest' });
}

// --- The panel: per annotator their values and spans here, then the proposal
function spanLine(s, extra) {
  const chip = h('span', { class: 'chip' });
  page.paint(chip, page.colorOf(s));
  return [chip, `${s.label} `, h('span', { class: 'quote' }, page.quoted(s.start, s.end, 50)), extra];
}
function annotatorBlock(a, n) {
  const st = sentence(), goldOf = layer => page.row(st.id, layer).value;
  const spans = spansOf(a).filter(s => page.inSent(s, st)).sort((x, y) => x.start - y.start);
  return h('li', { class: 'adj-ann' },
    h('p', { class: 'adj-who' }, n < 9 && h('kbd', { title: `Shift+${n + 1}: take ${a.name}'s values` }, `⇧${n + 1}`), ` ${a.name}`),
    h('dl', { class: 'adj-values' }, CHOICES.map(c => {
      const v = valueOf(a, c.name), agrees = v != null && same(v, goldOf(c.name));
      return [h('dt', {}, c.title), h('dd', { class: agrees ? 'agrees' : v == null ? 'muted' : '' }, shown(v), agrees && ' ✓')];
    })),
    spans.length ? h('ul', { class: 'adj-spans' }, spans.map(s => h('li', {}, spanLine(s,
      inGold(s) ? h('span', { class: 'agrees' }, ' ✓ in gold')
        : btn({ class: 'small adj-take', id: `take-${a.id}-${s.id}`, 'aria-label': `Accept ${a.name}'s ${s.label} ${s.text}`,
          onclick: () => takeSpan(s, `take-${a.id}-${s.id}`) }, 'Accept')))))
      : h('p', { class: 'muted' }, 'No spans here.'));
}
function proposalBlock() {
  const st = sentence(), labels = here(PROPOSAL.labels), ties = here(PROPOSAL.ties);
  const spans = (PROPOSAL.spans || []).filter(s => page.inSent(s, st));
  const layerTitle = name => CHOICES.find(c => c.name === name)?.title ?? name;
  const items = [
    ...labels.map(l => h('li', { class: 'adj-proposed' }, `${layerTitle(l.layer)}: ${shown(l.value)}`,
      h('span', { class: 'muted' }, ` (${names(l.agreed)})`), same(page.row(st.id, l.layer).value, l.value) && h('span', { class: 'agrees' }, ' ✓ in gold'))),
    ...ties.map(t => h('li', { class: 'adj-open' }, h('strong', {}, 'open '), `${layerTitle(t.layer)}: a tie — `,
      Object.entries(t.values || {}).map(([id, v]) => `${nameOf(id)} ${shown(v)}`).join(' · '))),
    ...(PROPOSAL.span_ties || []).filter(t => t.candidates.some(c => page.inSent(c, st))).map(t => h('li', { class: 'adj-open' },
      h('strong', {}, 'open '), `${t.layer} spans: a tie between `,
      t.candidates.flatMap((c, i) => [i ? ' and ' : null, `${c.label} `, ...page.quoted(c.start, c.end, 40)]), ` (${names(t.annotators)})`)),
    ...spans.map(s => h('li', { class: 'adj-proposed' }, spanLine(s,
      [h('span', { class: 'muted' }, ` (${names(s.agreed)})`), inGold(s) && h('span', { class: 'agrees' }, ' ✓ in gold')]))),
  ];
  return h('div', { class: 'adj-proposal' }, h('h4', {}, 'Proposal ', h('kbd', { title: 'p: take the proposal for this sentence' }, 'p')),
    items.length ? h('ul', { class: 'items' }, items) : h('p', { class: 'muted' }, 'No proposal for this sentence.'));
}
let sig = null;
function renderPanel() {
  const st = sentence();
  const next = JSON.stringify([page.cur(), CHOICES.map(c => page.row(st.id, c.name).value),
    page.spansOf(page.cur()).map(s => [s.layer, s.label, s.start, s.end])]);
  if (PREFILL) PREFILL.hidden = page.readOnly() && DATA.state.status !== 'not_started';
  if (next === sig) return;
  sig = next;
  BODY.replaceChildren(
    ANNS.length ? h('ol', { class: 'adj-anns' }, ANNS.map(annotatorBlock)) : h('p', { class: 'muted' }, 'No annotator has worked on this document yet.'),
    proposalBlock());
}

// --- Keys: read before the annotation page's (capture), which skips what is handled here
document.addEventListener('keydown', e => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || GUIDE.open || page.typing(e.target)) return;
  const digit = /^Digit([1-9])$/.exec(e.code);
  let done = true;
  if (e.shiftKey && digit) takeAnnotator(Number(digit[1]) - 1);
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
