// The offline field app (SPEC §12.6): Today, the caseload, a client's summary and the visit,
// refill and tracing-attempt forms, from the encrypted store; entries go to the outbox and
// are sent when the network returns. The service worker answers any page with this shell
// when there is no network, so the page's own address says what to open.
(function () {
  "use strict";

  var store = window.BasodaraStore;
  var caseload = null;

  function $(selector) { return document.querySelector(selector); }

  function show(id) {
    ["view-loading", "view-setup", "view-unlock", "view-wiped", "view-app"].forEach(function (view) {
      $("#" + view).hidden = view !== id;
    });
  }

  function notify(text, kind) {
    var box = $("#notice");
    box.textContent = "";
    if (!text) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (kind || "info");
    alert.setAttribute("role", kind === "danger" ? "alert" : "status");
    alert.textContent = text;
    box.appendChild(alert);
  }

  function text(name) { return $("#saved-text").dataset[name]; }

  function localDate(date) {
    var d = date || new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function localDateTime(date) {
    var d = date || new Date();
    return localDate(d) + "T" + String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function label(client) { return client.code + (client.nickname ? " · " + client.nickname : ""); }

  function clientById(id) {
    return (caseload ? caseload.clients : []).filter(function (c) { return c.id === id; })[0] || null;
  }

  // --- where we are --------------------------------------------------------------------------

  function route() {
    var hash = location.hash.replace(/^#/, "");
    if (hash) {
      var parts = hash.split("/");
      return { name: parts[0], id: parts[1] ? parseInt(parts[1], 10) : null };
    }
    var path = location.pathname, m;
    if ((m = path.match(/^\/clients\/(\d+)\/visits\/new\/$/))) return { name: "visit", id: +m[1] };
    if ((m = path.match(/^\/clients\/(\d+)\/refills\/new\/$/))) return { name: "refill", id: +m[1] };
    if ((m = path.match(/^\/clients\/(\d+)\/$/))) return { name: "client", id: +m[1] };
    if (path === "/clients/") return { name: "caseload" };
    if (path === "/" || path === "/offline/") return { name: "today" };
    return { name: "missing" };
  }

  // --- rendering -----------------------------------------------------------------------------

  function listItem(client, detail) {
    var li = document.createElement("li");
    li.className = "list-group-item";
    var a = document.createElement("a");
    a.href = "#client/" + client.id;
    a.textContent = label(client);
    li.appendChild(a);
    if (detail) {
      var small = document.createElement("div");
      small.className = "small text-body-secondary";
      small.textContent = detail;
      li.appendChild(small);
    }
    return li;
  }

  function fill(list, clients, detail) {
    list.textContent = "";
    clients.forEach(function (c) { list.appendChild(listItem(c, detail(c))); });
    if (!clients.length) {
      var li = document.createElement("li");
      li.className = "list-group-item text-body-secondary";
      li.textContent = list.dataset.empty;
      list.appendChild(li);
    }
  }

  function renderToday() {
    var today = localDate(), soon = localDate(new Date(Date.now() + 3 * 86400000));
    var clients = caseload.clients;
    fill($("#today-visits"), clients.filter(function (c) { return c.next_visit_date && c.next_visit_date <= today; }),
      function (c) { return c.next_visit_date; });
    fill($("#today-refills"), clients
      .filter(function (c) { return c.next_refill_due && c.next_refill_due <= soon; })
      .sort(function (a, b) { return a.next_refill_due < b.next_refill_due ? -1 : 1; }),
      function (c) { return c.next_refill_due; });
    fill($("#today-tracing"), clients.filter(function (c) { return c.open_tracing; }),
      function (c) { return c.open_tracing.opened_on; });
  }

  function renderCaseload() {
    fill($("#caseload-list"), caseload.clients, function (c) { return c.next_refill_due || ""; });
  }

  function renderClient(client) {
    $("#client-title").textContent = label(client);
    $("#client-summary").querySelectorAll("[data-field]").forEach(function (dd) {
      var name = dd.dataset.field;
      dd.textContent = name === "tracing" ? (client.open_tracing ? client.open_tracing.opened_on : "—") : client[name] || "—";
    });
    $("#client-visit").href = "#visit/" + client.id;
    $("#client-refill").href = "#refill/" + client.id;
    $("#client-attempt").href = "#attempt/" + client.id;
    $("#client-attempt").hidden = !client.open_tracing;
  }

  function fillChoices(form) {
    form.querySelectorAll("select[data-choices]").forEach(function (select) {
      if (select.options.length) return;
      (caseload.choices[select.dataset.choices] || []).forEach(function (choice) {
        var option = document.createElement("option");
        option.value = choice[0];
        option.textContent = choice[1];
        select.appendChild(option);
      });
    });
  }

  function renderForm(name, client) {
    var form = $("#" + name + "-form");
    fillChoices(form);
    form.reset();
    form.dataset.client = client.id;
    document.querySelectorAll("#view-" + name + " [data-client-label]").forEach(function (s) { s.textContent = label(client); });
    if (name === "visit") form.elements.visited_at.value = localDateTime();
    if (name === "refill") form.elements.pickup_date.value = localDate();
  }

  function renderOutbox() {
    var list = $("#outbox-list");
    return store.outbox().then(function (rows) {
      list.textContent = "";
      if (!rows.length) {
        var empty = document.createElement("li");
        empty.className = "list-group-item text-body-secondary";
        empty.textContent = list.dataset.empty;
        list.appendChild(empty);
      }
      rows.forEach(function (row) {
        var li = document.createElement("li");
        li.className = "list-group-item outbox-entry";
        li.dataset.state = row.state;
        var head = document.createElement("div");
        head.className = "fw-semibold";
        head.textContent = list.dataset[row.entry.kind] + " · " + row.entry.client_label + " · " + new Date(row.created_at).toLocaleString();
        li.appendChild(head);
        var state = document.createElement("span");
        state.className = "badge " + (row.state === "refused" ? "text-bg-danger" : "text-bg-warning");
        state.textContent = row.state === "refused" ? list.dataset.refused + " (" + row.status + ")" : list.dataset.waiting;
        li.appendChild(state);
        if (row.detail) {
          var reason = document.createElement("p");
          reason.className = "text-danger small mb-1 outbox-reason";
          reason.textContent = row.detail;
          li.appendChild(reason);
        }
        var content = document.createElement("pre");
        content.className = "small mb-2 outbox-content";
        content.textContent = describe(row.entry);
        li.appendChild(content);
        if (row.state === "refused") {
          var actions = document.createElement("div");
          actions.className = "d-flex gap-2";
          actions.appendChild(button(list.dataset.copy, "btn-outline-secondary", function (b) {
            var done = function () { b.textContent = list.dataset.copied; };
            if (navigator.clipboard) navigator.clipboard.writeText(content.textContent).then(done, done);
          }));
          actions.appendChild(button(list.dataset.retry, "btn-outline-primary", function () {
            store.retry(row.seq).then(syncNow);
          }));
          actions.appendChild(button(list.dataset.discard, "btn-outline-danger", function () {
            store.discard(row.seq).then(refresh);
          }));
          li.appendChild(actions);
        }
        list.appendChild(li);
      });
    });
  }

  // An entry as its author typed it: the form's own labels and choice names, the time in the
  // phone's clock (the client is named in the heading).
  function describe(entry) {
    var form = document.getElementById(entry.kind + "-form");
    if (form) fillChoices(form);
    return Object.keys(entry.body)
      .filter(function (name) { return name !== "client"; })
      .map(function (name) {
        var value = entry.body[name];
        var field = form && form.elements[name];
        var caption = name;
        if (field && field.id) {
          var label = form.querySelector('label[for="' + field.id + '"]');
          if (label) caption = label.textContent.trim();
        }
        if (field && field.tagName === "SELECT") {
          var option = Array.prototype.find.call(field.options, function (o) { return o.value === String(value); });
          if (option) value = option.textContent;
        } else if (field && field.type === "datetime-local") {
          value = new Date(value).toLocaleString();
        }
        return caption + ": " + value;
      })
      .join("\n");
  }

  function button(caption, style, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm " + style;
    b.textContent = caption;
    b.addEventListener("click", function () { onClick(b); });
    return b;
  }

  function updateCounts() {
    return store.counts().then(function (counts) {
      $("#outbox-count").textContent = counts.waiting + counts.refused;
    });
  }

  function renderNetwork() {
    var badge = $("#network-state");
    badge.textContent = navigator.onLine ? badge.dataset.online : badge.dataset.offline;
    badge.className = "badge " + (navigator.onLine ? "text-bg-light" : "text-bg-warning");
  }

  function render() {
    var where = route(), views = ["today", "caseload", "client", "visit", "refill", "attempt", "outbox", "missing"];
    var client = where.id ? clientById(where.id) : null;
    var name = where.name;
    if (["client", "visit", "refill", "attempt"].indexOf(name) >= 0 && !client) name = "missing";
    if (name === "attempt" && !client.open_tracing) name = "client";
    if (views.indexOf(name) < 0) name = "missing";
    views.forEach(function (view) { $("#view-" + view).hidden = view !== name; });
    document.querySelectorAll("[data-tab]").forEach(function (tab) {
      var active = tab.dataset.tab === name;
      tab.classList.toggle("active", active);
      if (active) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
    });
    if (name === "today") renderToday();
    if (name === "caseload") renderCaseload();
    if (name === "client") renderClient(client);
    if (["visit", "refill", "attempt"].indexOf(name) >= 0) renderForm(name, client);
    store.lastSync().then(function (last) {
      $("#last-sync").textContent = last ? $("#last-sync").dataset.label + " " + new Date(last).toLocaleString() : "";
    });
    show("view-app");
    return Promise.all([updateCounts(), name === "outbox" ? renderOutbox() : null]);
  }

  function refresh() {
    return store.caseload().then(function (data) {
      caseload = data;
      return render();
    });
  }

  // --- sending -------------------------------------------------------------------------------

  function syncNow() {
    if (!navigator.onLine) return refresh();
    return store.sync().then(function (result) {
      if (result.refused) notify(text("refused"), "danger");
      else if (result.signedOut) notify(text("signin"), "warning");
      else if (result.sent) notify(text("sent"), "success");
      return store.state().then(function (state) { return state === "open" ? refresh() : start(); });
    });
  }

  function bodyOf(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.value === "") return;
      body[field.name] = field.type === "number" ? Number(field.value) : field.value;
    });
    return body;
  }

  var ENTRIES = {
    visit: function (client, body) {
      body.visited_at = new Date(body.visited_at).toISOString(); // the phone's clock and time zone
      return { url: "/api/v1/visits/", body: Object.assign({ client: client.id }, body) };
    },
    refill: function (client, body) {
      body.facility = Number(body.facility);
      return { url: "/api/v1/refills/", body: Object.assign({ client: client.id }, body) };
    },
    attempt: function (client, body) {
      return { url: "/api/v1/tracing/" + client.open_tracing.id + "/attempts/", body: body };
    },
  };

  function onSubmit(kind) {
    return function (event) {
      event.preventDefault();
      var form = event.target;
      if (!form.checkValidity()) {
        notify(text("invalid"), "danger");
        return;
      }
      var client = clientById(Number(form.dataset.client));
      var entry = ENTRIES[kind](client, bodyOf(form));
      entry.kind = kind;
      entry.client = client.id;
      entry.client_label = label(client);
      store.queue(entry).then(function () {
        notify(text("queued"), "success");
        location.hash = "outbox";
        return syncNow();
      });
    };
  }

  // --- PIN -----------------------------------------------------------------------------------

  function onSetUp(event) {
    event.preventDefault();
    var form = event.target, error = $("#setup-error");
    var pin = form.elements.pin.value, again = form.elements.pin2.value;
    error.hidden = true;
    var problem = !/^[0-9]{4,12}$/.test(pin) ? "short" : pin !== again ? "differ" : null;
    if (problem) {
      error.textContent = error.dataset[problem];
      error.hidden = false;
      return;
    }
    store.setUp(pin).then(store.sync).then(function (result) {
      return store.caseload().then(function (data) {
        if (data && !result.signedOut) return start();
        return store.wipe().then(function () {
          error.textContent = error.dataset.network;
          error.hidden = false;
        });
      });
    });
  }

  function onUnlock(event) {
    event.preventDefault();
    var form = event.target, error = $("#unlock-error");
    store.unlock(form.elements.pin.value).then(function (result) {
      form.reset();
      if (result.ok) return start();
      if (result.wiped) return wiped("pins");
      error.textContent = error.dataset.wrong + " " + result.left;
      error.hidden = false;
    });
  }

  function wiped(reason) {
    var p = $("#wiped-reason");
    p.textContent = p.dataset[reason] || "";
    show("view-wiped");
  }

  function start() {
    return store.expireIfStale().then(function (stale) {
      if (stale) return wiped("stale");
      return store.state().then(function (state) {
        if (state === "none") return show("view-setup");
        if (state === "locked") {
          show("view-unlock");
          $("#unlock-pin").focus();
          return;
        }
        return refresh().then(function () {
          if (!navigator.onLine) return;
          return store.needsSync().then(function (needed) { if (needed) return syncNow(); });
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderNetwork();
    $("#setup-form").addEventListener("submit", onSetUp);
    $("#unlock-form").addEventListener("submit", onUnlock);
    ["visit", "refill", "attempt"].forEach(function (kind) {
      $("#" + kind + "-form").addEventListener("submit", onSubmit(kind));
    });
    $("#sync-now").addEventListener("click", syncNow);
    window.addEventListener("hashchange", function () {
      store.state().then(function (state) { if (state === "open") render(); });
    });
    window.addEventListener("online", function () {
      renderNetwork();
      store.state().then(function (state) {
        if (state === "open") store.needsSync().then(function (needed) { if (needed) syncNow(); });
      });
    });
    window.addEventListener("offline", renderNetwork);
    start();
  });

})();
