/* databook site: optional enhancements. Every page reads fully without this file. */
(function () {
  "use strict";
  var root = document.documentElement;

  /* Light/dark toggle: flips whatever is shown now and remembers the choice. */
  var toggle = document.querySelector(".theme-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var dark = getComputedStyle(root).colorScheme.indexOf("dark") !== -1;
      var next = dark ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("databook-theme", next); } catch (e) { /* private mode */ }
    });
  }

  /* Copy buttons on code blocks. */
  document.querySelectorAll("pre.code").forEach(function (pre) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code");
    button.addEventListener("click", function () {
      var text = pre.querySelector("code").innerText;
      var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { button.textContent = "Select and copy"; });
      } else {
        var area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        try { document.execCommand("copy"); done(); } catch (e) { button.textContent = "Select and copy"; }
        document.body.removeChild(area);
      }
    });
    var wrap = document.createElement("div");
    wrap.className = "code-wrap";
    pre.parentNode.insertBefore(wrap, pre);
    wrap.appendChild(pre);
    wrap.appendChild(button);
  });

  /* "On this page": mark the section being read. */
  var links = Array.prototype.slice.call(document.querySelectorAll(".page-toc a"));
  if (links.length && "IntersectionObserver" in window) {
    var byId = {};
    links.forEach(function (a) { byId[decodeURIComponent(a.hash.slice(1))] = a; });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && byId[entry.target.id]) {
          links.forEach(function (a) { a.classList.remove("active"); });
          byId[entry.target.id].classList.add("active");
        }
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    Object.keys(byId).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) observer.observe(el);
    });
  }

  /* Hover previews: a link with data-preview shows its <template> (written at build time)
     beside it on hover or keyboard focus; Escape, leaving or blurring hides it. */
  var popup = null, owner = null, hideTimer = null;
  function hidePreview() {
    clearTimeout(hideTimer);
    if (popup) { popup.remove(); popup = null; }
    if (owner) { owner.removeAttribute("aria-describedby"); owner = null; }
  }
  function showPreview(link) {
    clearTimeout(hideTimer);
    if (owner === link) return;
    var template = document.getElementById(link.dataset.preview);
    if (!template || !template.content) return;
    hidePreview();
    popup = document.createElement("div");
    popup.className = "preview";
    popup.id = "preview-popup";
    popup.setAttribute("role", "tooltip");
    popup.appendChild(template.content.cloneNode(true));
    popup.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
    popup.addEventListener("mouseleave", laterHide);
    document.body.appendChild(popup);
    if (popup.scrollHeight > popup.clientHeight + 1) popup.classList.add("clipped");
    owner = link;
    link.setAttribute("aria-describedby", popup.id);
    var r = link.getBoundingClientRect();
    var width = popup.offsetWidth, height = popup.offsetHeight;
    var left = Math.min(Math.max(8, r.left), document.documentElement.clientWidth - width - 8);
    var below = r.bottom + 6 + height < window.innerHeight || r.top < height + 6;
    popup.style.left = (window.scrollX + Math.max(8, left)) + "px";
    popup.style.top = (window.scrollY + (below ? r.bottom + 6 : r.top - height - 6)) + "px";
  }
  function laterHide() { clearTimeout(hideTimer); hideTimer = setTimeout(hidePreview, 250); }
  function previewLink(target) { return target.closest ? target.closest("a[data-preview]") : null; }
  document.querySelectorAll("a[data-preview][title]").forEach(function (a) { a.removeAttribute("title"); });
  document.addEventListener("mouseover", function (e) { var a = previewLink(e.target); if (a) showPreview(a); });
  document.addEventListener("mouseout", function (e) { var a = previewLink(e.target); if (a && a === owner) laterHide(); });
  document.addEventListener("focusin", function (e) { var a = previewLink(e.target); if (a) showPreview(a); });
  document.addEventListener("focusout", function (e) { if (previewLink(e.target) === owner) hidePreview(); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") hidePreview(); });

  /* Full-text search over search-index.json (written at build time). */
  var index = null;
  function load() {
    if (!index) {
      index = fetch("search-index.json").then(function (r) { return r.json(); });
    }
    return index;
  }
  function escapeHtml(s) {
    return s.replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }
  function search(records, query) {
    var terms = query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 1; });
    if (!terms.length) return [];
    var hits = [];
    records.forEach(function (r) {
      var hay = (r.heading + " " + r.text).toLowerCase();
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var n = hay.split(terms[i]).length - 1;
        if (!n) return;
        score += n + (r.heading.toLowerCase().indexOf(terms[i]) !== -1 ? 5 : 0);
      }
      var at = hay.indexOf(terms[0]);
      var snippet = (r.heading + " " + r.text).slice(Math.max(0, at - 50), at + 90);
      hits.push({ r: r, score: score, snippet: snippet });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    return hits.slice(0, 20);
  }
  function render(hits, titles) {
    if (!hits.length) return '<p class="no-results">No match.</p>';
    return hits.map(function (h) {
      var href = h.r.page + (h.r.id ? "#" + h.r.id : "");
      var title = titles[h.r.page] || h.r.page;
      return '<a class="search-hit" href="' + escapeHtml(href) + '"><strong>' + escapeHtml(title) + "</strong>" +
        (h.r.id ? " &middot; " + escapeHtml(h.r.heading) : "") + "<small>&hellip;" + escapeHtml(h.snippet) + "&hellip;</small></a>";
    }).join("");
  }
  function titlesOf(records) {
    var titles = {};
    records.forEach(function (r) { if (!r.id) titles[r.page] = r.heading; });
    return titles;
  }
  var form = document.querySelector("form.search");
  if (form) {
    var input = form.querySelector("input");
    var box = form.querySelector(".search-results");
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (q.length < 2) { box.hidden = true; return; }
      load().then(function (records) {
        box.innerHTML = render(search(records, q), titlesOf(records));
        box.hidden = false;
      });
    });
    input.addEventListener("keydown", function (e) { if (e.key === "Escape") { box.hidden = true; } });
    document.addEventListener("click", function (e) { if (!form.contains(e.target)) box.hidden = true; });
  }
  var pageResults = document.querySelector(".search-page-results");
  if (pageResults) {
    var q = new URLSearchParams(location.search).get("q") || "";
    if (form) form.querySelector("input").value = q;
    load().then(function (records) {
      var titles = titlesOf(records);
      pageResults.innerHTML = search(records, q).map(function (h) { return "<li>" + render([h], titles) + "</li>"; }).join("") || "<li>No match.</li>";
    });
  }
})();
