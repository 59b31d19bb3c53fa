// The patient's page: open the link, confirm the date of birth, read the thread and reply.
// Text from the server is only ever set with textContent (never parsed as HTML).
"use strict";

(function () {
  const API = "/api/v1/patient";
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const token = (location.pathname.match(/^\/p\/([A-Za-z0-9_-]{20,100})\/?$/) || [])[1];

  function say(text) { status.textContent = text; }

  async function call(method, path, body, headers) {
    const response = await fetch(API + path, {
      method,
      credentials: "same-origin",
      headers: Object.assign({ Accept: "application/json" },
        body ? { "Content-Type": "application/json" } : {}, headers || {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data,
             retryAfter: Number(response.headers.get("Retry-After") || 0) };
  }

  function detail(answer, fallback) {
    return (answer.data && answer.data.detail) || fallback;
  }

  function when(iso) {
    return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function showError(input, box, text) {
    box.textContent = text;
    input.setAttribute("aria-invalid", text ? "true" : "false");
    if (text) input.focus();
  }

  async function start() {
    if (!token) {
      say("Open the link from your e-mail or text message to see your message.");
      return;
    }
    say("Opening your link…");
    const answer = await call("GET", "/" + token);
    if (!answer.ok) {
      say(detail(answer, "This link cannot be opened. Ask the office to send you a new one."));
      return;
    }
    $("title").textContent = "A message from " + answer.data.office_name;
    $("intro").textContent = answer.data.office_name + " sent you a private message.";
    say("");
    $("verify").hidden = false;
    $("dob").focus();
  }

  $("verify").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("dob"), error = $("dob-error"), button = event.submitter;
    if (!input.value) { showError(input, error, "Enter your date of birth."); return; }
    button.disabled = true;
    const answer = await call("POST", "/" + token + "/verify", { date_of_birth: input.value });
    button.disabled = false;
    if (answer.status === 429) {
      const minutes = Math.max(1, Math.ceil(answer.retryAfter / 60));
      showError(input, error, "Too many tries. Try again in about " + minutes + " minute" +
        (minutes === 1 ? "" : "s") + ".");
      return;
    }
    if (answer.status === 422) {
      showError(input, error, "That date of birth does not match. Check it and try again.");
      return;
    }
    if (!answer.ok) { showError(input, error, detail(answer, "Something went wrong; try again.")); return; }
    showError(input, error, "");
    $("verify").hidden = true;
    await loadThread();
  });

  function render(view) {
    const list = $("messages");
    list.replaceChildren();
    for (const message of view.messages) {
      const item = document.createElement("li");
      item.className = message.author;
      const who = document.createElement("p");
      who.className = "who";
      who.textContent = (message.author === "office" ? view.office_name : "You") + " · " + when(message.at);
      const text = document.createElement("p");
      text.className = "text";
      text.textContent = message.body;
      item.append(who, text);
      list.append(item);
    }
  }

  async function loadThread() {
    const answer = await call("GET", "/thread");
    if (answer.status === 401) {
      $("thread").hidden = true;
      $("verify").hidden = false;
      say("Your session ended. Confirm your date of birth again.");
      return;
    }
    if (!answer.ok) { say(detail(answer, "Your messages could not be loaded; try again.")); return; }
    $("title").textContent = "Your messages with " + answer.data.office_name;
    render(answer.data);
    $("thread").hidden = false;
    say(answer.data.messages.length + " message" + (answer.data.messages.length === 1 ? "" : "s") + ".");
    $("main").focus();
  }

  let pendingKey = null;
  $("reply").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("body"), error = $("reply-error"), button = event.submitter;
    const body = input.value.trim();
    if (!body) { showError(input, error, "Write your reply first."); return; }
    // One key per reply: a retry after a lost answer does not send it twice.
    pendingKey = pendingKey || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
    button.disabled = true;
    const answer = await call("POST", "/thread/messages", { body }, { "Idempotency-Key": pendingKey });
    button.disabled = false;
    if (answer.status === 401) { await loadThread(); return; }
    if (!answer.ok) { showError(input, error, detail(answer, "Your reply was not sent; try again.")); return; }
    pendingKey = null;
    input.value = "";
    showError(input, error, "");
    await loadThread();
    say("Your reply was sent.");
  });

  $("sign-out").addEventListener("click", async () => {
    await call("POST", "/logout");
    $("thread").hidden = true;
    $("messages").replaceChildren();
    $("title").textContent = "You are signed out";
    say("You are signed out. To read your messages again, open the link from your message.");
    $("main").focus();
  });

  start();
})();
