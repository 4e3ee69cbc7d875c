// The agent desk: live updates over WebSocket, timers, keyboard shortcuts.
// The server decides everything; this file only refreshes the panel and presses buttons.
(function () {
  "use strict";
  const desk = document.getElementById("desk");
  if (!desk) return;
  const panelUrl = desk.dataset.panelUrl;
  const conn = document.getElementById("desk-conn");

  let pending = false;  // a change arrived while the agent was filling in the wrap-up

  function refresh() {
    if (document.activeElement && document.activeElement.closest
        && document.activeElement.closest("#wrapup-form, [data-desk-typing]")
        && document.activeElement.tagName !== "BUTTON") {
      // Never swap the form away under the agent's fingers; the next change will refresh.
      pending = true;
      return;
    }
    pending = false;
    htmx.ajax("GET", panelUrl, { target: "#desk", swap: "innerHTML" });
  }

  // The server's state wins, not the order answers arrive in: a refresh answered from an
  // older state than the one shown (its state began earlier) would paint it back.
  // An answer identical to the panel shown is not swapped in either: replacing the
  // buttons under the agent's pointer for nothing can swallow a click.
  let shown = 0;
  let shownHtml = "";
  function versionOf(html) {
    const m = /data-version="([0-9.]+)"/.exec(html || "");
    return m ? parseFloat(m[1]) : 0;
  }
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target !== desk) return;  // a section of the panel answers for itself
    const html = e.detail.serverResponse || "";
    const version = versionOf(html);
    if ((version && version < shown) || html === shownHtml) { e.detail.shouldSwap = false; return; }
    shown = Math.max(shown, version);
    shownHtml = html;
  });

  // --- WebSocket with reconnect; polling while a call is live if the socket is down ---
  let socket = null;
  let retry = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + desk.dataset.wsPath);
    socket.onopen = function () { retry = 1000; conn.textContent = ""; conn.className = "conn"; refresh(); };
    socket.onmessage = function () { refresh(); };
    socket.onclose = function () {
      conn.textContent = conn.dataset.offline || "…";
      conn.className = "conn offline";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }
  connect();
  setInterval(function () {
    const grid = desk.querySelector(".desk-grid");
    const live = grid && ["dialing", "talking"].includes(grid.dataset.state);
    if (live && (!socket || socket.readyState !== WebSocket.OPEN)) refresh();
  }, 3000);

  // --- timers ---
  function pad(n) { return String(n).padStart(2, "0"); }
  setInterval(function () {
    desk.querySelectorAll("[data-since]").forEach(function (el) {
      const s = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.since)) / 1000));
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      el.textContent = (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s % 60);
    });
  }, 1000);

  // --- wrap-up: show callback / sale fields for the chosen class ---
  function syncWrapup() {
    const form = document.getElementById("wrapup-form");
    if (!form) return;
    const chosen = form.querySelector("input[name=disposition]:checked");
    const cls = chosen ? chosen.dataset.cls : "";
    form.classList.toggle("is-callback", cls === "callback");
    form.classList.toggle("is-success", cls === "success");
    form.querySelectorAll(".dispo").forEach(function (l) {
      l.classList.toggle("chosen", l.querySelector("input").checked);
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.name === "disposition") syncWrapup();
  });
  document.body.addEventListener("htmx:afterSwap", syncWrapup);
  // After every answer, swapped or not (an identical one is not).
  document.body.addEventListener("htmx:afterRequest", function () {
    document.body.dataset.live = socket && socket.readyState === WebSocket.OPEN ? "1" : "";
    if (pending) refresh();
  });
  syncWrapup();

  // --- keyboard: N next, D dial, H hang up, S skip, R resume, 1–9 outcomes, Ctrl+Enter save ---
  document.addEventListener("keydown", function (e) {
    const t = e.target;
    const typing = t && (t.tagName === "INPUT" && t.type !== "radio" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      if (t && t.closest && t.closest("[data-desk-typing]")) return;  // a form of its own
      const form = document.getElementById("wrapup-form");
      if (form) { e.preventDefault(); htmx.trigger(form, "submit"); }
      return;
    }
    if (typing && !e.altKey) return;
    if (e.ctrlKey || e.metaKey) return;
    const key = e.key.toLowerCase();
    const target = desk.querySelector('[data-key="' + CSS.escape(key) + '"]');
    if (!target) return;
    e.preventDefault();
    const radio = target.querySelector("input[type=radio]");
    if (radio) { radio.checked = true; syncWrapup(); radio.focus(); }
    else if (target.tagName === "BUTTON" && !target.disabled) {
      htmx.process(target);  // a button swapped in a moment ago may not be wired yet
      target.click();
    }
  });

  // After the outcome is saved the notes box is gone; a new call starts with an empty one.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status === 200 && e.detail.requestConfig.path.indexOf("wrapup") !== -1) {
      const notes = document.getElementById("call-notes");
      if (notes) notes.value = "";
    }
  });
})();
