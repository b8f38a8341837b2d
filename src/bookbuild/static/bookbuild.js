// The reader's framework choice and the controls that follow it (see bookbuild/sphinx_reader.py).
//
// sphinx-design already syncs the tab sets of the "framework" group, stores the last choice in
// localStorage and honours ?framework=NAME. This script runs in <head>, before sphinx-design
// initialises its tabs on DOMContentLoaded, and adds what the book needs on top:
// - the first choice is the book's default framework (PyTorch), not the first tab (MXNet);
// - an unknown ?framework= value is dropped rather than stored;
// - the "Run this page" links and the language switch follow the selected framework;
// - the edition is remembered, so that the site's front door opens it next time.
(function () {
  "use strict";
  var script = document.currentScript;
  var frameworks = (script.getAttribute("data-frameworks") || "").split(" ").filter(Boolean);
  var fallback = script.getAttribute("data-default") || frameworks[0];
  var language = script.getAttribute("data-language");
  var GROUP = "framework";
  var KEY = "sphinx-design-tab-id-" + GROUP; // sphinx-design's own key, so that both agree
  var LANGUAGE_KEY = "dlbook-language"; // read by the front door, _build/html/index.html

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (error) { return null; }
  }
  function store(key, value) {
    try { window.localStorage.setItem(key, value); } catch (error) { /* private mode: no memory */ }
  }
  function known(name) { return frameworks.indexOf(name) >= 0; }

  var url = new URL(window.location.href);
  var asked = url.searchParams.get(GROUP);
  if (asked !== null && !known(asked)) {
    url.searchParams.delete(GROUP);
    window.history.replaceState(window.history.state, "", url.href);
  } else if (asked !== null) {
    store(KEY, asked);
  }
  if (!known(load(KEY))) store(KEY, fallback);
  var current = load(KEY) || fallback;
  if (language) store(LANGUAGE_KEY, language);

  // Hide the other frameworks' run links before the page is even drawn: no flicker.
  var style = document.createElement("style");
  document.head.appendChild(style);

  function show(name) {
    current = name;
    document.documentElement.setAttribute("data-framework", name);
    style.textContent = '.bb-run__framework:not([data-framework="' + name + '"]) { display: none; }';
    var links = document.querySelectorAll("a.bb-lang__link");
    for (var i = 0; i < links.length; i++) {
      var target = new URL(links[i].href);
      target.searchParams.set(GROUP, name);
      links[i].href = target.href;
    }
  }

  show(known(current) ? current : fallback);
  document.addEventListener("DOMContentLoaded", function () { show(current); });
  // A reader's click fires "change" on one radio input; sphinx-design then checks the others.
  document.addEventListener("change", function (event) {
    var input = event.target;
    var label = input && input.nextElementSibling;
    if (!input.checked || !label || label.getAttribute("data-sync-group") !== GROUP) return;
    var name = label.getAttribute("data-sync-id");
    if (!known(name)) return;
    store(KEY, name);
    show(name);
  });
})();
