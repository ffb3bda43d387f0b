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
    store.state().then(function (state) { if (state === "open") store.sync().then(showCount); });
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
    document.addEventListener("basodara:outbox", showCount);
    window.addEventListener("online", sync);
    store.expireIfStale().then(function () { showCount(); sync(); });
  });
})();
