// The dashboard's script: reads and drives the control API of the mock that served it.
// Plain JS, no library, nothing to build. Every value the mock received is shown as text
// (textContent, never markup): a request with <script> in its path or headers runs nothing.
"use strict";

const MAX_ROWS = 500;
const $ = (id) => document.getElementById(id);
let namespace = "default";
let source = null;
let rows = []; // {entry, item}, newest first

// An element with text children only (strings become text nodes, never markup).
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "className") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function say(text) { $("status").textContent = text; }

// The control API, in the namespace watched; relative URLs, so a proxy's prefix is kept.
async function api(method, path, body) {
  const options = {method, headers: {"X-Mock-Namespace": namespace}};
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let document_ = null;
  if (response.status !== 204) {
    const text = await response.text();
    try { document_ = text ? JSON.parse(text) : null; } catch (error) { document_ = text; }
  }
  return {status: response.status, ok: response.ok, body: document_};
}

// A problem's errors ({"[0].platform": ["..."]}) beside their field paths, or its detail.
function showErrors(list, result) {
  list.replaceChildren();
  if (result.ok) return;
  const errors = result.body && result.body.errors;
  if (errors && typeof errors === "object") {
    for (const [path, messages] of Object.entries(errors)) {
      const text = Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages);
      list.append(el("li", {}, el("code", {}, path), ": ", text));
    }
  } else {
    list.append(el("li", {}, (result.body && result.body.detail) || `HTTP ${result.status}`));
  }
}

// Asks before throwing a presenter's set-up away: a modal <dialog> (the rest of the page inert), Cancel
// focused first, Escape cancels; the focus goes back to what had it. Resolves to whether `action` was chosen.
function confirmed(title, text, action) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = action;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === "confirm");
    }, {once: true});
    dialog.returnValue = ""; // what Escape leaves
    dialog.showModal();
  });
}

// -- the journal ------------------------------------------------------------------------------

function statusMatches(status, wanted) {
  wanted = wanted.trim().toLowerCase();
  if (!wanted) return true;
  if (/^[1-5]xx$/.test(wanted)) return String(status)[0] === wanted[0];
  return String(status) === wanted;
}

function shown(entry) {
  const path = $("filter-path").value.trim();
  return (!path || entry.path.includes(path)) && statusMatches(entry.status, $("filter-status").value);
}

function entryRow(entry) {
  const details = el("dl", {});
  const fact = (name, value) => details.append(el("dt", {}, name), el("dd", {}, value));
  fact("Method", entry.method);
  fact("Target", entry.target || entry.path);
  fact("Status", entry.status);
  const headers = el("dl", {});
  for (const [name, value] of Object.entries(entry.headers || {})) headers.append(el("dt", {}, name), el("dd", {}, value));
  fact("Headers", headers);
  fact("Problem detail", "problem" in entry ? (entry.problem ?? "none") : "not journalled by this server");
  fact("Preferences applied", "applied" in entry ? (entry.applied ?? "none") : "not journalled by this server");
  fact("Fault", entry.fault ? JSON.stringify(entry.fault) : "none");
  fact("Worker", entry.worker);
  fact("Request id", entry.request_id);
  const status = el("span", {className: entry.status >= 400 ? "status-error" : "status-ok"}, entry.status);
  const summary = el("summary", {}, `${entry.time}  ${entry.method} ${entry.target || entry.path}  `, status);
  const item = el("li", {}, el("details", {}, summary, details));
  item.hidden = !shown(entry);
  return {entry, item};
}

function countShown() {
  const visible = rows.filter((row) => !row.item.hidden).length;
  $("journal-count").textContent = `${visible} of ${rows.length} requests shown`;
}

// What tells a journal entry from another, as the server's stream tells them: when, which worker, which request id.
function keyOf(entry) { return JSON.stringify([entry.time, entry.worker, entry.request_id]); }

// The list holds exactly `wanted`'s items in order; an item already in place is not moved, so a row's
// open state, the focus inside it and the scroll position survive.
function place(wanted) {
  const list = $("entries");
  const kept = new Set(wanted.map((row) => row.item));
  for (const item of [...list.children]) if (!kept.has(item)) item.remove();
  let at = list.firstElementChild;
  for (const row of wanted) {
    if (row.item === at) at = at.nextElementSibling;
    else list.insertBefore(row.item, at);
  }
  rows = wanted;
  countShown();
}

// A snapshot comes first on every connection, a reconnection too (the stream ends every few minutes):
// rows already shown are kept as they are (open or not), new ones made. When the snapshot reaches back to
// a row already shown, the older rows stay below it; otherwise the journal was cleared (or more came
// than a snapshot holds) and the snapshot is all there is.
function showSnapshot(entries) {
  const shownRows = new Map(rows.map((row) => [keyOf(row.entry), row]));
  const wanted = entries.slice(0, MAX_ROWS).map((entry) => shownRows.get(keyOf(entry)) || entryRow(entry));
  const oldest = wanted.length ? rows.indexOf(wanted[wanted.length - 1]) : -1;
  if (oldest >= 0) wanted.push(...rows.slice(oldest + 1, oldest + 1 + MAX_ROWS - wanted.length));
  place(wanted);
}

function showNew(entries) { // newest first
  const known = new Set(rows.map((row) => keyOf(row.entry)));
  const added = entries.filter((entry) => !known.has(keyOf(entry))).map(entryRow);
  place(added.concat(rows).slice(0, MAX_ROWS));
  refreshFailures(); // a request may have spent a rule
}

function filter() {
  for (const row of rows) row.item.hidden = !shown(row.entry);
  countShown();
}

function watch() {
  if (source) source.close();
  place([]); // another namespace's rows (the same one's come back in its snapshot, closed)
  source = new EventSource(`ui/stream?namespace=${encodeURIComponent(namespace)}`);
  source.addEventListener("snapshot", (event) => showSnapshot(JSON.parse(event.data)));
  source.addEventListener("entries", (event) => showNew(JSON.parse(event.data)));
  source.onopen = () => { $("stream-state").textContent = `Live: requests in namespace ${namespace} appear as they come.`; };
  source.onerror = () => { $("stream-state").textContent = "Disconnected; reconnecting…"; };
}

// -- data -------------------------------------------------------------------------------------

async function refreshChatbots() {
  const result = await api("GET", "ui/chatbots");
  const list = $("chatbots");
  list.replaceChildren();
  const chatbots = result.ok ? result.body : [];
  $("no-chatbots").hidden = chatbots.length > 0;
  for (const chatbot of chatbots) {
    const edit = el("button", {type: "button"}, "Edit");
    edit.setAttribute("aria-label", `Edit chatbot ${chatbot.id}`);
    edit.addEventListener("click", () => loadChatbot(chatbot.id));
    const remove = el("button", {type: "button", className: "danger"}, "Delete");
    remove.setAttribute("aria-label", `Delete chatbot ${chatbot.id}'s conversations`);
    remove.addEventListener("click", async () => {
      if (!await confirmed(`Delete chatbot ${chatbot.id}'s conversations?`,
        `What is set for it in namespace ${namespace} is forgotten; it answers its fixture's or generated conversations again.`,
        "Delete")) return;
      const at = [...list.children].indexOf(item);
      await api("DELETE", `chatbots/${encodeURIComponent(chatbot.id)}/conversations`);
      say(`Chatbot ${chatbot.id} answers its fixture's or generated conversations again.`);
      await refreshChatbots();
      // Its button is gone: a keyboard user goes on from the next chatbot's (or the list's heading), not the top.
      const left = list.querySelectorAll("button.danger");
      (left[Math.min(at, left.length - 1)] || $("chatbots-title")).focus();
    });
    const item = el("li", {}, el("code", {}, chatbot.id), ` (${chatbot.conversations} conversations) `, edit, " ", remove);
    list.append(item);
  }
}

async function loadChatbot(id) {
  $("chatbot-id").value = id;
  const result = await api("GET", `chatbots/${encodeURIComponent(id)}/conversations`);
  if (result.ok) {
    $("conversations").value = JSON.stringify(result.body, null, 2);
    say(`Loaded chatbot ${id}'s conversations.`);
  } else {
    showErrors($("editor-errors"), result);
  }
  $("conversations").focus();
}

async function setConversations(event) {
  event.preventDefault();
  const id = $("chatbot-id").value.trim();
  const result = await api("PUT", `chatbots/${encodeURIComponent(id)}/conversations`, $("conversations").value);
  showErrors($("editor-errors"), result);
  if (result.ok) say(`Chatbot ${id} now answers these conversations.`);
  else say(`Nothing was set: ${(result.body && result.body.detail) || result.status}`);
  refreshChatbots();
}

async function generate(event) {
  event.preventDefault();
  const id = $("chatbot-id").value.trim();
  if (!id) { say("Give a chatbot id first."); $("chatbot-id").focus(); return; }
  const query = new URLSearchParams({count: $("generate-count").value});
  if ($("generate-seed").value) query.set("seed", $("generate-seed").value);
  const result = await api("GET", `ui/generated/${encodeURIComponent(id)}?${query}`);
  showErrors($("editor-errors"), result);
  if (result.ok) {
    $("conversations").value = JSON.stringify(result.body, null, 2);
    say(`${result.body.length} generated conversations are in the editor; set them to use them.`);
  }
}

async function resetNamespace() {
  if (!await confirmed(`Reset namespace ${namespace}?`,
    "Its chatbots' conversations, fault rules, rate limit and journal are forgotten.", "Reset")) return;
  await api("POST", "reset");
  say(`Namespace ${namespace} was reset.`);
  refreshAll();
}

// -- failures ---------------------------------------------------------------------------------

let rules = [];

// A rule as it may be put again: with what is left of its times, none when spent.
function kept(rule) {
  const {times_left: left, ...again} = rule;
  if (left === undefined) return again;
  return left > 0 ? {...again, times: left} : null;
}

async function refreshFailures() {
  const result = await api("GET", "faults");
  rules = result.ok ? result.body : [];
  const list = $("rules");
  list.replaceChildren();
  $("no-rules").hidden = rules.length > 0;
  rules.forEach((rule, index) => {
    const {times_left: left, ...shownRule} = rule;
    const remove = el("button", {type: "button", className: "danger"}, "Remove");
    remove.setAttribute("aria-label", `Remove rule ${index + 1}`);
    remove.addEventListener("click", () => removeRule(index));
    const leftText = left === undefined ? "no bound on times" : `${left} left of ${rule.times}`;
    list.append(el("li", {}, el("code", {}, JSON.stringify(shownRule)), ` — ${leftText} `, remove));
  });
  const limit = await api("GET", "rate-limit");
  if (limit.ok) {
    $("rate-limit-state").textContent = `In force: ${limit.body.rate_limit ?? "none"} (${limit.body.source === "namespace" ? "this namespace's own" : "the server's"}).`;
  }
}

async function putRules(wanted) {
  return wanted.length ? api("PUT", "faults", wanted) : api("DELETE", "faults");
}

async function addRule(event) {
  event.preventDefault();
  let rule;
  try {
    rule = JSON.parse($("rule").value);
  } catch (error) {
    showErrors($("rule-errors"), {ok: false, body: {errors: {rule: [`Not JSON: ${error.message}`]}}});
    return;
  }
  const result = await putRules([...rules.map(kept).filter(Boolean), rule]);
  showErrors($("rule-errors"), result);
  if (result.ok) say("The rule is in force from the next request.");
  refreshFailures();
}

async function removeRule(index) {
  const result = await putRules(rules.map((rule, at) => (at === index ? null : kept(rule))).filter(Boolean));
  if (result.ok) say(`Rule ${index + 1} was removed.`);
  refreshFailures();
}

async function removeEveryRule() {
  if (!await confirmed(`Remove every fault rule of namespace ${namespace}?`,
    "Its requests are answered as usual from the next one.", "Remove every rule")) return;
  await api("DELETE", "faults");
  say("Every rule was removed.");
  refreshFailures();
}

async function setRate(event) {
  event.preventDefault();
  const value = $("rate").value.trim();
  const result = await api("PUT", "rate-limit", {rate_limit: value === "off" ? null : value});
  showErrors($("rate-errors"), result);
  if (result.ok) say(`Rate limit set: ${value}.`);
  refreshFailures();
}

// -- clock and verdicts -----------------------------------------------------------------------

async function refreshClock() {
  const response = await fetch("../healthz");
  if (!response.ok) return;
  const clock = (await response.json()).clock || {};
  $("clock-instant").textContent = clock.instant ?? "";
  $("clock-mode").textContent = clock.mode ?? "";
  $("clock-speed").textContent = clock.speed ?? "";
}

async function refreshVerdicts() {
  const result = await api("GET", `verdicts?namespace=${encodeURIComponent(namespace)}`);
  const list = $("verdicts");
  list.replaceChildren();
  if (result.status === 404) {
    $("verdicts-state").textContent = "No verdicts endpoint on this server.";
    return;
  }
  if (!result.ok) {
    $("verdicts-state").textContent = `Verdicts: HTTP ${result.status}`;
    return;
  }
  $("verdicts-state").textContent = result.body.length ? "" : "Nothing noticed so far.";
  for (const verdict of result.body) {
    list.append(el("li", {}, el("strong", {}, verdict.kind), ": ", verdict.detail,
      ` (requests ${(verdict.request_ids || []).join(", ")})`));
  }
}

// -- wiring -----------------------------------------------------------------------------------

function refreshAll() {
  refreshChatbots();
  refreshFailures();
  refreshVerdicts();
}

function changeNamespace(event) {
  event.preventDefault();
  if (!$("namespace").reportValidity()) return;
  namespace = $("namespace").value;
  history.replaceState(null, "", `?namespace=${encodeURIComponent(namespace)}${location.hash}`);
  say(`Watching namespace ${namespace}.`);
  watch();
  refreshAll();
}

function start() {
  namespace = new URLSearchParams(location.search).get("namespace") || "default";
  $("namespace").value = namespace;
  $("namespace-form").addEventListener("submit", changeNamespace);
  $("journal-filters").addEventListener("submit", (event) => event.preventDefault());
  $("filter-path").addEventListener("input", filter);
  $("filter-status").addEventListener("input", filter);
  $("clear-journal").addEventListener("click", async () => { await api("DELETE", "requests"); say("The journal was cleared."); });
  $("editor-form").addEventListener("submit", setConversations);
  $("load-chatbot").addEventListener("click", () => loadChatbot($("chatbot-id").value.trim()));
  $("generate-form").addEventListener("submit", generate);
  $("reset-namespace").addEventListener("click", resetNamespace);
  $("rule-form").addEventListener("submit", addRule);
  $("preset-down").addEventListener("click", () => { $("rule").value = '{"answer": {"code": 503, "retry_after": 2}}'; $("rule").focus(); });
  $("preset-slow").addEventListener("click", () => { $("rule").value = '{"answer": {"delay": 3000}}'; $("rule").focus(); });
  $("clear-rules").addEventListener("click", removeEveryRule);
  $("rate-form").addEventListener("submit", setRate);
  $("confirm-cancel").addEventListener("click", () => $("confirm").close("cancel"));
  $("confirm-yes").addEventListener("click", () => $("confirm").close("confirm"));
  $("forget-rate").addEventListener("click", async () => { await api("DELETE", "rate-limit"); say("The server's rate limit applies."); refreshFailures(); });
  watch();
  refreshAll();
  refreshClock();
  setInterval(refreshClock, 1000);
  setInterval(refreshVerdicts, 5000);
}

start();
