/* The online self-test (loaded as a file: the site's CSP allows no inline script).
   1. The town list shows only the towns of the chosen district. Without this script the list
      shows every town grouped by district, and the server still refuses a town of another district.
   2. The question page counts down to the test's deadline (the server enforces it either way). */
(function () {
  "use strict";

  var district = document.getElementById("district");
  var town = document.getElementById("town");
  if (district && town) {
    var blank = town.querySelector("option[value='']");
    var towns = {};  // district code → its town options, kept while they are out of the list
    Array.prototype.forEach.call(town.querySelectorAll("optgroup"), function (group) {
      towns[group.getAttribute("data-district")] = Array.prototype.slice.call(group.children);
    });
    var follow = function () {
      var chosen = town.value;
      while (town.firstChild) { town.removeChild(town.firstChild); }
      town.appendChild(blank);
      (towns[district.value] || []).forEach(function (option) { town.appendChild(option); });
      town.disabled = !district.value;
      var still = Array.prototype.some.call(town.options, function (o) { return o.value === chosen; });
      town.value = still ? chosen : "";
    };
    district.addEventListener("change", follow);
    follow();
  }

  var clock = document.querySelector("[data-deadline]");
  if (clock && clock.getAttribute("data-deadline")) {
    var deadline = Date.parse(clock.getAttribute("data-deadline"));
    var label = clock.textContent + " · " + clock.getAttribute("data-left") + " ";
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      clock.textContent = label + m + ":" + (s < 10 ? "0" : "") + s;
      if (left > 0) { window.setTimeout(tick, 1000); }
    };
    tick();
  }
})();
