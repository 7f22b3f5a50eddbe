// portpanel: optional enhancement only. Keeps "3 min ago" beside absolute
// times current and counts down to auto-revert deadlines while a page stays
// open; pages are complete without it (the server renders both).
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

  // Same format as the server's countdown (views/status.go): seconds
  // rounded up, "m:ss left", "h:mm:ss left" from an hour.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function left(ms) {
    var s = Math.ceil(ms / 1e3);
    if (s >= 3600) return Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60) + " left";
    return Math.floor(s / 60) + ":" + pad(s % 60) + " left";
  }
  // The server reverts at the deadline; reload once, a little after, to
  // show the result. A page that arrives already past its deadline does
  // not reload, so a server that is late to revert cannot cause a loop.
  var loadedAt = Date.now(), reloading = false;
  function countdown() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(t)) return;
      if (t - now > 0) {
        el.textContent = left(t - now);
        return;
      }
      el.textContent = "reverting…";
      if (!reloading && t > loadedAt) {
        reloading = true;
        // A GET of the current address, never reload(): reload() would
        // send again the POST this page may be the answer to (a review
        // page, a 409), applying a change nobody submitted.
        setTimeout(function () { window.location.assign(window.location.href); }, 2e3);
      }
    });
  }
  if (document.querySelector("[data-deadline]")) {
    countdown();
    setInterval(countdown, 1e3);
  }
})();
