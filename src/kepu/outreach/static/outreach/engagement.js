/* Engagement events from citizen pages (no inline script: CSP). An element with
   data-kepu-resource="<code>" is a piece being read: reaching its end (the element marked
   data-kepu-complete, or the piece's bottom) after at least MIN_READ_MS on the page records
   "complete" once (a short piece that fits the screen is not "read" the moment it opens). Elements with
   data-kepu-event="like|share" record that event on click. The server records views itself,
   de-duplicates repeats and ignores staff; failures are silent (reading never depends on this). */
(function () {
  "use strict";
  var piece = document.querySelector("[data-kepu-resource]");
  if (!piece || !window.fetch) { return; }
  var code = piece.getAttribute("data-kepu-resource");

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) { return decodeURIComponent(m[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function send(kind) {
    return fetch("/api/outreach/events", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ kind: kind, resource: code })
    }).catch(function () { return null; });
  }

  var MIN_READ_MS = 8000;
  var opened = Date.now();
  var done = false;
  function complete() {
    if (done) { return; }
    done = true;
    piece.setAttribute("data-kepu-completed", "1");
    send("complete");
  }
  var end = piece.querySelector("[data-kepu-complete]") || piece.lastElementChild;
  if (end && "IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) { return; }
        seen.disconnect();
        window.setTimeout(complete, Math.max(0, MIN_READ_MS - (Date.now() - opened)));
      });
    });
    seen.observe(end);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-kepu-event]"), function (el) {
    el.addEventListener("click", function () {
      var kind = el.getAttribute("data-kepu-event");
      if (kind === "like" || kind === "share") { send(kind); }
    });
  });
}());
