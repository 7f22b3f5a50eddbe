// portpanel: optional enhancement only. Keeps "3 min ago" beside absolute
// times current while a page stays open; pages are complete without it.
(function () {
  "use strict";
  function rel(ms) {
    var future = ms < 0, d = Math.abs(ms), s;
    if (d < 60e3) return "just now";
    if (d < 3600e3) s = Math.floor(d / 60e3) + " min";
    else if (d < 48 * 3600e3) s = Math.floor(d / 3600e3) + " h";
    else s = Math.floor(d / 86400e3) + " days";
    return future ? "in " + s : s + " ago";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".rel[data-ts]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("data-ts"));
      if (!isNaN(t)) el.textContent = "· " + rel(now - t);
    });
  }
  setInterval(tick, 30e3);
})();
