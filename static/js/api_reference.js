// The API reference page: Swagger UI (served from static/, drf-spectacular-sidecar) over the
// OpenAPI schema. "Try it out" calls the API with the page's session and CSRF token.
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;
  const csrfToken = root.dataset.csrfToken;
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: true,
    // The page's session authenticates requests; unsafe methods need the CSRF token too.
    requestInterceptor: function (request) {
      request.credentials = "same-origin";
      if (request.method && request.method.toUpperCase() !== "GET") {
        request.headers["X-CSRFToken"] = csrfToken;
      }
      return request;
    },
  });
})();
