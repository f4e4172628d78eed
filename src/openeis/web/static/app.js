// Render every chart on the page with the vendored Vega. Specs are JSON in <script
// type="application/json"> next to their container. Vega's expression interpreter is used
// instead of compiled code, so the Content-Security-Policy needs no 'unsafe-eval'.
(function () {
  "use strict";
  function render(container) {
    var source = document.getElementById(container.dataset.spec);
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    window.vegaEmbed(container, spec, {
      renderer: "svg",
      actions: false,
      defaultStyle: false,
      ast: true,
      expr: window.vegaInterpreter.expressionInterpreter
    }).then(function () {
      container.dataset.rendered = "true";
    }).catch(function (error) {
      container.dataset.rendered = "error";
      container.textContent = "The chart could not be drawn (" + error.message + "); the table on this page has the same numbers.";
    });
  }
  document.querySelectorAll(".vega[data-spec]").forEach(render);
})();
