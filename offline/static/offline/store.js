// The field app's store on the phone (SPEC §12.6): the caseload minimum and the outbox, in
// IndexedDB (through idb), encrypted with AES-GCM under a key derived from an offline PIN
// (PBKDF2). Wiped at sign-out, after 5 wrong PINs and after the site's days without a sync.
//
// Kept in clear: the PIN's salt, the count of wrong PINs, the time of the last sync, how
// long the data may stay unsynced, and each outbox entry's Idempotency-Key and state. The
// derived key lives in this tab's sessionStorage only (gone when the tab or app is closed).
(function () {
  "use strict";

  var DB_NAME = "basodara-field";
  var SESSION_KEY = "basodara-field-key";
  var ITERATIONS = 200000;
  var MAX_WRONG_PINS = 5;
  var DAY_MS = 24 * 60 * 60 * 1000;
  var CHECK_TEXT = "basodara";
  var WAITING = "waiting", REFUSED = "refused";

  var dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = idb.openDB(DB_NAME, 1, {
        upgrade: function (database) {
          database.createObjectStore("meta");
          database.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        },
      });
    }
    return dbPromise;
  }

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }

  function fromBase64(text) {
    var raw = atob(text), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function derive(pin, salt, iterations) {
    return crypto.subtle
      .importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveKey"])
      .then(function (material) {
        return crypto.subtle.deriveKey(
          { name: "PBKDF2", salt: salt, iterations: iterations, hash: "SHA-256" },
          material,
          { name: "AES-GCM", length: 256 },
          true, // exported once, to this tab's session, so a reload does not ask the PIN again
          ["encrypt", "decrypt"]
        );
      });
  }

  function encrypt(key, value) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    var plain = new TextEncoder().encode(JSON.stringify(value));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, plain).then(function (data) {
      return { iv: toBase64(iv), data: toBase64(data) };
    });
  }

  function decrypt(key, box) {
    return crypto.subtle
      .decrypt({ name: "AES-GCM", iv: fromBase64(box.iv) }, key, fromBase64(box.data))
      .then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
  }

  function remember(key) {
    return crypto.subtle.exportKey("raw", key).then(function (raw) {
      sessionStorage.setItem(SESSION_KEY, toBase64(raw));
      return key;
    });
  }

  function sessionKey() {
    var raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return Promise.resolve(null);
    return crypto.subtle.importKey("raw", fromBase64(raw), "AES-GCM", false, ["encrypt", "decrypt"]);
  }

  // Whether the database is there, without creating it (a page of someone who never chose a
  // PIN leaves nothing behind); where the browser cannot list databases, it is opened.
  function present() {
    if (dbPromise || !indexedDB.databases) return Promise.resolve(true);
    return indexedDB.databases().then(function (list) {
      return list.some(function (entry) { return entry.name === DB_NAME; });
    });
  }

  function getMeta(name) {
    return present().then(function (there) {
      if (!there) return undefined;
      return db().then(function (database) { return database.get("meta", name); });
    });
  }

  function setMeta(name, value) {
    return db().then(function (database) { return database.put("meta", value, name); });
  }

  var store = {
    MAX_WRONG_PINS: MAX_WRONG_PINS,

    // "none" (no PIN set), "locked" (PIN needed in this tab) or "open".
    state: function () {
      return getMeta("setup").then(function (setup) {
        if (!setup) return "none";
        return sessionKey().then(function (key) { return key ? "open" : "locked"; });
      });
    },

    setUp: function (pin) {
      var salt = crypto.getRandomValues(new Uint8Array(16));
      return derive(pin, salt, ITERATIONS).then(function (key) {
        return encrypt(key, CHECK_TEXT).then(function (check) {
          return setMeta("setup", { salt: toBase64(salt), iterations: ITERATIONS, check: check })
            .then(function () { return setMeta("wrong_pins", 0); })
            .then(function () { return remember(key); });
        });
      });
    },

    // Resolves {ok: true}, {ok: false, left: n} or {ok: false, wiped: true}.
    unlock: function (pin) {
      return getMeta("setup").then(function (setup) {
        if (!setup) return { ok: false, wiped: true };
        return derive(pin, fromBase64(setup.salt), setup.iterations).then(function (key) {
          return decrypt(key, setup.check).then(
            function () {
              return setMeta("wrong_pins", 0).then(function () { return remember(key); }).then(function () {
                return { ok: true };
              });
            },
            function () {
              return getMeta("wrong_pins").then(function (wrong) {
                wrong = (wrong || 0) + 1;
                if (wrong >= MAX_WRONG_PINS) {
                  return store.wipe().then(function () { return { ok: false, wiped: true }; });
                }
                return setMeta("wrong_pins", wrong).then(function () {
                  return { ok: false, left: MAX_WRONG_PINS - wrong };
                });
              });
            }
          );
        });
      });
    },

    lock: function () {
      sessionStorage.removeItem(SESSION_KEY);
    },

    // Everything on the phone goes: the database and this tab's key.
    wipe: function () {
      sessionStorage.removeItem(SESSION_KEY);
      var closing = dbPromise ? dbPromise.then(function (database) { database.close(); }) : Promise.resolve();
      dbPromise = null;
      return closing.then(function () { return idb.deleteDB(DB_NAME); });
    },

    // Wipes and resolves true when the last sync is older than the site allows.
    expireIfStale: function (now) {
      return Promise.all([getMeta("last_sync"), getMeta("offline_days")]).then(function (values) {
        var last = values[0], days = values[1];
        if (!last || !days || (now || Date.now()) - last <= days * DAY_MS) return false;
        return store.wipe().then(function () { return true; });
      });
    },

    saveCaseload: function (caseload) {
      return sessionKey().then(function (key) {
        return encrypt(key, caseload).then(function (box) {
          return setMeta("caseload", box)
            .then(function () { return setMeta("last_sync", Date.now()); })
            .then(function () { return setMeta("offline_days", caseload.offline_days); })
            .then(function () { return setMeta("user", caseload.user); });
        });
      });
    },

    caseload: function () {
      return Promise.all([sessionKey(), getMeta("caseload")]).then(function (values) {
        return values[1] ? decrypt(values[0], values[1]) : null;
      });
    },

    lastSync: function () {
      return getMeta("last_sync");
    },

    user: function () {
      return getMeta("user");
    },

    // An entry to send: {kind, url, body, client, summary}; its key is made here, once.
    queue: function (entry) {
      return sessionKey().then(function (key) {
        return encrypt(key, entry).then(function (box) {
          return db().then(function (database) {
            return database.add("outbox", {
              key: crypto.randomUUID(),
              state: WAITING,
              created_at: Date.now(),
              box: box,
            });
          });
        });
      });
    },

    // Every entry, oldest first, with its content decrypted.
    outbox: function () {
      return Promise.all([sessionKey(), db()]).then(function (values) {
        var key = values[0];
        return values[1].getAll("outbox").then(function (rows) {
          return Promise.all(
            rows.map(function (row) {
              return decrypt(key, row.box).then(function (entry) {
                return Object.assign({}, row, { entry: entry, box: undefined });
              });
            })
          );
        });
      });
    },

    // How many wait to be sent and how many were refused (no PIN needed).
    counts: function () {
      return getMeta("setup").then(function (setup) {
        if (!setup) return { waiting: 0, refused: 0 };
        return db().then(function (database) {
          return database.getAll("outbox").then(function (rows) {
            var refused = rows.filter(function (row) { return row.state === REFUSED; }).length;
            return { waiting: rows.length - refused, refused: refused };
          });
        });
      });
    },

    refuse: function (seq, status, detail) {
      return db().then(function (database) {
        return database.get("outbox", seq).then(function (row) {
          if (!row) return;
          row.state = REFUSED;
          row.status = status;
          row.detail = detail;
          return database.put("outbox", row);
        });
      });
    },

    // A refused entry to send again as it is (same key): the reason may be gone.
    retry: function (seq) {
      return db().then(function (database) {
        return database.get("outbox", seq).then(function (row) {
          if (!row) return;
          row.state = WAITING;
          delete row.status;
          delete row.detail;
          return database.put("outbox", row);
        });
      });
    },

    discard: function (seq) {
      return db().then(function (database) { return database.delete("outbox", seq); });
    },
  };

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function fetchCaseload() {
    return fetch("/api/v1/field/caseload/", { credentials: "same-origin", headers: { Accept: "application/json" } });
  }

  // The server's reason, as one line: its `detail` or each field's first error.
  function reasonOf(body) {
    if (!body || typeof body !== "object") return "";
    if (body.detail) return String(body.detail);
    return Object.keys(body)
      .map(function (name) {
        var value = body[name];
        return name + ": " + (Array.isArray(value) ? value.join(" ") : JSON.stringify(value));
      })
      .join("; ");
  }

  // The caseload is fetched again at most this often unless entries wait: each fetch is a
  // logged read of every client in it, not something to repeat on every page.
  var REFRESH_MS = 15 * 60 * 1000;

  store.needsSync = function () {
    return Promise.all([store.counts(), getMeta("last_sync")]).then(function (values) {
      return values[0].waiting > 0 || !values[1] || Date.now() - values[1] > REFRESH_MS;
    });
  };

  var syncing = null;

  // Send what waits, in order, each with its own Idempotency-Key, then refresh the caseload.
  // Resolves {sent, refused, signedOut, offline}. A refused entry (4xx) is kept and marked;
  // a network error or a 5xx stops here, to try again later, in the same order.
  store.sync = function () {
    if (syncing) return syncing;
    var result = { sent: 0, refused: 0, signedOut: false, offline: false };
    syncing = store
      .state()
      .then(function (state) {
        if (state !== "open") return result;
        return fetchCaseload().then(function (first) {
          if (!first.ok) {
            result.signedOut = first.status === 401 || first.status === 403;
            return result;
          }
          return first.json().then(function (caseload) {
            return store.user().then(function (user) {
              // Another account signed in on this phone: nothing of the previous one stays.
              if (user && user !== caseload.user) {
                return store.wipe().then(function () { result.signedOut = true; return result; });
              }
              return sendAll(result).then(function () {
                if (!result.sent && !result.refused) return caseload;
                return fetchCaseload().then(function (again) { return again.ok ? again.json() : caseload; });
              }).then(function (latest) {
                return store.saveCaseload(latest).then(function () { return result; });
              });
            });
          });
        });
      })
      .catch(function () {
        result.offline = true;
        return result;
      })
      .then(function (done) {
        syncing = null;
        document.dispatchEvent(new CustomEvent("basodara:outbox"));
        return done;
      });
    return syncing;
  };

  function sendAll(result) {
    return store.outbox().then(function (rows) {
      var waiting = rows.filter(function (row) { return row.state === WAITING; });
      return waiting.reduce(function (previous, row) {
        return previous.then(function (stop) {
          if (stop) return true;
          return fetch(row.entry.url, {
            method: "POST",
            credentials: "same-origin",
            headers: {
              "Content-Type": "application/json",
              Accept: "application/json",
              "X-CSRFToken": csrfToken(),
              "Idempotency-Key": row.key,
            },
            body: JSON.stringify(row.entry.body),
          }).then(function (response) {
            if (response.ok) {
              result.sent += 1;
              return store.discard(row.seq).then(function () { return false; });
            }
            if (response.status >= 500) return true;
            return response
              .json()
              .catch(function () { return null; })
              .then(function (body) {
                result.refused += 1;
                return store.refuse(row.seq, response.status, reasonOf(body)).then(function () { return false; });
              });
          });
        });
      }, Promise.resolve(false));
    });
  }

  window.BasodaraStore = store;
})();
