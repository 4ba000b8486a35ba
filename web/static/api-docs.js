// /api/docs: Swagger UI's "Try it out" sends the session's CSRF token with state-changing calls
// (the same check every POST/PUT/DELETE of the dashboard passes). Loaded after the page has
// created `ui`.
(function () {
  "use strict";
  var SAFE = ["GET", "HEAD", "OPTIONS"];
  function install() {
    if (typeof ui === "undefined") { setTimeout(install, 50); return; }
    ui.getConfigs().requestInterceptor = function (req) {
      if (SAFE.indexOf(String(req.method || "GET").toUpperCase()) >= 0) return req;
      return fetch("/api/session", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) { req.headers["X-CSRF-Token"] = s.csrf_token; return req; });
    };
  }
  install();
})();
