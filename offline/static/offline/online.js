// On the online pages of a social worker or volunteer (SPEC §12.6): install the service
// worker (through workbox-window), send what the outbox holds when the network is there,
// show how many entries wait, and wipe the phone's store before signing out.
(function () {
  "use strict";

  var store = window.BasodaraStore;

  function showCount() {
    var badge = document.querySelector("[data-outbox-count]");
    if (!badge) return;
    store.counts().then(function (counts) {
      var total = counts.waiting + counts.refused;
      badge.textContent = total;
      badge.hidden = total === 0;
    });
  }

  function sync() {
    if (!navigator.onLine) return;
    store.state().then(function (state) {
      if (state !== "open") return;
      store.needsSync().then(function (needed) { if (needed) store.sync().then(showCount); });
    });
  }

  var ENTRY_URLS = { visit: "/api/v1/visits/", refill: "/api/v1/refills/" };

  // The form shows the site's local time ("2026-12-06T08:00"); the API is told its offset.
  function atSite(value, offset) {
    if (!offset) return value;
    return value + (value.length === 16 ? ":00" : "") + offset.slice(0, 3) + ":" + offset.slice(3);
  }

  // A visit or refill form submitted without signal: kept in the outbox (the same body the
  // API takes) instead of a failed page load that would lose what was typed.
  function keepOffline(event) {
    var form = event.target;
    if (navigator.onLine) return;
    event.preventDefault();
    store.state().then(function (state) {
      if (state !== "open") {
        var alert = document.createElement("div");
        alert.className = "alert alert-warning";
        alert.setAttribute("role", "alert");
        alert.textContent = form.dataset.offlineLocked;
        form.parentNode.insertBefore(alert, form);
        return;
      }
      var body = { client: Number(form.dataset.client) };
      new FormData(form).forEach(function (value, name) {
        if (name === "csrfmiddlewaretoken" || value === "") return;
        body[name] = name === "visited_at" ? atSite(value, form.dataset.utcOffset) : value;
      });
      var kind = form.dataset.offlineEntry;
      store
        .queue({ kind: kind, url: ENTRY_URLS[kind], body: body, client: body.client, client_label: form.dataset.clientLabel })
        .then(function () { location.href = "/offline/#outbox"; });
    });
  }

  if ("serviceWorker" in navigator && window.workbox) {
    new window.workbox.Workbox("/sw.js").register();
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Signing out erases the offline data first (the server also sends Clear-Site-Data).
    document.querySelectorAll("form[data-sign-out]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        store.wipe().catch(function () {}).then(function () { form.submit(); });
      });
    });
    document.querySelectorAll("form[data-offline-entry]").forEach(function (form) {
      form.addEventListener("submit", keepOffline);
    });
    document.addEventListener("basodara:outbox", showCount);
    window.addEventListener("online", sync);
    store.expireIfStale().then(function () { showCount(); sync(); });
  });
})();
