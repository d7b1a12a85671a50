/* memoryhole dashboard and report: draws the charts. No inline script anywhere, no eval:
   Vega runs its CSP-safe expression interpreter (ast: true + vega-interpreter). Text from the
   platform only ever reaches the page as escaped HTML from the server or as chart data. */
(function () {
  "use strict";

  function options() {
    return {
      renderer: "svg",
      actions: { export: true, source: false, compiled: false, editor: false },
      defaultStyle: false,
      forceActionsMenu: true,
      ast: true,
      expr: window.vegaInterpreter.expressionInterpreter,
      tooltip: { disableDefaultStyle: true },
      downloadFileName: "memoryhole-chart",
    };
  }

  function fail(el, message) {
    el.textContent = "";
    var p = document.createElement("p");
    p.className = "muted";
    p.textContent = message;
    el.appendChild(p);
  }

  function draw(el, spec) {
    window.vegaEmbed(el, spec, options()).catch(function (error) {
      fail(el, "The chart could not be drawn: " + error);
    });
  }

  function embed(el) {
    if (el.getAttribute("data-state")) return;
    el.setAttribute("data-state", "loading");
    if (!window.vegaEmbed || !window.vegaInterpreter) {
      fail(el, "Charts need the scripts bundled with memoryhole.");
      return;
    }
    var inline = el.getAttribute("data-spec-inline");
    if (inline) {
      var source = document.getElementById(inline);
      if (source) draw(el, JSON.parse(source.textContent));
      return;
    }
    fetch(el.getAttribute("data-spec"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (response.status === 503) {
          el.removeAttribute("data-state");
          window.setTimeout(function () { embed(el); }, 5000);
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (spec) {
        if (spec) draw(el, spec);
      })
      .catch(function (error) {
        fail(el, "The chart could not be loaded: " + error);
      });
  }

  function scan(root) {
    var found = (root || document).querySelectorAll(".chart[data-spec], .chart[data-spec-inline]");
    for (var i = 0; i < found.length; i++) embed(found[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { scan(document); });
  } else {
    scan(document);
  }
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.target); });
})();
