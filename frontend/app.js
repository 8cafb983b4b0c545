// SatyaMark's minimal web client: log in, open the WebSocket (token sent as the first
// message, never in the URL), submit texts, show verdicts as they are pushed. The id of
// the last event seen is kept in sessionStorage and sent on reconnect, so verdicts pushed
// while the socket was down are replayed; if the server says history was truncated, or
// asks for a resync (Redis lost its data), the pending rows are reloaded from /v1/tasks. Under a verdict, the per-claim verdicts it
// was derived from. Server text only ever goes into the page as textContent. An expired
// access token is renewed with the login's refresh token (one refresh at a time: a
// refresh token is single use, and presenting a spent one revokes the whole login).
// Below the verdicts: the history (GET /v1/tasks), API keys, webhooks and, for admins, the
// ops page (queue gauges pushed over the socket every 2 s, dead letters, intake, audit).
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("satyamark.token");
let refreshToken = sessionStorage.getItem("satyamark.refresh");
let refreshing = null; // the refresh in progress, shared by everyone who needs it
let lastEventId = sessionStorage.getItem("satyamark.lastEventId");
let socket = null;
const rows = new Map(); // taskId -> table row
const claimRows = new Map(); // taskId -> the row under it listing its claims
const MARKS = new Set(["Correct", "Incorrect", "Insufficient", "Subjective"]);

function showError(message) { $("error").textContent = message || ""; }

function remember(eventId) {
  if (!eventId) return;
  lastEventId = eventId;
  sessionStorage.setItem("satyamark.lastEventId", eventId);
}

function forgetEvents() {
  lastEventId = null;
  sessionStorage.removeItem("satyamark.lastEventId");
}

function keepSession(data) {
  token = data.access_token;
  refreshToken = data.refresh_token;
  sessionStorage.setItem("satyamark.token", token);
  sessionStorage.setItem("satyamark.refresh", refreshToken);
}

// "ok", "expired" (log in again) or "unavailable" (try again later).
function refreshSession() {
  refreshing ??= (async () => {
    if (!refreshToken) return "expired";
    const response = await fetch("/v1/auth/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    if (response.status >= 500 || response.status === 429) return "unavailable";
    if (!response.ok) return "expired";
    keepSession(await response.json());
    return "ok";
  })().catch(() => "unavailable").finally(() => { refreshing = null; });
  return refreshing;
}

async function api(path, body, renewed = false, method = body === undefined ? "GET" : "POST") {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  const sent = token;
  const response = await fetch(`/v1${path}`, init);
  if (response.status === 401 && token && !renewed && !path.startsWith("/auth/")) {
    // Renewed meanwhile (by another call or the socket): retry, refresh tokens are single use.
    if (token !== sent) return api(path, body, true, method);
    const outcome = await refreshSession();
    if (outcome === "ok") return api(path, body, true, method);
    if (outcome === "expired") logout();
  }
  if (response.status === 204) return {};
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const retry = response.headers.get("retry-after");
    throw new Error(`${data.errorCode || response.status}: ${data.message || "request failed"}` +
                    (retry ? ` (retry in ${retry}s)` : ""));
  }
  return data;
}

function row(taskId, text) {
  const tr = document.createElement("tr");
  for (const value of [text, "…", "", "waiting for the verdict"]) {
    const td = document.createElement("td");
    td.textContent = value;
    tr.appendChild(td);
  }
  const cancel = element("button", "Cancel");
  cancel.type = "button";
  cancel.dataset.cancel = taskId;
  cancel.addEventListener("click", () => cancelTask(taskId));
  tr.children[3].append(" ", cancel); // gone once the verdict replaces the text
  $("results").prepend(tr);
  rows.set(taskId, tr);
  return tr;
}

// A worker started the job (or will retry it): jobs run minutes, so say it moved.
function showProgress(taskId, event) {
  const tr = rows.get(taskId);
  if (!tr || tr.dataset.final) return;
  const reason = tr.children[3];
  reason.textContent = event.stage === "retried"
    ? `retrying (attempt ${event.attempt} failed)`
    : `started (attempt ${event.attempt})`;
}

function fill(taskId, event) {
  const tr = rows.get(taskId);
  if (!tr) return;
  const [, mark, confidence, reason] = tr.children;
  tr.dataset.final = "true";
  if (event.type === "failed") {
    mark.textContent = "failed"; mark.className = "failed";
    reason.textContent = `${event.errorCode}: ${event.message}`;
    return;
  }
  mark.textContent = event.mark + (event.cached ? " (cached)" : "");
  mark.className = event.mark;
  confidence.textContent = `${event.confidence}%`;
  reason.textContent = event.reason;
  showClaims(taskId, tr, Array.isArray(event.claims) ? event.claims : []);
  // How verdicts are reached is the same for every result: said once, under the table.
  if (typeof event.method === "string" && event.method) {
    document.getElementById("method").textContent = `How: ${event.method}`;
  }
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// Only web links become links: a javascript: or data: URL stays plain text.
function webUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch { return null; }
}

function evidenceItem(evidence) {
  const p = element("p", undefined, "evidence");
  p.append(`Known claim (${evidence.verdict}): `, element("q", evidence.claim));
  if (evidence.explanation) p.append(` ${evidence.explanation}`);
  const url = webUrl(evidence.sourceUrl);
  const label = evidence.sourceName || (url ? url.hostname : evidence.sourceUrl);
  p.append(" Source: ");
  if (url) {
    const link = element("a", label);
    link.href = url.href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    p.append(link);
  } else p.append(label);
  return p;
}

function claimItem(claim) {
  const li = element("li", undefined, "claim");
  const mark = element("span", `${claim.mark} (${claim.confidence}%)`, "claim-mark");
  if (MARKS.has(claim.mark)) mark.classList.add(claim.mark);
  li.append(mark, " ", element("q", claim.text, "claim-text"));
  li.append(element("p", claim.reason, "claim-reason"));
  if (claim.evidence) li.append(evidenceItem(claim.evidence));
  return li;
}

function showClaims(taskId, tr, claims) {
  claimRows.get(taskId)?.remove();
  claimRows.delete(taskId);
  if (claims.length === 0) return;
  const cell = element("td");
  cell.colSpan = 4;
  const list = element("ul");
  for (const claim of claims) list.append(claimItem(claim));
  cell.append(element("span", "Per claim:", "muted"), list);
  const claimsRow = element("tr", undefined, "claims");
  claimsRow.dataset.taskId = taskId;
  claimsRow.append(cell);
  tr.after(claimsRow);
  claimRows.set(taskId, claimsRow);
}

// History has a hole: ask the task API for every row still waiting.
async function reloadPending() {
  for (const [taskId, tr] of rows) {
    if (tr.children[1].textContent !== "…") continue;
    try {
      const task = await api(`/tasks/${encodeURIComponent(taskId)}`);
      if (task.status === "done") fill(taskId, { type: "result", cached: task.cached, ...task.result });
      else if (task.status === "failed") fill(taskId, { type: "failed", ...task.error });
    } catch (error) { showError(error.message); }
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/v1/ws`);
  const sent = token;
  socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: sent, lastEventId }));
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "ready") {
      $("socket-state").textContent = "live";
      // A first connection starts from the newest event; a resumed one from its own.
      // An empty log: resume from its start, or a verdict pushed during our first
      // disconnection would never be replayed.
      if (!lastEventId) remember(event.lastEventId || "0-0");
    } else if (event.type === "result" || event.type === "failed") {
      fill(event.taskId, event);
      remember(event.eventId);
    } else if (event.type === "progress") {
      showProgress(event.taskId, event);
      remember(event.eventId);
    } else if (event.type === "queue") showQueue(event);
    else if (event.type === "truncated" || event.type === "resync") reloadPending();
    else if (event.type === "error") showError(`${event.errorCode}: ${event.message}`);
  };
  socket.onclose = async (close) => {
    $("socket-state").textContent = "disconnected";
    if (close.code === 4401) {
      if (token && token !== sent) { connect(); return; } // renewed meanwhile by an API call
      const outcome = await refreshSession();
      if (outcome === "expired") { logout(); return; }
      if (outcome === "ok") { connect(); return; }
    }
    setTimeout(() => token && connect(), 2000);
  };
}

// The newest tasks from the API, so history survives a reload; pushed events update them.
async function loadHistory() {
  try {
    const page = await api("/tasks?limit=20");
    for (const task of page.items.slice().reverse()) {
      if (rows.has(task.taskId)) continue;
      row(task.taskId, task.text);
      if (task.status === "done") fill(task.taskId, { type: "result", cached: task.cached, ...task.result });
      else if (task.status === "failed") fill(task.taskId, { type: "failed", ...task.error });
    }
  } catch (error) { showError(error.message); }
}

async function cancelTask(taskId) {
  try {
    const task = await api(`/tasks/${encodeURIComponent(taskId)}`, undefined, false, "DELETE");
    fill(taskId, { type: "failed", ...task.error });
  } catch (error) { showError(error.message); }
}

// API keys: the whole key is shown once, right after it is made.
async function loadKeys() {
  const list = $("key-list");
  try {
    const { items } = await api("/api-keys");
    list.replaceChildren(...items.map((key) => {
      const li = element("li", `${key.name} — ${key.prefix}… (${key.scopes.join(", ")})` +
                               (key.lastUsedAt ? `, last used ${key.lastUsedAt}` : ", never used"));
      const revoke = element("button", "Revoke");
      revoke.type = "button";
      revoke.dataset.keyId = key.id;
      revoke.addEventListener("click", async () => {
        try { await api(`/api-keys/${key.id}`, undefined, false, "DELETE"); loadKeys(); }
        catch (error) { showError(error.message); }
      });
      li.append(" ", revoke);
      return li;
    }));
  } catch (error) { showError(error.message); }
}

async function loadWebhooks() {
  const list = $("webhook-list");
  try {
    const { items } = await api("/webhooks");
    list.replaceChildren(...items.map((hook) => {
      const state = hook.disabledAt ? ` — disabled: ${hook.disabledReason}` : "";
      const li = element("li", `${hook.url} (${hook.events.join(", ")})${state}`);
      const remove = element("button", "Delete");
      remove.type = "button";
      remove.addEventListener("click", async () => {
        try { await api(`/webhooks/${hook.id}`, undefined, false, "DELETE"); loadWebhooks(); }
        catch (error) { showError(error.message); }
      });
      li.append(" ", remove);
      return li;
    }));
  } catch (error) { showError(error.message); }
}

// -- the ops page (admins): gauges pushed over the socket, the rest from the admin API --

function isAdmin() {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return claims.role === "admin";
  } catch { return false; } // an API key or a malformed token: no ops page
}

let intakePaused = false;

function showQueue(view) {
  $("ops-live").textContent = `live, as of ${new Date().toLocaleTimeString()}`;
  $("ops-backlog").textContent = String(view.backlog);
  $("ops-pending").textContent = String(view.pending);
  $("ops-oldest").textContent = `${Number(view.oldestPendingAgeS).toFixed(1)} s`;
  $("ops-dlq").textContent = String(view.dlq);
  $("ops-throughput").textContent = String(view.finishedLastMinute);
  showIntake(view.intake || {});
  $("ops-consumers").replaceChildren(...(view.consumers || []).map((c) => {
    const tr = element("tr");
    tr.append(element("td", c.name), element("td", String(c.inFlight)),
              element("td", `${(c.idleMs / 1000).toFixed(1)} s`));
    return tr;
  }));
}

function showIntake(intake) {
  intakePaused = Boolean(intake.paused);
  $("ops-intake").textContent = intakePaused ? `paused${intake.reason ? `: ${intake.reason}` : ""}`
                                             : "open";
  $("intake-toggle").textContent = intakePaused ? "Resume intake" : "Pause intake";
}

async function loadDeadLetters() {
  try {
    const { items } = await api("/admin/dlq?limit=50");
    $("dlq-list").replaceChildren(...items.map((entry) => {
      const tr = element("tr");
      tr.dataset.entry = entry.entryId;
      const actions = element("td");
      for (const [label, act] of [["Replay", "replay"], ["Discard", "discard"]]) {
        const button = element("button", label);
        button.type = "button";
        button.dataset.act = act;
        button.addEventListener("click", () => actOnDeadLetter(entry.entryId, act));
        actions.append(button, " ");
      }
      tr.append(element("td", entry.taskId || "?"),
                element("td", `${entry.errorCode}: ${entry.lastError || ""}`),
                element("td", entry.diedAt), actions);
      return tr;
    }));
  } catch (error) { showError(error.message); }
}

async function actOnDeadLetter(entryId, act) {
  const reason = $("ops-reason").value;
  if (!confirm(`${act} dead letter ${entryId}?`)) return;
  try {
    const query = reason ? `?reason=${encodeURIComponent(reason)}` : "";
    if (act === "replay") await api(`/admin/dlq/${entryId}/replay`, { reason: reason || null });
    else await api(`/admin/dlq/${entryId}${query}`, undefined, false, "DELETE");
    loadDeadLetters();
    loadAudit();
  } catch (error) { showError(error.message); }
}

async function loadAudit() {
  try {
    const { items } = await api("/admin/audit?limit=20");
    $("audit-list").replaceChildren(...items.map((entry) => element(
      "li", `${entry.at} ${entry.actor} ${entry.action} ${entry.target}` +
            (entry.reason ? ` (${entry.reason})` : ""))));
  } catch (error) { showError(error.message); }
}

function enter() {
  $("login").hidden = true;
  $("workspace").hidden = false;
  connect();
  loadHistory();
  loadKeys();
  loadWebhooks();
  $("ops").hidden = !isAdmin();
  if (isAdmin()) { loadDeadLetters(); loadAudit(); }
}

function logout() {
  token = null;
  refreshToken = null;
  sessionStorage.removeItem("satyamark.token");
  sessionStorage.removeItem("satyamark.refresh");
  forgetEvents();
  $("login").hidden = false;
  $("workspace").hidden = true;
}

$("auth-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError();
  const action = event.submitter?.dataset.action || "login";
  try {
    const data = await api(`/auth/${action}`, { email: $("email").value, password: $("password").value });
    keepSession(data);
    forgetEvents(); // event ids belong to one user's log
    enter();
  } catch (error) { showError(error.message); }
});

$("verify-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError();
  const text = $("text").value;
  try {
    const data = await api("/verify", { text });
    row(data.taskId, text);
    if (data.cached) fill(data.taskId, { type: "result", cached: true, ...data.result });
    $("text").value = "";
  } catch (error) { showError(error.message); }
});

$("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError();
  const scopes = [...document.querySelectorAll("#key-form input[name=scope]:checked")].map((i) => i.value);
  try {
    const key = await api("/api-keys", { name: $("key-name").value, scopes });
    $("new-key").textContent = key.key;
    $("new-key-note").hidden = false;
    $("key-name").value = "";
    loadKeys();
  } catch (error) { showError(error.message); }
});

$("webhook-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError();
  const events = [...document.querySelectorAll("#webhook-form input[name=event]:checked")].map((i) => i.value);
  try {
    const hook = await api("/webhooks", { url: $("webhook-url").value, events });
    $("new-secret").textContent = hook.secret;
    $("new-secret-note").hidden = false;
    $("webhook-url").value = "";
    loadWebhooks();
  } catch (error) { showError(error.message); }
});

$("intake-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError();
  const reason = $("ops-reason").value || null;
  try {
    showIntake(await api("/admin/intake", { paused: !intakePaused, reason }));
    loadAudit();
  } catch (error) { showError(error.message); }
});

$("dlq-reload").addEventListener("click", () => loadDeadLetters());

if (token) enter();
