// Quiz pages: read the question aloud (browser speech synthesis, where the browser has it) and
// count down the server's time limit. The server keeps the real clock; this is only a display.
(function () {
  "use strict";
  if ("speechSynthesis" in window && "SpeechSynthesisUtterance" in window) {
    document.querySelectorAll("[data-read-target]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-read-target"));
        if (!target) { return; }
        var parts = [target.textContent];
        document.querySelectorAll("label.choice").forEach(function (l) { parts.push(l.textContent); });
        window.speechSynthesis.cancel();
        var utterance = new SpeechSynthesisUtterance(parts.join("。"));
        utterance.lang = document.documentElement.lang === "en" ? "en-US" : "zh-CN";
        utterance.rate = 0.9;
        window.speechSynthesis.speak(utterance);
      });
    });
  }
  var clock = document.querySelector("[data-deadline]");
  if (clock) {
    var deadline = Date.parse(clock.getAttribute("data-deadline"));
    var tick = function () {
      var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      clock.textContent = left > 0 ? clock.getAttribute("data-left") + " " + left + " " + clock.getAttribute("data-unit") : clock.getAttribute("data-over");
      if (left > 0) { window.setTimeout(tick, 500); }
    };
    if (!isNaN(deadline)) { tick(); }
  }
})();
