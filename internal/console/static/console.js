// sparkplane console: the few things a page does after it has loaded. Every page works
// without this script; with it, the job list updates live, cancel asks once more in place,
// and the logs viewer follows a running job. Text from the server goes in as text; HTML only
// comes from the server's own templates, which escape what they show.
"use strict";

(function () {
  const csrf = () => (document.querySelector("main") || {}).dataset?.csrf || "";

  // Live job list: the server sends the rows again whenever they change.
  function liveRows() {
    const body = document.querySelector("tbody[data-live]");
    if (!body || !window.EventSource) return;
    const status = document.getElementById("live-status");
    const announce = document.getElementById("live-announce");
    const say = (t) => { if (status) status.textContent = t; };
    const es = new EventSource(body.dataset.live);
    const update = (ev) => {
      const before = {};
      body.querySelectorAll("tr[id]").forEach((tr) => { before[tr.id] = tr.dataset.state; });
      // The new rows replace the old ones: the focus, and a cancel waiting for its
      // confirmation, move to the same control of the same row.
      const focused = document.activeElement;
      const focusRow = focused && body.contains(focused) ? focused.closest("tr[id]") : null;
      const focusAt = focusRow ? [...focusRow.querySelectorAll("a, button")].indexOf(focused) : -1;
      body.innerHTML = ev.data;
      let changed = 0;
      body.querySelectorAll("tr[id]").forEach((tr) => {
        if (before[tr.id] !== tr.dataset.state) { tr.classList.add("flash"); changed++; }
      });
      for (const [id, until] of armed) {
        const form = body.querySelector("#" + CSS.escape(id) + " form.cancel");
        if (form && until > Date.now()) arm(form, until);
        else armed.delete(id);
      }
      if (focusRow) {
        const row = document.getElementById(focusRow.id);
        const target = row && (row.querySelectorAll("a, button")[focusAt] || row.querySelector("a"));
        if (target) target.focus({ preventScroll: true });
      }
      say("Live · updated " + new Date().toLocaleTimeString());
      // Screen readers hear only what changed, not every refresh of the durations.
      if (changed && announce) announce.textContent = changed + " job run" + (changed > 1 ? "s" : "") + " changed state";
    };
    es.addEventListener("rows", update);
    es.addEventListener("open", () => { if (status && !status.textContent) say("Live"); });
    es.addEventListener("failed", (ev) => say("Live updates failed: " + ev.data));
    es.addEventListener("stopped", (ev) => { es.close(); say("Live updates stopped: " + ev.data); });
    es.addEventListener("signedout", () => { es.close(); say("Your session has ended: reload the page to sign in again."); });
    es.addEventListener("error", () => say("Live updates interrupted; reconnecting…"));
  }

  // Cancel: the first press asks to confirm in place, for confirmFor, the second cancels.
  // armed holds the rows that ask, by id, with when they stop asking, so that the question
  // outlives the live updates that replace the rows.
  const confirmFor = 5000;
  const armed = new Map();

  function arm(form, until) {
    const button = form.querySelector("button");
    const row = form.closest("tr[id]");
    if (!form.dataset.armed) form.dataset.label = button.getAttribute("aria-label") || "";
    form.dataset.armed = "1";
    button.textContent = "Confirm cancel";
    button.setAttribute("aria-label", form.dataset.confirm || "Confirm cancel");
    if (row) armed.set(row.id, until);
    setTimeout(() => { if (form.isConnected) disarm(form); }, until - Date.now());
  }

  function disarm(form) {
    if (!form.dataset.armed) return;
    const button = form.querySelector("button");
    const row = form.closest("tr[id]");
    delete form.dataset.armed;
    button.textContent = "Cancel";
    if (form.dataset.label) button.setAttribute("aria-label", form.dataset.label);
    else button.removeAttribute("aria-label");
    if (row) armed.delete(row.id);
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!form.classList || !form.classList.contains("cancel")) return;
    ev.preventDefault();
    const button = form.querySelector("button");
    if (!form.dataset.armed) {
      arm(form, Date.now() + confirmFor);
      return;
    }
    const asked = form.closest("tr[id]");
    if (asked) armed.delete(asked.id);
    button.disabled = true;
    button.textContent = "Cancelling…";
    const res = await fetch(form.action, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf() },
      body: new URLSearchParams(new FormData(form)),
    });
    const out = await res.json().catch(() => ({}));
    const row = form.closest("tr");
    if (res.ok) {
      button.textContent = "Cancelling";
      const badge = row && row.querySelector(".badge");
      if (badge) { badge.textContent = "CANCEL_PENDING"; badge.className = "badge muted"; }
    } else {
      button.disabled = false;
      disarm(form);
      showAlert(out.message || ("The job run was not cancelled (" + res.status + ")"), res.status === 403);
    }
  });

  function showAlert(text, denied) {
    let box = document.getElementById("page-alert");
    if (!box) {
      box = document.createElement("div");
      box.id = "page-alert";
      box.setAttribute("role", "alert");
      const main = document.querySelector("main");
      main.insertBefore(box, main.firstChild);
    }
    box.className = "alert " + (denied ? "denied" : "error");
    box.textContent = text;
  }

  // Logs viewer: follow streams the log into the page as it is written.
  function logsViewer() {
    const form = document.getElementById("logs-form");
    const out = document.getElementById("log");
    if (!form || !out) return;
    const status = document.getElementById("log-status");
    let ctl = null;
    const follow = form.querySelector("[name=follow]");
    async function run() {
      if (ctl) ctl.abort();
      ctl = new AbortController();
      const q = new URLSearchParams(new FormData(form));
      q.delete("follow");
      q.set("follow", "true");
      out.textContent = "";
      status.textContent = "Following…";
      try {
        const res = await fetch(form.dataset.api + "?" + q.toString(), { credentials: "same-origin", signal: ctl.signal });
        if (!res.ok) {
          const e = await res.json().catch(() => ({}));
          status.textContent = e.message || ("The logs could not be read (" + res.status + ")");
          return;
        }
        const reader = res.body.getReader();
        const dec = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const stick = out.scrollTop + out.clientHeight >= out.scrollHeight - 8;
          out.append(document.createTextNode(dec.decode(value, { stream: true })));
          if (stick) out.scrollTop = out.scrollHeight;
        }
        status.textContent = "The log has ended.";
      } catch (e) {
        if (e.name !== "AbortError") status.textContent = "Following stopped: " + e.message;
      }
    }
    if (follow && follow.checked) run();
    form.addEventListener("submit", (ev) => {
      if (follow && follow.checked) { ev.preventDefault(); run(); }
    });
    if (follow) follow.addEventListener("change", () => { if (!follow.checked && ctl) { ctl.abort(); status.textContent = "Stopped following."; } });
  }

  // On a phone the filters start folded, unless some are set.
  function foldFilters() {
    const box = document.querySelector("details.filters-box");
    if (box && !("active" in box.dataset) && window.matchMedia("(max-width: 720px)").matches) box.open = false;
  }

  // A log shown by its last lines starts at its end.
  function logAtEnd() {
    const out = document.getElementById("log");
    if (out) out.scrollTop = out.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", () => { foldFilters(); logAtEnd(); liveRows(); logsViewer(); });
})();
