// Live updates of the public lookup page: when the dossier's status feed (server-sent events)
// announces a change, fetch the server-rendered status again and swap it in. Without the feed
// (an older server, a proxy that buffers), poll every 30 seconds instead.
(function () {
  "use strict";
  var region = document.querySelector("[data-live-status]");
  if (!region) { return; }
  var fragmentURL = region.getAttribute("data-fragment");
  var feedURL = region.getAttribute("data-feed");
  var pollTimer = null;

  // The feed's event id is the dossier's version: the page is refreshed only for a newer one (the
  // feed opens with the current status, which the page already shows).
  function changed(event) {
    var version = Number(event.lastEventId);
    if (version && version <= Number(region.getAttribute("data-version"))) { return; }
    if (version) { region.setAttribute("data-version", String(version)); }
    refresh();
  }

  function refresh() {
    fetch(fragmentURL, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && html !== region.innerHTML) {
          region.innerHTML = html;
          region.setAttribute("data-updated", new Date().toISOString());
        }
      })
      .catch(function () { /* the next event or poll tries again */ });
  }

  function poll() {
    if (pollTimer === null) { pollTimer = window.setInterval(refresh, 30000); }
  }

  if (!("EventSource" in window) || !feedURL) { poll(); return; }
  var feed = new EventSource(feedURL);
  feed.onmessage = changed;
  feed.addEventListener("status", changed);
  feed.onerror = function () {
    if (feed.readyState === EventSource.CLOSED) { poll(); }
  };
})();
