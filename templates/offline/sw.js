// BASODARA's service worker (SPEC §12.6), built on Workbox. It keeps the offline shell and the
// files it needs, never a page or an answer with client data: pages always come from the
// network, and when there is none, the shell opens instead and shows what the phone keeps
// (encrypted) for the signed-in field worker.
importScripts({{ workbox_sw|safe }});

var MODULES = {{ modules|safe }};
workbox.setConfig({ debug: false, modulePathCb: function (name) { return MODULES[name]; } });
// Loaded now: a service worker may import scripts only while it is being installed.
var core = workbox.core, routing = workbox.routing, strategies = workbox.strategies, precaching = workbox.precaching;
var SHELL = {{ shell_url|safe }};

core.setCacheNameDetails({ prefix: "basodara" });
core.skipWaiting();
core.clientsClaim();
precaching.cleanupOutdatedCaches();
precaching.precacheAndRoute({{ precache|safe }});

// Pages (GET navigations): from the network; without one, the shell, at once.
routing.registerRoute(function (options) { return options.request.mode === "navigate"; }, new strategies.NetworkOnly());
routing.setCatchHandler(function (options) {
  if (options.request.mode !== "navigate") return Promise.resolve(Response.error());
  return precaching.matchPrecache(SHELL).then(function (response) { return response || Response.error(); });
});
