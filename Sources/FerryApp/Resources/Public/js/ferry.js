// Ferry's small progressive enhancements. Loaded as an ES module from our own origin, so the
// strict Content-Security-Policy (script-src 'self') holds. Every page works without it.

/** Forms with data-confirm ask before they submit (used for deletes). */
function confirmForms(root) {
  root.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
}

/** Selects with data-autosubmit submit their form when changed (the environment switcher). */
function autosubmit(root) {
  root.querySelectorAll('select[data-autosubmit]').forEach((select) => {
    select.addEventListener('change', () => select.form && select.form.requestSubmit());
  });
}

confirmForms(document);
autosubmit(document);
