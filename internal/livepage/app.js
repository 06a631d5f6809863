// certsleuth live page: shows the proxy's requests as they come (Server-
// Sent Events from /live/events). Every text from the trace is set with
// textContent: nothing is parsed as HTML.
(function () {
  "use strict";
  var rows = document.getElementById("rows");
  var statusEl = document.getElementById("status");
  var countsEl = document.getElementById("counts");
  var droppedEl = document.getElementById("dropped");
  var emptyEl = document.getElementById("empty");
  var maxRows = 200, seen = 0, warned = 0, lastSeq = 0, skippedN = 0;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function counts() {
    countsEl.textContent = seen + (seen === 1 ? " request" : " requests") + ", " + warned + " would make a client warn";
  }

  // Lines are queued as they come and drawn together at the next
  // animation frame. The server sends them in batches (one message per
  // 250 ms at most under load; under a flood, the newest 25 lines every
  // 2 s), so the page lays out and paints at most that often; a hidden
  // page draws nothing until it is shown again. A
  // new line is animated only when the page was quiet: a busy page
  // repaints for its new lines, never for an animation.
  var pending = [], queued = false, lastDraw = 0;
  function addRow(ev) {
    if (ev.seq <= lastSeq) return;
    lastSeq = ev.seq;
    seen = ev.seen; // the server's counts: the page holds only the last rows
    warned = ev.warned;
    ev.received = Date.now();
    pending.push(ev);
    if (pending.length > maxRows) pending.splice(0, pending.length - maxRows);
    if (!queued) { queued = true; requestAnimationFrame(flush); }
  }

  function flush() {
    queued = false;
    var now = Date.now();
    var calm = pending.length < 10 && now - lastDraw > 2000;
    lastDraw = now;
    var frag = document.createDocumentFragment();
    for (var i = pending.length - 1; i >= 0; i--) frag.appendChild(row(pending[i], calm, now));
    pending = [];
    rows.insertBefore(frag, rows.firstChild);
    var extra = rows.childElementCount - maxRows;
    if (extra > 0) {
      var r = document.createRange(); // one removal, not one per line
      r.setStartBefore(rows.children[maxRows]);
      r.setEndAfter(rows.lastElementChild);
      r.deleteContents();
    }
    emptyEl.hidden = rows.childElementCount > 0;
    counts();
  }

  function row(ev, calm, now) {
    var tr = el("tr", (ev.warns ? "warn" : (ev.badges && ev.badges.length ? "ok" : "none")) + (calm ? " fresh" : ""));
    tr.id = "req-" + ev.seq;
    tr.dataset.seq = ev.seq;
    tr.dataset.observed = ev.observed;
    tr.dataset.received = ev.received;
    tr.dataset.shown = now;
    tr.appendChild(el("td", "mono", ev.time));
    tr.appendChild(el("td", "client", ev.client || "-"));
    tr.appendChild(el("td", "req mono", ev.what));
    tr.appendChild(el("td", "names mono", (ev.names || []).join(", ") || "-"));
    var v = el("td", "verdict");
    (ev.badges || []).forEach(function (b) {
      var s = el("span", "badge " + (b.warns ? "warn" : "ok"), b.profile);
      s.title = b.profile + (b.warns ? ": would warn" : ": no warning");
      v.appendChild(s);
    });
    if (!ev.badges || !ev.badges.length) v.appendChild(el("span", "badge none", ev.text));
    if (ev.warns) {
      v.appendChild(el("br"));
      v.appendChild(el("span", "rule", (ev.rule ? ev.rule + ": " : "") + ev.text));
    }
    tr.appendChild(v);
    return tr;
  }

  function copyButton(text) {
    var b = el("button", "copy", "Copy");
    b.type = "button";
    b.addEventListener("click", function () {
      var done = function () { b.textContent = "Copied"; b.classList.add("done"); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
      } else { fallbackCopy(text); done(); }
    });
    return b;
  }

  function fallbackCopy(text) {
    var t = el("textarea");
    t.value = text;
    document.body.appendChild(t);
    t.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(t);
  }

  function showCulprits(list) {
    var box = document.getElementById("culprits");
    var out = document.getElementById("culprit-list");
    while (out.firstChild) out.removeChild(out.firstChild);
    (list || []).forEach(function (c, i) {
      var d = el("div", "culprit");
      d.id = "culprit-" + (i + 1);
      d.appendChild(el("p", "lead", c.verdict));
      var dl = el("dl");
      var add = function (k, node) { dl.appendChild(el("dt", "", k)); var dd = el("dd"); dd.appendChild(node); dl.appendChild(dd); return dd; };
      add("culprit", el("span", "mono culprit-request", c.request + (c.count > 1 ? "  (" + c.count + " times)" : "")));
      add("warns", el("span", "", (c.profiles || []).join(", ")));
      (c.rules || []).forEach(function (r) { add("rule", el("span", "", r)); });
      var ol = el("ol", "origin");
      (c.origin || []).forEach(function (o) { ol.appendChild(el("li", "", o)); });
      add("sent from", (c.origin && c.origin.length) ? ol : el("span", "", "nothing earlier names it"));
      (c.fixes || []).forEach(function (f, j) {
        var w = el("div", "fix");
        w.appendChild(f.is_command ? el("pre", "cmd", f.command) : el("p", "prose", f.command));
        w.appendChild(copyButton(f.command));
        var dd = add(j ? "fix " + (j + 1) : "fix", w);
        dd.insertBefore(el("div", "note", f.title), w);
      });
      d.appendChild(dl);
      out.appendChild(d);
    });
    box.hidden = !(list && list.length);
  }

  // The picture is loaded again only when it changed (the server says so
  // at most every 2 s), its box is open and the page is visible.
  var picBox = document.getElementById("picture-box"), picWant = null, picHave = null;
  function loadPicture() {
    if (picWant === null || picWant === picHave || !picBox.open || document.hidden) return;
    picHave = picWant;
    document.getElementById("picture").src = "/live/picture.svg?v=" + encodeURIComponent(picWant);
  }
  function showPicture(v) {
    picWant = v;
    picBox.hidden = false;
    loadPicture();
  }
  picBox.addEventListener("toggle", loadPicture);
  document.addEventListener("visibilitychange", loadPicture);

  function on(src, name, f) {
    src.addEventListener(name, function (m) {
      var data;
      try { data = JSON.parse(m.data); } catch (e) { return; }
      f(data);
    });
  }

  function connect() {
    var src = new EventSource("/live/events");
    src.onopen = function () { statusEl.textContent = "live"; statusEl.className = "status on"; document.body.dataset.state = "live"; };
    src.onerror = function () { statusEl.textContent = "disconnected, retrying…"; statusEl.className = "status off"; document.body.dataset.state = "retrying"; };
    on(src, "hello", function (h) {
      document.getElementById("title").textContent = h.title || "";
      if (h.title) document.title = "certsleuth live: " + h.title;
      if (h.window) { maxRows = h.window; document.getElementById("window").textContent = h.window; }
    });
    on(src, "req", addRow);
    on(src, "culprits", showCulprits);
    on(src, "picture", function (p) { showPicture(p.v); });
    on(src, "skipped", function (d) {
      skippedN += d.skipped;
      droppedEl.hidden = false;
      droppedEl.textContent = "· " + skippedN + " lines not drawn (a flood: the page shows the newest lines every 2 s; the counts and the trace have them all)";
    });
    on(src, "dropped", function (d) {
      droppedEl.hidden = false;
      droppedEl.textContent = "· " + d.dropped + " events not shown (the page fell behind; the trace has them all)";
    });
  }
  connect();
})();
