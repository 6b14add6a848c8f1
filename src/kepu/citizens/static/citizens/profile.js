/* The profile form (a file: the site's CSP allows no inline script). When the age band or the
   occupation changes, the key groups they suggest are ticked and named in the hint; the citizen
   can untick them. Without this script the server's suggestion (shown on load) still applies. */
(function () {
  "use strict";
  var age = document.getElementById("age_band");
  var occupation = document.getElementById("occupation");
  var hint = document.getElementById("groups-hint");
  if (!age || !occupation || !hint) { return; }
  var suggest = function () {
    var groups = [];
    if (occupation.value === "student") { groups.push("youth"); }
    if (age.value === "60-69" || age.value === "70+" || occupation.value === "retired") { groups.push("elderly"); }
    var mapped = {farmer: "farmers", worker: "workers", official: "officials"}[occupation.value];
    if (mapped) { groups.push(mapped); }
    return groups;
  };
  var update = function () {
    var groups = suggest();
    var labels = [];
    Array.prototype.forEach.call(document.querySelectorAll("input[name=key_groups]"), function (box) {
      if (groups.indexOf(box.value) >= 0) {
        box.checked = true;
        labels.push(box.getAttribute("data-label"));
      }
    });
    hint.textContent = labels.length ? hint.getAttribute("data-prefix") + labels.join("、") : hint.getAttribute("data-none");
  };
  age.addEventListener("change", update);
  occupation.addEventListener("change", update);
})();
