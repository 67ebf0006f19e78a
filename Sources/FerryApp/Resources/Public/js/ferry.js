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

/** Controls with data-autosubmit submit their form when changed (the environment switcher,
 *  "Only my dashboards"). */
function autosubmit(root) {
  root.querySelectorAll('select[data-autosubmit], input[data-autosubmit]').forEach((control) => {
    control.addEventListener('change', () => control.form && control.form.requestSubmit());
  });
}

/** A select with data-kind-switch (a notification channel's kind) shows, in its form, only the
 *  [data-kind-section] of the kind picked. Without JavaScript every section shows, and the
 *  server reads only the picked kind's fields. */
function kindSections(root) {
  root.querySelectorAll('select[data-kind-switch]').forEach((select) => {
    const form = select.form;
    if (!form) return;
    const show = () => {
      form.querySelectorAll('[data-kind-section]').forEach((section) => {
        section.hidden = section.dataset.kindSection !== select.value;
      });
    };
    select.addEventListener('change', show);
    show();
  });
}

/** A "select all shown" checkbox (data-select-all) in a table's head ticks or clears every
 *  checkbox of that table's body, and shows "some" when only some are ticked. */
function selectAll(root) {
  root.querySelectorAll('input[data-select-all]').forEach((all) => {
    const table = all.closest('table');
    if (!table) return;
    const boxes = () => Array.from(table.querySelectorAll('tbody input[type=checkbox]'));
    const sync = () => {
      const ticked = boxes().filter((b) => b.checked).length;
      all.checked = ticked > 0 && ticked === boxes().length;
      all.indeterminate = ticked > 0 && ticked < boxes().length;
      const bar = document.querySelector(`[data-bulk-count="${table.id}"]`);
      if (bar) bar.textContent = String(ticked);
    };
    all.addEventListener('change', () => {
      boxes().forEach((b) => { b.checked = all.checked; });
      sync();
    });
    table.addEventListener('change', (event) => { if (event.target !== all) sync(); });
    sync();
  });
}

/** A select with data-relist (the wizard's source and target) lists the page again when it
 *  changes, through its form's "list" button: the source's dashboards, the two schemas' lists. */
function relist(root) {
  root.querySelectorAll('select[data-relist]').forEach((select) => {
    select.addEventListener('change', () => {
      const button = select.form && select.form.querySelector('button[name=action][value=list]');
      if (button) select.form.requestSubmit(button);
    });
  });
}

confirmForms(document);
autosubmit(document);
kindSections(document);
selectAll(document);
relist(document);

const LEVELS = ['debug', 'info', 'warning', 'error'];
const FINISHED = ['succeeded', 'partial', 'failed', 'cancelled', 'interrupted'];

function socket(path) {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  return new WebSocket(`${proto}://${location.host}${path}`);
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

/** Task detail: appends live log lines, updates progress; reloads when the status changes. */
function liveTask(root) {
  const el = root.querySelector('[data-task]');
  if (!el) return;
  const shown = el.querySelector('[data-field=status]')?.dataset.status;
  if (FINISHED.includes(shown)) return;
  const level = el.dataset.level;
  const source = el.dataset.source;
  const tbody = el.querySelector('[data-testid=task-log] tbody');
  const autoscroll = el.querySelector('#autoscroll');
  const ws = socket(`/ws/tasks/${el.dataset.task}?from=${el.dataset.from || 0}`);
  let finished = false;
  // Refused (the per-user limit) or dropped: say so instead of freezing silently.
  ws.onclose = () => {
    if (finished || el.querySelector('[data-testid=live-stopped]')) return;
    const note = document.createElement('p');
    note.className = 'notice error';
    note.setAttribute('role', 'alert');
    note.dataset.testid = 'live-stopped';
    note.textContent = el.dataset.liveStopped || 'Live updates stopped. Reload the page.';
    el.prepend(note);
  };
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === 'logs' && event.lines) {
      if (!tbody) return; // a page that follows only the status (e.g. a plan being made)
      const rows = [];
      for (const line of event.lines) {
        if (level && LEVELS.indexOf(line.level) < LEVELS.indexOf(level)) continue;
        if (source && line.source !== source) continue;
        const tr = document.createElement('tr');
        tr.className = `level-${line.level}`;
        tr.dataset.seq = String(line.seq);
        tr.append(cell(line.at.replace('T', ' ').replace('Z', ' UTC'), 'muted'), cell(line.level), cell(line.source), cell(line.message));
        rows.push(tr);
      }
      if (rows.length === 0) return;
      tbody.append(...rows);
      if (autoscroll?.checked) rows[rows.length - 1].scrollIntoView({ block: 'end' });
    } else if (event.kind === 'progress') {
      const bar = el.querySelector('progress[data-field=progress]');
      if (bar && event.progress != null) bar.value = event.progress;
      const step = el.querySelector('[data-field=step]');
      if (step && event.step) step.textContent = ` ${event.step}`;
    } else if (event.kind === 'status' && event.status && event.status !== shown) {
      finished = true;
      ws.close();
      setTimeout(() => location.reload(), 150);
    }
  };
}

/** Tasks list: refreshes when any task changes status. */
function liveTaskList(root) {
  if (!root.querySelector('[data-testid=task-filters]')) return;
  let timer = null;
  const ws = socket('/ws/tasks');
  ws.onmessage = () => {
    clearTimeout(timer);
    timer = setTimeout(() => location.reload(), 400);
  };
}

liveTask(document);
liveTaskList(document);

/** The activity drawer: the button in the top bar shows the count of the user's unfinished
 *  tasks; it opens a drawer listing them (fetched from /activity, our own escaped markup) whose
 *  progress follows /ws/tasks. The socket is opened only while something runs or the drawer is
 *  open. Escape closes it and gives focus back to the button. */
function activity() {
  const toggle = document.querySelector('[data-activity-toggle]');
  const drawer = document.getElementById('activity-drawer');
  if (!toggle || !drawer) return;
  const body = drawer.querySelector('[data-activity-body]');
  const count = toggle.querySelector('[data-testid=activity-count]');
  const close = drawer.querySelector('[data-activity-close]');
  let ws = null;
  let timer = null;
  // An answer being written in the drawer is not replaced under the writer's hands: the refresh
  // waits until the focus leaves its form, or half a minute at most.
  const answering = () => { const a = document.activeElement; return Boolean(a && a.form && body.contains(a)); };
  let waited = 0;
  body.addEventListener('focusout', () => { if (waited > 0) { clearTimeout(timer); timer = setTimeout(load, 250); } });
  const load = async () => {
    if (answering() && waited < 30) { waited += 1; clearTimeout(timer); timer = setTimeout(load, 1000); return; }
    waited = 0;
    const r = await fetch(toggle.dataset.activityToggle, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    const content = doc.body.firstElementChild;
    // The session ended (the answer is the sign-in page): say so the way the server does.
    if (r.redirected || !content || content.dataset.activityCount === undefined) { window.location.reload(); return; }
    body.replaceChildren(document.importNode(content, true));
    const n = Number(content.dataset.activityCount || 0);
    count.textContent = String(n);
    count.hidden = n === 0;
    if (content.dataset.activityLabel) toggle.setAttribute('aria-label', content.dataset.activityLabel);
    count.classList.toggle('awaiting', Number(content.dataset.activityAwaiting || 0) > 0);
    follow(n > 0 || !drawer.hidden);
  };
  const follow = (on) => {
    if (on && !ws) {
      ws = socket('/ws/tasks');
      ws.onmessage = (message) => {
        let event;
        try { event = JSON.parse(message.data); } catch (e) { return; }
        if (!event || !event.taskId) return;
        const row = body.querySelector(`[data-activity-task="${String(event.taskId).toLowerCase()}"]`);
        if (row && event.kind === 'progress') {
          const bar = row.querySelector('[data-field=progress]');
          if (bar && typeof event.progress === 'number') { bar.value = event.progress; bar.textContent = `${event.progress}%`; }
          const step = row.querySelector('[data-field=step]');
          if (step && typeof event.step === 'string') step.textContent = event.step;
        }
        if (event.kind === 'status') { clearTimeout(timer); timer = setTimeout(load, 250); }
      };
      ws.onclose = () => { ws = null; };
    } else if (!on && ws) {
      ws.close();
      ws = null;
    }
  };
  const show = (open) => {
    drawer.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) { load(); close.focus(); } else { follow(!count.hidden); }
  };
  toggle.addEventListener('click', (event) => { event.preventDefault(); show(drawer.hidden); });
  close.addEventListener('click', () => { show(false); toggle.focus(); });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !drawer.hidden) { show(false); toggle.focus(); }
  });
  follow(!count.hidden);
}

activity();
