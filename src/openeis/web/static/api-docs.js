// Start Swagger UI on /api/docs from the vendored bundle, reading the OpenAPI document of this
// server. A file rather than an inline script: the Content-Security-Policy allows scripts from
// this site only.
(function () {
  "use strict";
  window.addEventListener("load", function () {
    window.ui = window.SwaggerUIBundle({
      url: "/api/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  });
})();
