/* Check-in page: every scan gets a client id and goes into a queue kept in localStorage, so a scan
   made while the connection is down is not lost; the queue is sent to /api/events/checkins when
   online (on load, on the browser's "online" event and every 10 seconds). The server answers a
   replayed client id with the check-in it already has, so sending twice never duplicates. */
(function () {
  "use strict";
  var root = document.getElementById("checkin");
  if (!root || !window.fetch) { return; }
  var eventId = root.getAttribute("data-event");
  var api = root.getAttribute("data-api");
  var key = "kepu-checkin-queue-" + eventId;
  var msgs = document.getElementById("checkin-msgs").dataset;
  var form = document.getElementById("checkin-form");
  var input = document.getElementById("checkin-code");
  var statusEl = document.getElementById("checkin-status");
  var countEl = document.getElementById("checkin-count");
  var pendingEl = document.getElementById("checkin-pending");
  var log = document.getElementById("checkin-log");
  var syncing = false;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(q) { window.localStorage.setItem(key, JSON.stringify(q)); pendingEl.textContent = String(q.length); }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var a = new Uint8Array(16); window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var i = document.querySelector("input[name=csrfmiddlewaretoken]");
    return i ? i.value : "";
  }
  function note(text, cls) {
    var li = document.createElement("li");
    li.textContent = text;
    if (cls) { li.className = cls; }
    log.insertBefore(li, log.firstChild);
    statusEl.textContent = text;
  }

  function sync() {
    if (syncing) { return Promise.resolve(); }
    var q = load();
    if (!q.length) { return Promise.resolve(); }
    if (navigator.onLine === false) { statusEl.textContent = msgs.offline; return Promise.resolve(); }
    syncing = true;
    var item = q[0];
    return fetch(api, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify({ code: item.code, client_id: item.client_id, at: item.at, event: Number(eventId) })
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        if (resp.status >= 500 || resp.status === 429) { throw new Error("retry"); }
        var rest = load().filter(function (x) { return x.client_id !== item.client_id; });
        save(rest);
        if (resp.status === 201) {
          countEl.textContent = String(body.checked_in);
          note(msgs.ok + (body.name || item.code), "ok");
        } else if (resp.status === 200) {
          countEl.textContent = String(body.checked_in);
          note(msgs.replay + (body.name || item.code), "replay");
        } else {
          note(msgs.error + item.code + " " + (body.detail || resp.status), "error");
        }
      });
    }).then(function () {
      syncing = false;
      if (load().length) { return sync(); }
      statusEl.textContent = msgs.synced;
    }, function () {
      syncing = false;
      statusEl.textContent = msgs.offline;
    });
  }

  function record(code) {
    var q = load();
    q.push({ client_id: newId(), code: code, at: new Date().toISOString() });
    save(q);
    input.value = "";
    input.focus();
    if (navigator.onLine === false) { note(msgs.queued + code, "queued"); return; }
    sync();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = (input.value || "").trim().toUpperCase();
    if (code) { record(code); }
  });

  // Phones whose browser can read QR codes (BarcodeDetector) scan with the camera; a handheld
  // scanner types into the box instead, like a keyboard.
  var camera = document.getElementById("checkin-camera");
  var video = document.getElementById("checkin-video");
  if ("BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    camera.hidden = false;
    camera.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      var last = "";
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        camera.hidden = true;
        return video.play();
      }).then(function () {
        window.setInterval(function () {
          detector.detect(video).then(function (codes) {
            var code = codes.length ? String(codes[0].rawValue || "").trim().toUpperCase() : "";
            if (code && code !== last) { last = code; record(code); }
          }).catch(function () { return null; });
        }, 400);
      }).catch(function (e) { statusEl.textContent = msgs.error + (e && e.name ? e.name : ""); });
    });
  }
  window.addEventListener("online", sync);
  window.setInterval(sync, 10000);
  save(load());
  sync();
}());
