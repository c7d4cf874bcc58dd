// Keyboard use of the review queue: j/k move between suggestions, a approves, r moves to the reason field to
// reject (Enter sends it), x selects for bulk approval. Everything also works without this script.
(function () {
  "use strict";
  function items() { return Array.prototype.slice.call(document.querySelectorAll("ol.queue > li.item")); }
  function current() { return document.querySelector("ol.queue > li.item.current"); }
  function select(item) {
    if (!item) { return; }
    items().forEach(function (i) { i.classList.remove("current"); });
    item.classList.add("current");
    item.focus();
    item.scrollIntoView({ block: "nearest" });
  }
  function move(by) {
    var all = items();
    if (!all.length) { return; }
    var at = all.indexOf(current());
    select(all[Math.min(all.length - 1, Math.max(0, at + by))] || all[0]);
  }
  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    var item = current();
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "a" && item) { item.querySelector("button.approve").click(); event.preventDefault(); }
    else if (event.key === "r" && item) { item.querySelector("input.reason").focus(); event.preventDefault(); }
    else if (event.key === "x" && item) { var box = item.querySelector("input[name=pick]"); box.checked = !box.checked; event.preventDefault(); }
  });
  // Enter in a reason field rejects (the form's first button would approve).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList && event.target.classList.contains("reason")) {
      event.preventDefault();
      event.target.form.querySelector("button.reject").click();
    }
  });
  document.addEventListener("focusin", function (event) {
    var item = event.target.closest && event.target.closest("ol.queue > li.item");
    if (item && !item.classList.contains("current")) {
      items().forEach(function (i) { i.classList.remove("current"); });
      item.classList.add("current");
    }
  });
  // After a decision the page comes back without the suggestion decided: the next one takes the focus.
  document.addEventListener("DOMContentLoaded", function () {
    var all = items();
    if (all.length && /[?&]decided=/.test(window.location.search)) { select(all[0]); }
    else if (all.length) { all[0].classList.add("current"); }
  });
}());
// The project form's term fields (list="concepts"): as one is typed in, the list offers the vocabulary's labels for
// it, in the reader's language. Without this script the fields take any words, mapped when the project is saved.
(function () {
  "use strict";
  var list = document.getElementById("concepts");
  if (!list || !window.fetch) { return; }
  var timer = null;
  var asked = "";
  function offer(items) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.label;
      list.appendChild(option);
    });
  }
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field || field.getAttribute("list") !== "concepts") { return; }
    var typed = field.value.trim();
    if (typed.length < 2 || typed === asked) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      asked = typed;
      fetch("/console/projects/terms?q=" + encodeURIComponent(typed), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (answer) { return answer.ok ? answer.json() : { items: [] }; })
        .then(function (body) { if (asked === typed) { offer(body.items || []); } })
        .catch(function () { /* no suggestions; the field still takes what is typed */ });
    }, 200);
  });
}());

// Vocabulary: a concept field marked data-suggest offers concepts as one types, in the datalist its `list` names,
// from /console/vocabulary/suggest. Without this script the datalist keeps the server's candidates and the server
// resolves what was typed.
(function () {
  "use strict";
  function fill(input) {
    var q = input.value.trim();
    var list = document.getElementById(input.getAttribute("list"));
    if (!list || q.length < 2) { return; }
    fetch("/console/vocabulary/suggest?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (body) {
        if (input.value.trim() !== q || !body.items.length) { return; }
        while (list.firstChild) { list.removeChild(list.firstChild); }
        body.items.forEach(function (c) {
          var option = document.createElement("option");
          option.value = c.label;
          option.textContent = c.concept;
          list.appendChild(option);
        });
      })
      .catch(function () { /* the field still works as typed */ });
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-suggest]")) { return; }
    clearTimeout(input.suggestTimer);
    input.suggestTimer = setTimeout(function () { fill(input); }, 200);
  });
}());

// A page following something under way (a matching run, a sync): its region marked data-refresh is read again every
// few seconds, in place (a live region, so screen readers hear the change), until the page no longer marks it. The
// page's Refresh link does the same by hand.
(function () {
  "use strict";
  function follow(live) {
    var seconds = parseInt(live.getAttribute("data-refresh"), 10) || 2;
    setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById(live.id);
          if (!fresh) { return; }
          live.innerHTML = fresh.innerHTML;
          if (fresh.hasAttribute("data-refresh")) { follow(live); } else { live.removeAttribute("data-refresh"); }
        })
        .catch(function () { /* the Refresh link remains */ });
    }, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var live = document.querySelector("[data-refresh][id]");
    if (live) { follow(live); }
  });
}());
