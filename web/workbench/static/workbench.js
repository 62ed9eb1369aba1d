/* fupin workbench: small progressive enhancements; every page works without them. */
"use strict";

function debounce(fn, ms) {
  let timer = null;
  return function (...args) { clearTimeout(timer); timer = setTimeout(() => fn.apply(this, args), ms); };
}

/* --- household: re-evaluate as a fact changes, apply what-if answers, add/remove members */
function householdPage(form) {
  const results = document.getElementById("results");
  let inflight = 0;
  async function refresh() {
    const mine = ++inflight;
    results.setAttribute("aria-busy", "true");
    const response = await fetch(form.dataset.fragment, { method: "POST", body: new FormData(form), credentials: "same-origin" });
    const html = await response.text();
    if (mine !== inflight) return;  // a newer change is on its way
    results.innerHTML = html;
    results.removeAttribute("aria-busy");
    results.dataset.version = String(mine);
  }
  const later = debounce(refresh, 250);
  form.addEventListener("change", later);
  form.addEventListener("input", (e) => { if (e.target.matches("input[type=text]")) later(); });
  form.addEventListener("submit", (e) => {
    const action = e.submitter && e.submitter.value;
    if (action === "add") { e.preventDefault(); addRow(e.submitter.closest("fieldset")); }
    else if (action === "evaluate") { e.preventDefault(); refresh(); }
  });
  form.addEventListener("click", (e) => {
    const remove = e.target.closest(".remove-row");
    if (remove) { const body = remove.closest("tbody"); if (body.rows.length > 1) { remove.closest("tr").remove(); renumber(body); } refresh(); }
  });
  results.addEventListener("click", (e) => {
    const apply = e.target.closest(".apply-whatif");
    if (apply) {
      for (const c of JSON.parse(apply.dataset.changes)) {
        const input = form.elements.namedItem(c.name);
        if (input) { input.value = c.value; input.classList.add("changed"); }
      }
      refresh();
    }
    const show = e.target.closest(".show-output");
    if (show) { form.elements.namedItem("output").value = show.dataset.output; refresh().then(() => document.getElementById("explanation")?.scrollIntoView()); }
  });
}

function renumber(body) {
  [...body.rows].forEach((row, i) => {
    row.dataset.index = String(i);
    row.querySelector(".idx").textContent = String(i + 1);
    for (const el of row.querySelectorAll("[name]")) {
      el.name = el.name.replace(/^(c:[^:]+:)\d+:/, `$1${i}:`);
      el.id = el.name.replace(/:/g, "-");
    }
    for (const label of row.querySelectorAll("label[for]")) {
      label.htmlFor = label.htmlFor.replace(/^(c-[^-]+-)\d+-/, `$1${i}-`);
    }
  });
}

function addRow(fieldset) {
  const body = fieldset.querySelector("tbody");
  const row = body.rows[body.rows.length - 1].cloneNode(true);
  for (const el of row.querySelectorAll("input, select")) { el.value = ""; }
  body.appendChild(row);
  renumber(body);
  row.querySelector("input, select")?.focus();
}

/* --- jobs: poll the progress, reload when done */
function progressPanel(panel) {
  const id = panel.dataset.job;
  async function poll() {
    const response = await fetch(`/jobs/${id}/status`, { credentials: "same-origin" });
    if (!response.ok) return;
    const state = await response.json();
    panel.querySelector(".job-rows").textContent = String(state.rows);
    const bar = panel.querySelector("progress");
    if (state.total) { bar.max = state.total; bar.value = state.rows; }
    if (state.status === "succeeded" || state.status === "failed") { location.reload(); return; }
    setTimeout(poll, 600);
  }
  setTimeout(poll, 400);
}

/* --- rule editor: line numbers, diagnostics as you type, tests, save */
function editorPage(form) {
  const area = document.getElementById("editor");
  const gutter = form.querySelector(".gutter");
  const list = document.getElementById("diagnostics");
  const state = document.getElementById("check-state");
  const file = form.dataset.file;
  let marks = new Map();
  let asked = 0;

  function drawGutter() {
    const lines = area.value.split("\n").length;
    const out = [];
    for (let i = 1; i <= lines; i++) {
      const m = marks.get(i);
      out.push(m ? `<span class="mark ${m.severity}" id="L${i}" title="${escapeHtml(m.message)}">▶${i}</span>` : `<span id="L${i}">${i}</span>`);
    }
    gutter.innerHTML = out.join("\n");
    gutter.scrollTop = area.scrollTop;
  }
  // a CJK character takes two columns in a monospace font: the caret must count them so
  function displayWidth(text) {
    let n = 0;
    for (const ch of text) n += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
    return n;
  }
  function escapeHtml(s) { return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }
  function show(diagnostics) {
    marks = new Map();
    for (const d of diagnostics) { if (d.line && d.severity !== "info" && !marks.has(d.line)) marks.set(d.line, d); }
    drawGutter();
    const lines = area.value.split("\n");
    if (!diagnostics.length) { list.innerHTML = `<li class="ok">${escapeHtml(list.dataset.none)}</li>`; return; }
    const rank = { error: 0, warning: 1, info: 2 };
    diagnostics = [...diagnostics].sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || a.line - b.line);
    list.innerHTML = diagnostics.map((d) => {
      const source = lines[d.line - 1] ?? "";
      const caret = " ".repeat(displayWidth(source.slice(0, Math.max(0, (d.col || 1) - 1)))) + "^";
      return `<li class="diag ${d.severity}" data-line="${d.line}" data-col="${d.col}"><a href="#L${d.line}">${escapeHtml(list.dataset.line)} ${d.line}:${d.col}</a> <code>${escapeHtml(d.code)}</code> ${escapeHtml(d.message)}${d.hint ? " — " + escapeHtml(d.hint) : ""}` +
        `<pre class="caret">${escapeHtml(source)}\n${caret}</pre></li>`;
    }).join("");
  }
  async function check() {
    const mine = ++asked;
    state.textContent = "…";
    const response = await fetch("/edit/check", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ file, text: area.value }) });
    const data = await response.json();
    if (mine !== asked) return;
    state.textContent = response.ok ? state.dataset.counts.replace("{e}", data.errors).replace("{w}", data.warnings) : "";
    show(response.ok ? data.diagnostics.concat(data.elsewhere || []) : (data.diagnostics || []));
    list.dataset.checked = String(mine);
  }
  const later = debounce(check, 400);
  area.addEventListener("input", () => { drawGutter(); later(); });
  area.addEventListener("scroll", () => { gutter.scrollTop = area.scrollTop; });
  list.addEventListener("click", (e) => {
    const item = e.target.closest(".diag");
    if (!item) return;
    e.preventDefault();
    const line = Number(item.dataset.line), lines = area.value.split("\n");
    let at = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) at += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(at, at + (lines[line - 1] || "").length);
    const height = parseFloat(getComputedStyle(area).lineHeight) || 19.5;
    area.scrollTop = Math.max(0, (line - 6) * height);
    gutter.scrollTop = area.scrollTop;
  });
  document.getElementById("check-button").addEventListener("click", check);
  document.getElementById("test-button").addEventListener("click", async () => {
    const out = document.getElementById("test-output");
    out.textContent = "…";
    const response = await fetch("/edit/test", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ file, text: area.value }) });
    const data = await response.json();
    out.className = "tests " + (data.passed ? "passed" : "failed");
    out.textContent = (data.passed ? out.dataset.passed : out.dataset.failed) + "\n" + (data.output || data.detail || "");
  });
  const save = document.getElementById("save-button");
  save.addEventListener("click", async () => {
    const out = document.getElementById("save-output");
    const response = await fetch("/edit/save", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ file, text: area.value }) });
    const data = await response.json();
    out.textContent = response.ok ? `✓ ${data.saved} (${data.revision.slice(0, 12)})` : data.detail;
    out.className = response.ok ? "ok" : "error";
  });
  drawGutter();
  const existing = [...list.querySelectorAll(".diag")].map((li) => ({ line: Number(li.dataset.line), severity: li.className.split(" ")[1], message: li.textContent }));
  existing.filter((d) => d.severity !== "info").forEach((d) => marks.set(d.line, d));
  drawGutter();
}

document.addEventListener("DOMContentLoaded", () => {
  const household = document.getElementById("household-form");
  if (household) householdPage(household);
  document.querySelectorAll(".progress[data-job]").forEach(progressPanel);
  const editor = document.getElementById("editor-form");
  if (editor) editorPage(editor);
});
