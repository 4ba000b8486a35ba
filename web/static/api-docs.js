// /api/docs: start Swagger UI from this file (the Content-Security-Policy runs no inline script).
// "Try it out" sends the session's CSRF token with state-changing calls (the same check every
// POST/PUT/DELETE of the dashboard passes).
(function () {
  "use strict";
  var SAFE = ["GET", "HEAD", "OPTIONS"];
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // no badge from validator.swagger.io: dashboards run on isolated LANs
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    requestInterceptor: function (req) {
      if (SAFE.indexOf(String(req.method || "GET").toUpperCase()) >= 0) return req;
      return fetch("/api/session", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) { req.headers["X-CSRF-Token"] = s.csrf_token; return req; });
    },
  });
})();
