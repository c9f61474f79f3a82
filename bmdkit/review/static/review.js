"use strict";
/* bmdkit review page. Data: one JSON block (#bmd-data), parsed once.
   Entries are rendered lazily, CHUNK at a time, as the reviewer scrolls or moves with the keys.
   Decisions live in memory (and localStorage, so a reload keeps them) until downloaded as CSV. */
(function () {
  const DATA = JSON.parse(document.getElementById("bmd-data").textContent);
  const CHUNK = 40;
  const LOW_CONF = 0.8;  // display hint only: confidences below are shown in red
  const M = DATA.meta, EX = DATA.exams, CROPS = DATA.crops;
  const STORE = "bmdkit-review:" + M.generated + ":" + M.n;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const fmt = (v) => v == null ? "–" : String(v);
  let decisions = {};  // key "exam/region/measure" (a value) or "exam/x/field" (exam_date, scan_type, page) -> {action, new_value, reason, decided_at}
  try { decisions = JSON.parse(localStorage.getItem(STORE) || "{}") || {}; } catch (e) { decisions = {}; }
  let shown = [], rendered = 0, focusKey = null;

  function save() {
    try { localStorage.setItem(STORE, JSON.stringify(decisions)); } catch (e) { /* storage full or disabled: keep in memory */ }
    $("ndec").textContent = Object.keys(decisions).length + " decision" + (Object.keys(decisions).length === 1 ? "" : "s");
  }

  /* ---- header, summary, plots ---- */
  function header() {
    const t = DATA.summary.totals;
    $("meta").textContent = M.n + " exams · " + t.extracted + " extracted · " + t.flagged + " flagged · " + t.failed +
      " failed · " + t.skipped + " skipped (not scans or reports) · made " + M.generated + " by " + M.software;
    let h = '<table><caption>Exams by center and input</caption><tr><th>center</th><th>input</th><th>extracted</th><th>flagged</th><th>failed</th><th>skipped</th></tr>';
    for (const r of DATA.summary.rows) {
      h += "<tr><td>" + esc(r.center) + "</td><td>" + esc(r.kind) + '</td><td class="n">' + r.extracted +
        '</td><td class="n">' + r.flagged + '</td><td class="n">' + r.failed + '</td><td class="n">' + r.skipped +
        "</td></tr>";
    }
    h += "</table>";
    h += '<table><caption>Flags by frequency (click to filter)</caption><tr><th>flag</th><th>exams</th><th>level</th><th>meaning</th></tr>';
    for (const f of DATA.summary.flags) {
      h += '<tr><td class="code" data-code="' + esc(f.code) + '">' + esc(f.code) + '</td><td class="n">' + f.n +
        "</td><td>" + esc(f.severity) + "</td><td>" + esc(f.meaning) + "</td></tr>";
    }
    h += "</table>";
    $("summary").innerHTML = h;
    $("summary").addEventListener("click", (ev) => {
      const c = ev.target.closest(".code");
      if (c) { $("f-code").value = c.dataset.code; apply(); $("toolbar").scrollIntoView(); }
    });
    const centers = [...new Set(EX.map((e) => e.center))].sort();
    for (const c of centers) $("f-center").insertAdjacentHTML("beforeend", '<option value="' + esc(c) + '">' + esc(c) + "</option>");
    for (const f of DATA.summary.flags) $("f-code").insertAdjacentHTML("beforeend", '<option value="' + esc(f.code) + '">' + esc(f.code) + " (" + f.n + ")</option>");
    const plots = DATA.plots || [];
    if (!plots.length) $("plots-box").style.display = "none";
    $("plots").innerHTML = plots.map((p) => '<figure><img alt="' + esc(p.title) + '" src="' + p.uri + '"><figcaption>' + esc(p.title) + "</figcaption></figure>").join("");
  }

  /* ---- filters and lazy list ---- */
  function apply() {
    const todo = $("f-todo").checked;
    const flagged = $("f-flagged").checked, center = $("f-center").value, code = $("f-code").value,
      status = $("f-status").value, text = $("f-text").value.trim().toLowerCase();
    shown = EX.filter((e) => (!todo || undecided(e)) && (!flagged || e.status === "flagged") && (!center || e.center === center) &&
      (!status || e.status === status) && (!code || e.flags.some((f) => f[0] === code)) &&
      (!text || [e.subj, e.visit, e.center, e.inst].some((x) => x != null && String(x).toLowerCase().includes(text)) || e.sha.startsWith(text)));
    $("count").textContent = "showing " + shown.length + " of " + EX.length + " exams";
    $("list").innerHTML = shown.length ? "" : '<p class="empty">No exam matches these filters.</p>';
    rendered = 0; focusKey = null;
    more();
  }

  function undecided(e) {
    return e.regions.some((r, ri) => r.vals.some((v) => v.need && !v.done && !decisions[e.id + "/" + ri + "/" + v.m])) ||
      Object.keys(e.xdec).some((f) => e.xdec[f].need && !decisions[e.id + "/x/" + f]);
  }

  // files of one visit (spine, hip, report page) share a group: a heading where a group starts
  function groupHead(e, prev) {
    if (prev && prev.grp === e.grp) return "";
    const n = EX.filter((x) => x.grp === e.grp).length;
    const who = e.subj + (e.visit != null ? " · " + e.visit : "");
    return '<h3 class="grp">' + esc(who) + ' <span class="dim">' + esc(e.center) + (n > 1 ? " · " + n + " files of this visit" : "") + "</span></h3>";
  }

  function more() {
    const end = Math.min(shown.length, rendered + CHUNK);
    const parts = [];
    for (let i = rendered; i < end; i++) parts.push(groupHead(shown[i], shown[i - 1]) + entry(shown[i]));
    $("list").insertAdjacentHTML("beforeend", parts.join(""));
    rendered = end;
  }

  const COLS = [["area", "Area cm²"], ["bmc", "BMC g"], ["bmd", "BMD g/cm²"], ["t_score", "T-score"], ["z_score", "Z-score"]];

  function cell(e, r, ri, v) {
    if (!v) return '<td class="cell empty">–</td>';
    const key = e.id + "/" + ri + "/" + v.m;
    const d = decisions[key];
    const need = v.need && !v.done;
    const cls = "cell" + (need ? " need" : "") + (v.done ? " decided" : "") + (d ? " done-" + d.action : "");
    const low = v.c != null && v.c < LOW_CONF;
    // the value as printed ("1.080") when the printed text is that same number, else as stored
    const printed = v.raw && v.v != null && Number(v.raw.trim().replace(/^[−–]/, "-")) === v.v ? v.raw.trim() : fmt(v.v);
    let h = '<td class="' + cls + '" data-key="' + key + '"><div class="vline"><span class="v">' + esc(printed) + (v.rev ? " ✎" : "") + "</span>" +
      (v.c == null ? "" : ' <span class="conf' + (low ? " low" : "") + '" title="confidence">' + v.c.toFixed(2) + "</span>") + "</div>";
    const title = v.raw ? ' title="read “' + esc(v.raw) + '”"' : "";
    if (v.win) {
      const w = v.win;
      h += '<div class="win"' + title + ' style="width:' + w[2] + "px;height:" + w[3] + 'px"><img class="crop" alt="page around ' + esc(v.m) +
        '" src="' + CROPS[e.id + "/" + ri] + '" style="left:' + (-w[0]) + "px;top:" + (-w[1]) + 'px"><i style="left:' + (w[4] - w[0]) +
        "px;top:" + (w[5] - w[1]) + "px;width:" + w[6] + "px;height:" + w[7] + 'px"></i></div>';
    } else if (v.crop) h += '<img class="crop" alt="page around ' + esc(v.m) + '"' + title + ' src="' + CROPS[key] + '">';
    else if (v.el) h += '<div class="src" title="DICOM element">' + esc(v.el) + "</div>";
    else if (v.nocrop) h += '<div class="nocrop">no crop: ' + esc(v.nocrop) + "</div>";
    if (need) h += '<div class="dec">' + decCell(key, d) + "</div>";
    else if (v.done) h += '<div class="state" title="' + esc(v.done) + '">' + (v.rev ? "✎ corrected" : "✔ accepted") + " earlier</div>";
    return h + "</td>";
  }

  /* ---- decisions about the file as a whole: exam date, scan type and side, the page ---- */
  const XLABEL = {exam_date: "Exam date", scan_type: "Scan type and side", page: "The page as read"};

  function xdecRow(e, name, x) {
    const key = e.id + "/x/" + name;
    const cur = name === "page" ? "" : (x.cur || "none");
    let h = '<div class="xdec' + (x.need && !decisions[key] ? " need" : "") + (decisions[key] ? " done-" + decisions[key].action : "") +
      '" data-key="' + key + '"><b>' + XLABEL[name] + "</b>" + (name !== "page" ? ': <span class="cur">' + esc(cur) + "</span>" : "") +
      (x.why.length ? ' <span class="why">(' + esc(x.why.join(", ")) + ")</span>" : "");
    if (x.need) h += ' <span class="dec">' + xdecCell(e, name, x, decisions[key]) + "</span>";
    else if (x.done) h += ' <span class="state" title="' + esc(x.done) + '">decided earlier</span>';
    return h + "</div>";
  }

  function xdecCell(e, name, x, d) {
    if (d) {
      return '<span class="state">' + (d.action === "accept" ? "✔ " + (name === "page" ? "page accepted as read" : "confirmed") : "✎ " + esc(d.new_value) + " (" + esc(d.reason) + ")") +
        '</span> <button type="button" data-act="undo" title="u">undo</button>';
    }
    if (name === "page") return '<button type="button" data-act="accept" title="accept (a)">✔ accept the page as read</button>';
    if (name === "exam_date") {
      const picks = (x.readings || []).map((r) => '<button type="button" data-act="pick" data-v="' + esc(r) + '">' + (r === x.cur ? "✔ confirm " : "it is ") + esc(r) + "</button>").join(" ");
      return picks + ' or <input class="nv" placeholder="YYYY-MM-DD" size="11" aria-label="exam date (YYYY-MM-DD)"> <input class="rs" placeholder="reason" aria-label="reason"> <button type="button" data-act="save">save date</button>';
    }
    const opts = DATA.scan_types.map((t) => '<option' + (t === (x.cur || "").split(";")[0] ? " selected" : "") + ">" + esc(t) + "</option>").join("");
    return '<button type="button" data-act="accept" title="accept (a)">✔ confirm</button> or <select class="nv" aria-label="scan type">' + opts +
      '</select> <input class="rs" placeholder="reason" aria-label="reason"> <button type="button" data-act="save">save</button>';
  }

  function entry(e) {
    let h = '<article class="exam ' + esc(e.status) + '" id="x' + esc(e.id) + '"><h2><span class="st">' + esc(e.status) + "</span>" +
      '<span class="subj">' + esc(e.subj) + (e.visit != null ? " · " + esc(e.visit) : "") + "</span>" +
      '<span class="dim"><span class="center" title="center">' + esc(e.center) + "</span>" + (e.inst && e.inst !== e.center ? ' · <span title="institution as printed">' + esc(e.inst) + "</span>" : "") +
      " · " + esc(e.date || "no date") + " · " + esc((e.scan || []).join("+") || "scan type unknown") + " · " + esc(e.vendor) +
      (e.model ? " " + esc(e.model) : "") + " · " + esc(e.kind) + ' · <span title="SHA-256 of the file">' + esc(e.sha.slice(0, 12)) + "</span></span></h2>";
    const xs = Object.keys(e.xdec);
    if (xs.length) h += '<div class="xdecs">' + xs.map((n) => xdecRow(e, n, e.xdec[n])).join("") + "</div>";
    if (e.regions.length) {
      h += '<table class="vals"><tr><th>region</th>' + COLS.map((c) => "<th>" + c[1] + "</th>").join("") + "</tr>";
      e.regions.forEach((r, ri) => {
        const name = r.region + (r.side ? " " + r.side : "") + (r.label && r.label !== r.region ? " (" + r.label + ")" : "");
        const byM = {};
        r.vals.forEach((v) => { byM[v.m] = v; });
        h += '<tr class="' + (r.need ? "need" : "") + '"><td class="r">' + (r.need ? '<span class="mark" title="needs a decision">⚑</span> ' : "") +
          esc(name) + (r.eval === false ? ' <span class="excl">excluded</span>' : "") + '<div class="src">' + esc(r.method) + "</div></td>" +
          COLS.map((c) => cell(e, r, ri, byM[c[0]])).join("") + "</tr>";
        if (r.strip && r.need) {
          h += '<tr class="strip"><td class="src">row on the page</td><td colspan="' + COLS.length + '"><img class="strip" alt="table row on the page" src="' +
            CROPS[e.id + "/" + ri] + '"></td></tr>';
        }
      });
      h += "</table>";
    }
    if (e.flags.length) {
      h += '<ul class="flags">' + e.flags.map((f) => {
        const mean = (M.meanings[f[0]] || ["", ""])[1];
        return '<li class="' + esc(f[1]) + '"><b>' + esc(f[0]) + "</b>" + (f[3] ? " [" + esc(f[3]) + "]" : "") + ": " + esc(f[2]) +
          (mean && mean !== f[2] ? ' <span class="meaning">(' + esc(mean) + ")</span>" : "") + "</li>";
      }).join("") + "</ul>";
    }
    return h + "</article>";
  }

  function decCell(key, d) {
    if (d) {
      return '<span class="state">' + (d.action === "accept" ? "✔ accepted" : "✎ " + esc(d.new_value) + " (" + esc(d.reason) + ")") +
        '</span> <button type="button" data-act="undo" title="u">undo</button>';
    }
    return '<button type="button" data-act="accept" title="accept (a)">✔ accept</button> <button type="button" data-act="correct" title="correct (c)">✎ correct</button>' +
      '<div class="corr" hidden><input class="nv" inputmode="decimal" placeholder="new value" aria-label="new value"><br>' +
      '<input class="rs" placeholder="reason" aria-label="reason"><br><button type="button" data-act="save">save</button></div>';
  }

  function lookup(key) {
    const [xi, ri, m] = key.split("/");
    const e = EX.find((x) => String(x.id) === xi);
    if (ri === "x") return {e, r: null, v: null, field: m, x: e.xdec[m]};
    const r = e.regions[+ri];
    return {e, r, v: r.vals.find((x) => x.m === m)};
  }

  function rerow(key) {
    const el = document.querySelector('[data-key="' + key + '"]');
    if (!el) return;
    const d = decisions[key];
    el.classList.remove("done-accept", "done-correct");
    if (d) el.classList.add("done-" + d.action);
    const L = lookup(key);
    el.querySelector(".dec").innerHTML = L.field ? xdecCell(L.e, L.field, L.x, d) : decCell(key, d);
    save();
  }

  function checkValue(field, value) {
    const t = String(value).trim();
    if (field === "exam_date") return /^\d{4}-\d{2}-\d{2}$/.test(t) && !isNaN(Date.parse(t + "T00:00:00Z")) ? t : null;
    if (field === "scan_type") return DATA.scan_types.includes(t) ? t : null;
    const n = t.replace(",", ".");
    return /^[-+]?(\d+\.?\d*|\.\d+)$/.test(n) ? n : null;
  }

  function decide(key, action, newValue, reason) {
    msg("");
    const L = lookup(key);
    if (action === "correct") {
      const t = checkValue(L.field, newValue);
      if (t == null) { msg(L.field === "exam_date" ? "The date must be YYYY-MM-DD." : L.field === "scan_type" ? "Pick a scan type." : "The new value must be a number."); return false; }
      if (!reason.trim()) { msg("A correction needs a reason."); return false; }
      newValue = t;
      if (L.field && t === L.x.cur) action = "accept";  // the reading as stored, confirmed: accepted, not corrected
    }
    decisions[key] = {action, new_value: action === "correct" ? newValue : "", reason: (reason || "").trim(), decided_at: new Date().toISOString()};
    rerow(key);
    return true;
  }

  function pickReading(key, value) {
    const L = lookup(key);
    if (value === L.x.cur) return decide(key, "accept", "", "");
    return decide(key, "correct", value, "reading " + value + " confirmed on the page");
  }

  function openCorrect(td) {
    const c = td.querySelector(".corr");
    if (!c) return;
    c.hidden = false;
    c.querySelector(".nv").focus();
  }

  function msg(t) { $("msg").textContent = t; }

  /* ---- clicks and keys ---- */
  $("list").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (!b) return;
    const td = b.closest("[data-key]"), key = td.dataset.key;
    setFocus(key, false);
    const act = b.dataset.act;
    if (act === "accept") decide(key, "accept", "", "");
    else if (act === "pick") pickReading(key, b.dataset.v);
    else if (act === "correct") openCorrect(td);
    else if (act === "save") decide(key, "correct", td.querySelector(".nv").value, td.querySelector(".rs").value);
    else if (act === "undo") { delete decisions[key]; rerow(key); }
  });
  $("list").addEventListener("keydown", (ev) => {
    if (ev.target.matches("input") && ev.key === "Enter") {
      const td = ev.target.closest("[data-key]");
      decide(td.dataset.key, "correct", td.querySelector(".nv").value, td.querySelector(".rs").value);
      ev.preventDefault();
      ev.stopPropagation();
    }
  });

  function decisionRows() { return [...document.querySelectorAll("#list td.cell.need, #list .xdec.need")]; }

  function setFocus(key, scroll) {
    document.querySelectorAll("#list .focus").forEach((t) => t.classList.remove("focus"));
    focusKey = key;
    const tr = key && document.querySelector('[data-key="' + key + '"]');
    if (tr) { tr.classList.add("focus"); if (scroll) tr.scrollIntoView({block: "center"}); }
  }

  function step(dir) {
    let rows = decisionRows();
    let i = rows.findIndex((t) => t.dataset.key === focusKey);
    if (dir > 0 && i >= rows.length - 1 && rendered < shown.length) { more(); rows = decisionRows(); }
    i = i < 0 ? (dir > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, i + dir));
    if (rows[i]) setFocus(rows[i].dataset.key, true);
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.target.matches("input, select, textarea")) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key;
    if (k === "j" || k === "ArrowDown") { step(1); ev.preventDefault(); }
    else if (k === "k" || k === "ArrowUp") { step(-1); ev.preventDefault(); }
    else if (focusKey && k === "a") { decide(focusKey, "accept", "", ""); step(1); ev.preventDefault(); }
    else if (focusKey && k === "c") { const td = document.querySelector('[data-key="' + focusKey + '"]'); if (td) openCorrect(td); ev.preventDefault(); }
    else if (focusKey && k === "u") { delete decisions[focusKey]; rerow(focusKey); ev.preventDefault(); }
  });

  /* ---- CSV download ---- */
  // The rule of bmdkit/export/cells.py: text that a spreadsheet would run as a formula gets a
  // leading "'" (one more when it already starts with one, so the reader can take exactly one off);
  // text that is exactly one number is left as it is.
  const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
  function csvCell(s) {
    s = String(s == null ? "" : s);
    if (s.startsWith("'") || (/^[=+\-@\t\r]/.test(s) && !NUMBER.test(s))) s = "'" + s;
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function csvText() {
    const reviewer = $("reviewer").value.trim();
    const cols = M.columns.concat(["method"]);  // method: an optional extra, names the row when two readers gave one
    const lines = [cols.join(",")];
    for (const key of Object.keys(decisions)) {
      const d = decisions[key], {e, r, v, field, x} = lookup(key);
      let row;
      if (field) {  // the exam as a whole: no region, the field in "measure"
        const cur = field === "page" ? "" : (x.cur || "");
        row = {sha256: e.sha, region: "", side: "", measure: field, action: d.action, old_value: cur,
          new_value: d.action === "correct" ? d.new_value : cur, reason: d.reason, reviewer: reviewer, decided_at: d.decided_at, method: ""};
      } else {
        row = {sha256: e.sha, region: r.region, side: r.side || "", measure: v.m, action: d.action,
          old_value: v.v == null ? "" : v.v, new_value: d.action === "correct" ? d.new_value : (v.v == null ? "" : v.v),
          reason: d.reason, reviewer: reviewer, decided_at: d.decided_at, method: r.method};
      }
      lines.push(cols.map((c) => csvCell(row[c])).join(","));
    }
    return lines.join("\n") + "\n";
  }

  $("download").addEventListener("click", () => {
    msg("");
    if (!Object.keys(decisions).length) { msg("No decisions yet."); return; }
    if (!$("reviewer").value.trim()) { msg("Enter your name as reviewer first."); $("reviewer").focus(); return; }
    const blob = new Blob([csvText()], {type: "text/csv;charset=utf-8"});
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "decisions-" + new Date().toISOString().slice(0, 19).replace(/[:T]/g, "") + ".csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  });
  $("reviewer").value = localStorage.getItem("bmdkit-review:reviewer") || "";
  $("reviewer").addEventListener("change", () => { try { localStorage.setItem("bmdkit-review:reviewer", $("reviewer").value); } catch (e) { /* ignore */ } });

  for (const id of ["f-todo", "f-flagged", "f-center", "f-code", "f-status"]) $(id).addEventListener("change", apply);
  $("f-text").addEventListener("input", apply);
  new IntersectionObserver((ents) => { if (ents.some((x) => x.isIntersecting) && rendered < shown.length) more(); },
    {rootMargin: "800px"}).observe($("sentinel"));

  header();
  save();
  apply();
  document.body.dataset.ready = "1";
})();
