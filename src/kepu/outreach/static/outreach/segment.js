// Segment editor: the builder writes rules into the textarea; any change of the rules asks the
// server for the live count and preview (shown with textContent only: nothing is parsed as HTML).
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  if (!form) { return; }
  var rules = document.getElementById("seg-rules");
  var countEl = document.getElementById("seg-count");
  var errorsEl = document.getElementById("seg-rule-errors");
  var body = document.getElementById("seg-preview");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  var seq = 0;

  function checked(field) {
    return Array.prototype.map.call(
      form.querySelectorAll("input[type=checkbox][data-field='" + field + "']:checked"),
      function (el) { return el.value; });
  }

  function build() {
    var all = [];
    [["district", "in"], ["age_band", "in"], ["occupation", "in"]].forEach(function (f) {
      var v = checked(f[0]);
      if (v.length) { all.push({ field: f[0], op: f[1], value: v }); }
    });
    var groups = checked("key_groups");
    if (groups.length === 1) { all.push({ field: "key_groups", op: "contains", value: groups[0] }); }
    if (groups.length > 1) { all.push({ field: "key_groups", op: "contains_any", value: groups }); }
    if (checked("elder_mode").length) { all.push({ field: "elder_mode", op: "is", value: true }); }
    if (checked("consent").length) { all.push({ field: "consent", op: "granted", value: "push" }); }
    var topic = form.querySelector("[data-field=not_engaged_topic]").value;
    var days = parseInt(form.querySelector("[data-field=not_engaged_days]").value, 10);
    if (topic) { all.push({ not_engaged: { topic: topic, kind: "view", days: days || 30 } }); }
    if (!all.length) { all.push({ field: "consent", op: "granted", value: "push" }); }
    rules.value = JSON.stringify({ all: all }, null, 2);
    refresh();
  }

  function show(data) {
    while (body.firstChild) { body.removeChild(body.firstChild); }
    while (errorsEl.firstChild) { errorsEl.removeChild(errorsEl.firstChild); }
    if (data.errors) {
      countEl.textContent = "—";
      data.errors.forEach(function (e) {
        var p = document.createElement("p");
        p.textContent = e;
        errorsEl.appendChild(p);
      });
      errorsEl.hidden = false;
      return;
    }
    errorsEl.hidden = true;
    countEl.textContent = String(data.count);
    data.preview.forEach(function (row) {
      var tr = document.createElement("tr");
      ["id", "age_band", "district", "town"].forEach(function (k) {
        var td = document.createElement("td");
        td.textContent = row[k];
        if (k === "id") { td.className = "mono"; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function refresh() {
    var mine = ++seq;
    var data = new FormData();
    data.append("rules", rules.value);
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": token }
    }).then(function (r) { return r.json(); }).then(function (d) {
      if (mine === seq) { show(d); }
    }).catch(function () { /* keep the last figures */ });
  }

  rules.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  document.getElementById("seg-apply").addEventListener("click", build);
  form.querySelectorAll("#seg-builder input, #seg-builder select").forEach(function (el) {
    el.addEventListener("change", build);
  });
}());
