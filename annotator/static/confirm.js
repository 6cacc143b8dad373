// Forms that ask before they submit (data-confirm), like the annotation page's "Mark done":
// the page's CSP allows no inline handlers.
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', e => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
}
