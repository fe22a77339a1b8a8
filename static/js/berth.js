// Berth's own script: small enhancements that pages do not depend on.
// Loaded with defer; no inline script anywhere, so a strict CSP holds.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#target">. Shown only when the
  // clipboard API exists, since without script the text is selectable anyway.
  function wireCopy(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("button[data-copy]").forEach(function (btn) {
      if (btn.dataset.wired) return;
      btn.dataset.wired = "1";
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var target = document.querySelector(btn.dataset.copy);
        if (!target) return;
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          var label = btn.textContent;
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = label; }, 1500);
        });
      });
    });
  }

  // Panels that narrow screens fold away (see collapseToggle): the state
  // is a class on the root element, which no swap replaces, and each
  // toggle's aria-expanded follows it.
  var root = document.documentElement;
  root.classList.add("js");
  function syncToggles() {
    document.querySelectorAll("button[data-collapse]").forEach(function (b) {
      b.setAttribute("aria-expanded", root.classList.contains("open-" + b.dataset.collapse) ? "true" : "false");
    });
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-collapse]");
    if (!b) return;
    root.classList.toggle("open-" + b.dataset.collapse);
    syncToggles();
  });
  document.addEventListener("htmx:afterSettle", syncToggles);

  // htmx's "morph" swap: idiomorph turns the old nodes into the new ones
  // instead of replacing them, so the focused control keeps its focus and
  // the text being typed into it (ignoreActiveValue).
  if (window.htmx && window.Idiomorph) {
    htmx.defineExtension("morph", {
      isInlineSwap: function (style) { return style === "morph"; },
      handleSwap: function (style, target, fragment) {
        if (style !== "morph") return false;
        return Idiomorph.morph(target, fragment.children, { morphStyle: "outerHTML", ignoreActiveValue: true });
      }
    });
  }

  // ----- The catalog -----
  // The form and the results are swapped together (see CatalogFragment);
  // what follows keeps that exchange honest: an unchanged query is never
  // sent again, a failed one is reported with a retry and the controls go
  // back to the query the results show, and the results say when they are
  // being replaced.
  function catalogParts() {
    var catalog = document.getElementById("catalog");
    return catalog && {
      catalog: catalog,
      form: document.getElementById("filters"),
      results: document.getElementById("results"),
      alert: document.getElementById("catalog-alert")
    };
  }

  // The query a form describes, blank fields left out, as the server reads it.
  function formQuery(form, search) {
    var p = new URLSearchParams();
    new FormData(form).forEach(function (v, k) {
      v = String(v).trim();
      if (k === "search" && search !== undefined) v = search;
      if (v !== "") p.append(k, v);
    });
    return p.toString();
  }

  function snapshot(form) {
    return [].map.call(form.elements, function (el) { return [el, el.value]; });
  }

  var sent = null;        // the query last sent or shown
  var sentSearch = null;  // the search words of the last request from the form
  var shown = null;       // the controls' values for the results on screen
  function settled(fromForm) {
    var p = catalogParts();
    if (!p || !p.form) return;
    sent = formQuery(p.form, fromForm && sentSearch !== null ? sentSearch : undefined);
    shown = snapshot(p.form);
  }

  function inCatalog(elt) {
    var p = catalogParts();
    return p && elt && (elt === p.catalog || p.catalog.contains(elt));
  }

  document.addEventListener("htmx:confirm", function (e) {
    var p = catalogParts();
    if (!p || e.detail.elt !== p.form) return;
    var q = formQuery(p.form);
    if (q === sent) {
      // Nothing changed (a search box losing focus, Enter on the same
      // words): sending it again would only put the results in flux.
      e.preventDefault();
      return;
    }
    sent = q;
    sentSearch = p.form.elements.search ? p.form.elements.search.value.trim() : "";
  });

  document.addEventListener("htmx:beforeRequest", function (e) {
    if (!inCatalog(e.detail.elt)) return;
    var p = catalogParts();
    p.results.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    var p = catalogParts();
    if (p && p.results && inCatalog(e.detail.elt)) p.results.removeAttribute("aria-busy");
  });

  // The element whose request led to a swap (the event's own elt is the
  // element swapped in).
  function trigger(e) { return e.detail.requestConfig && e.detail.requestConfig.elt; }

  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.target && e.detail.target.id === "catalog") {
      var p = catalogParts();
      settled(trigger(e) === (p && p.form));
    }
  });

  function catalogFailed(e, why) {
    var p = catalogParts();
    if (!p || !inCatalog(e.detail.elt) || !p.alert) return;
    var path = e.detail.pathInfo && e.detail.pathInfo.finalRequestPath;
    // Keep the page consistent: the controls go back to the query whose
    // results are on screen.
    if (shown) shown.forEach(function (pair) { if (pair[0].isConnected) pair[0].value = pair[1]; });
    settled(false);
    p.alert.replaceChildren();
    var msg = document.createElement("p");
    msg.textContent = why + " The results below are still those of the filters shown.";
    p.alert.appendChild(msg);
    if (path) {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "retry";
      retry.textContent = "Try again";
      retry.addEventListener("click", function () {
        htmx.ajax("GET", path, { source: p.catalog, target: "#catalog", swap: "morph" });
      });
      p.alert.appendChild(retry);
    }
    p.alert.classList.add("shown");
  }
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    catalogFailed(e, status === 503 ?
      "The server is too busy to update the results just now (503)." :
      "The server could not update the results (error " + status + ").");
  });
  document.addEventListener("htmx:sendError", function (e) {
    catalogFailed(e, "The results could not be updated: the server did not answer.");
  });
  document.addEventListener("htmx:timeout", function (e) {
    catalogFailed(e, "The results could not be updated: the server took too long to answer.");
  });

  // A link further down an image's page (the comparison, the lineage)
  // swaps in another image: the page shows it from its title, which takes
  // the focus, so the reader is not left in the middle of a new page.
  document.addEventListener("htmx:afterSettle", function (e) {
    var elt = trigger(e);
    if (!elt || !elt.getAttribute || elt.getAttribute("data-focus-title") !== "true") return;
    var h1 = document.querySelector("#image-detail h1");
    if (h1) {
      h1.scrollIntoView({ block: "start" });
      h1.focus({ preventScroll: true });
    }
  });

  document.addEventListener("DOMContentLoaded", function () { wireCopy(document); settled(false); });
  document.addEventListener("htmx:historyRestore", function () { settled(false); });
  document.addEventListener("htmx:afterSettle", function (e) { wireCopy(e.target); });
})();
