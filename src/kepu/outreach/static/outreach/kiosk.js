/* Big screen: show one slide at a time, every data-interval seconds; after each round reload the slides
   (new publications, withdrawn pieces) and poll the contest leaderboard. When the network is down the
   screen keeps showing what it last had. No inline script: the page's CSP allows only this file. */
(function () {
  "use strict";
  var body = document.body;
  var interval = Math.max(8, parseInt(body.getAttribute("data-interval"), 10) || 20) * 1000;
  var slidesUrl = body.getAttribute("data-slides-url");
  var boardUrl = body.getAttribute("data-leaderboard-url");
  var index = 0;

  function slides() { return document.querySelectorAll("#kiosk-slides .kiosk-slide"); }

  function show(i) {
    var all = slides();
    if (!all.length) { return; }
    index = ((i % all.length) + all.length) % all.length;
    for (var k = 0; k < all.length; k++) {
      all[k].hidden = k !== index;
      all[k].classList.toggle("current", k === index);
    }
    var pos = document.getElementById("kiosk-pos");
    if (pos) { pos.textContent = all.length > 1 ? (index + 1) + " / " + all.length : ""; }
  }

  function reloadSlides() {
    if (!slidesUrl) { return Promise.resolve(); }
    return fetch(slidesUrl, { credentials: "omit", cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("kiosk-slides");
      var old = document.getElementById("kiosk-slides");
      if (fresh && old) { old.replaceWith(document.importNode(fresh, true)); }
      body.classList.remove("kiosk-offline");
    }).catch(function () {
      body.classList.add("kiosk-offline");  // keep the slides already on screen
    });
  }

  function row(entry, i) {
    var li = document.createElement("li");
    var parts = [
      ["rank", entry.rank != null ? entry.rank : i + 1],
      ["who", entry.name || ""],
      ["score", entry.score != null ? entry.score : ""]
    ];
    parts.forEach(function (p) {
      var span = document.createElement("span");
      span.className = p[0];
      span.textContent = String(p[1]);
      li.appendChild(span);
    });
    return li;
  }

  function pollBoard() {
    if (!boardUrl) { return; }
    fetch(boardUrl, { credentials: "omit", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      }).then(function (data) {
        var entries = (data && data.persons) || [];
        var list = document.getElementById("kiosk-board-rows");
        var board = document.getElementById("kiosk-board");
        if (!list || !board) { return; }
        var name = document.getElementById("kiosk-board-name");
        var en = (document.documentElement.lang || "").indexOf("en") === 0;
        if (name) { name.textContent = (en && data.title_en) || data.title_zh || ""; }
        list.replaceChildren.apply(list, entries.slice(0, 10).map(row));
        board.hidden = entries.length === 0;
      }).catch(function () { /* keep the last leaderboard on screen */ });
  }

  show(0);
  pollBoard();
  window.setInterval(function () {
    var all = slides();
    if (index + 1 >= all.length) {
      reloadSlides().then(function () { show(0); });
      pollBoard();
    } else {
      show(index + 1);
    }
  }, interval);
})();
