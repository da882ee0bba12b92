// The playground: a chat client of the gateway's public API and nothing else. Each assistant
// message is kept exactly as it arrived and sent back as it came, so thought signatures and
// images round-trip like in any other client. Model text is only ever put in the page as text.

const $ = (id) => document.getElementById(id);
const KEY_NAME = "gemini-gateway.client-key";
const SAVE_VERSION = 1;
const state = { messages: [], attachments: [], busy: false };

// -- the client key: asked for only when the gateway says it needs one -------------------------

function clientKey() {
  return sessionStorage.getItem(KEY_NAME) || "";
}

function requestHeaders(json) {
  const headers = {};
  if (json) headers["content-type"] = "application/json";
  const key = clientKey();
  if (key) headers.authorization = `Bearer ${key}`;
  return headers;
}

function askForKey() {
  const dialog = $("key-dialog");
  $("key-input").value = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        const key = $("key-input").value.trim();
        if (dialog.returnValue === "ok" && key) {
          sessionStorage.setItem(KEY_NAME, key);
          resolve(true);
        } else {
          resolve(false);
        }
      },
      { once: true },
    );
    dialog.showModal();
  });
}

// -- talking to the gateway ---------------------------------------------------------------------

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return `${response.status}: ${body.error.message}`;
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`;
}

function needsKey(response) {
  return response.status === 401 || response.status === 403;
}

async function loadModels() {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const response = await fetch("/v1/models", { headers: requestHeaders(false) });
    if (needsKey(response)) {
      if (!(await askForKey())) {
        notice("This gateway needs a client key: use the Key button.");
        return;
      }
      continue;
    }
    if (!response.ok) {
      notice(`Could not list models: ${await errorText(response)}`);
      return;
    }
    fillModels((await response.json()).data || []);
    notice("");
    return;
  }
  notice("The key was not accepted.");
}

function fillModels(models) {
  const ids = models.map((m) => String(m.id)).filter((id) => !id.includes("embedding"));
  const isImage = (id) => id.includes("image");
  ids.sort((a, b) => Number(isImage(b)) - Number(isImage(a)) || a.localeCompare(b));
  const select = $("model");
  const previous = select.value;
  select.replaceChildren(...ids.map((id) => new Option(id, id)));
  const preferred = [previous, "gemini-3-pro-image-preview"].find((id) => ids.includes(id));
  if (preferred) select.value = preferred;
}

async function* sseData(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield data;
    }
  }
}

function requestBody() {
  const body = {
    model: $("model").value,
    messages: state.messages,
    stream: true,
    stream_options: { include_usage: true },
    include_reasoning: true,
    // images arrive in images[]; the markdown mirror is for clients that only read content
    google: { image_markdown: false },
  };
  const imageConfig = {};
  if ($("aspect").value) imageConfig.aspect_ratio = $("aspect").value;
  if ($("size").value) imageConfig.image_size = $("size").value;
  if (Object.keys(imageConfig).length) body.image_config = imageConfig;
  return body;
}

function applyDelta(message, choice, thoughts) {
  const delta = choice.delta || {};
  if (typeof delta.content === "string") message.content = (message.content || "") + delta.content;
  if (typeof delta.reasoning_content === "string") {
    message.reasoning_content = (message.reasoning_content || "") + delta.reasoning_content;
    thoughts.push(delta.reasoning_content);
  }
  if (Array.isArray(delta.images)) message.images = [...(message.images || []), ...delta.images];
  if (delta.extra_content) message.extra_content = delta.extra_content;
}

async function send(text) {
  const user = { role: "user", content: userContent(text, state.attachments) };
  const attached = state.attachments;
  state.messages.push(user);
  const userView = renderMessage(user);
  clearAttachments();
  const view = renderTurn("assistant");
  view.text.textContent = "…";
  const started = performance.now();
  let firstEvent = 0;
  const undo = (reason) => {
    state.messages.pop();
    userView.remove();
    fail(view, reason);
    $("prompt").value = text;
    attached.forEach(addAttachment);
  };
  let response;
  try {
    response = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: requestHeaders(true),
      body: JSON.stringify(requestBody()),
    });
  } catch (error) {
    undo(`The gateway could not be reached (${error}).`);
    return;
  }
  if (!response.ok) {
    const reason = await errorText(response);
    undo(reason);
    if (needsKey(response) && (await askForKey())) notice("Key saved: send again.");
    return;
  }
  const fidelity = response.headers.get("x-gateway-fidelity") || "";
  const message = { role: "assistant", content: "" };
  const thoughts = [];
  let usage = null;
  let failure = "";
  for await (const data of sseData(response.body)) {
    if (data === "[DONE]") break;
    const chunk = JSON.parse(data);
    if (!firstEvent) firstEvent = performance.now();
    if (chunk.error) {
      failure = chunk.error.message || "the stream ended with an error";
      continue;
    }
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices || []) applyDelta(message, choice, thoughts);
    showAssistant(view, message);
  }
  if (failure) {
    undo(failure);
    return;
  }
  state.messages.push(message);
  showAssistant(view, message);
  view.stats.replaceChildren(...statsLine(performance.now() - started, firstEvent - started, usage, fidelity));
}

// -- composing ----------------------------------------------------------------------------------

function userContent(text, attachments) {
  if (!attachments.length) return text;
  const parts = [];
  if (text) parts.push({ type: "text", text });
  for (const a of attachments) parts.push({ type: "image_url", image_url: { url: a.url } });
  return parts;
}

function addAttachment(attachment) {
  state.attachments.push(attachment);
  const figure = document.createElement("figure");
  const img = document.createElement("img");
  img.src = attachment.url;
  img.alt = attachment.name;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "×";
  remove.setAttribute("aria-label", `Remove ${attachment.name}`);
  remove.addEventListener("click", () => {
    state.attachments = state.attachments.filter((a) => a !== attachment);
    figure.remove();
  });
  figure.append(img, remove);
  $("attachments").append(figure);
}

function clearAttachments() {
  state.attachments = [];
  $("attachments").replaceChildren();
}

function attachFiles(files) {
  for (const file of files) {
    if (!file.type.startsWith("image/")) continue;
    const reader = new FileReader();
    reader.addEventListener("load", () => addAttachment({ name: file.name, url: String(reader.result) }));
    reader.readAsDataURL(file);
  }
}

// -- showing the conversation -------------------------------------------------------------------

function renderTurn(role) {
  const node = $("turn-template").content.firstElementChild.cloneNode(true);
  node.classList.add(role === "user" ? "user" : "model");
  node.querySelector(".who").textContent = role === "user" ? "you" : "model";
  $("log").append(node);
  node.scrollIntoView({ block: "end" });
  return {
    node,
    text: node.querySelector(".text"),
    images: node.querySelector(".images"),
    thoughts: node.querySelector(".thoughts"),
    thoughtText: node.querySelector(".thought-text"),
    stats: node.querySelector(".stats"),
    remove: () => node.remove(),
  };
}

function safeImageUrl(url) {
  if (typeof url !== "string") return "";
  if (url.startsWith("data:image/")) return url;
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : "";
  } catch {
    return "";
  }
}

function imageFigure(url, index, downloadable) {
  const figure = document.createElement("figure");
  const img = document.createElement("img");
  img.src = url;
  img.alt = `image ${index + 1}`;
  figure.append(img);
  if (downloadable) {
    const link = document.createElement("a");
    link.href = url;
    link.download = `gemini-image-${Date.now()}-${index + 1}.png`;
    link.textContent = "Download";
    figure.append(link);
  }
  return figure;
}

function showAssistant(view, message) {
  view.text.textContent = message.content || "";
  view.text.hidden = !message.content;
  const urls = (message.images || [])
    .filter((image) => !image.thought)
    .map((image) => safeImageUrl(image.image_url && image.image_url.url))
    .filter(Boolean);
  if (view.images.childElementCount !== urls.length) {
    view.images.replaceChildren(...urls.map((url, i) => imageFigure(url, i, true)));
  }
  if (message.reasoning_content) {
    view.thoughts.hidden = false;
    view.thoughtText.textContent = message.reasoning_content;
  }
}

function renderMessage(message) {
  const view = renderTurn(message.role);
  if (message.role === "assistant") {
    showAssistant(view, message);
    return view;
  }
  const parts = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content || [];
  view.text.textContent = parts.filter((p) => p.type === "text").map((p) => p.text).join("\n");
  const urls = parts
    .filter((p) => p.type === "image_url")
    .map((p) => safeImageUrl(p.image_url && p.image_url.url))
    .filter(Boolean);
  view.images.replaceChildren(...urls.map((url, i) => imageFigure(url, i, false)));
  return view;
}

function statsLine(totalMs, firstMs, usage, fidelity) {
  const pieces = [`${Math.round(totalMs)} ms (first event ${Math.round(Math.max(firstMs, 0))} ms)`];
  if (usage) {
    const details = usage.completion_tokens_details || {};
    const extra = [];
    if (details.reasoning_tokens) extra.push(`reasoning ${details.reasoning_tokens}`);
    if (details.image_tokens) extra.push(`image ${details.image_tokens}`);
    pieces.push(
      `tokens: prompt ${usage.prompt_tokens}, output ${usage.completion_tokens}` +
        (extra.length ? ` (${extra.join(", ")})` : ""),
    );
  }
  const nodes = [document.createTextNode(pieces.join(" · ") + " · ")];
  const badge = document.createElement("span");
  badge.className = fidelity ? "warn fidelity" : "fidelity";
  badge.textContent = fidelity ? `fidelity fallback: ${fidelity}` : "signatures: exact";
  nodes.push(badge);
  return nodes;
}

function fail(view, reason) {
  view.node.classList.add("failed");
  view.text.hidden = false;
  view.text.textContent = reason;
}

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = !text;
}

function rerender() {
  $("log").replaceChildren();
  state.messages.forEach(renderMessage);
}

// -- saving and loading a conversation ----------------------------------------------------------

function save() {
  const blob = new Blob([JSON.stringify({ version: SAVE_VERSION, model: $("model").value, messages: state.messages })], {
    type: "application/json",
  });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "conversation.json";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function load(file) {
  try {
    const saved = JSON.parse(await file.text());
    const messages = saved && saved.messages;
    if (!Array.isArray(messages) || !messages.every((m) => m && typeof m.role === "string")) {
      throw new Error("no messages in it");
    }
    state.messages = messages;
    if (saved.model && [...$("model").options].some((o) => o.value === saved.model)) $("model").value = saved.model;
    rerender();
    notice("");
  } catch (error) {
    notice(`That file is not a saved conversation (${error.message}).`);
  }
}

// -- wiring -------------------------------------------------------------------------------------

function wire() {
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("prompt").value.trim();
    if (state.busy || (!text && !state.attachments.length)) return;
    state.busy = true;
    $("send").disabled = true;
    $("prompt").value = "";
    try {
      await send(text);
    } finally {
      state.busy = false;
      $("send").disabled = false;
      $("prompt").focus();
    }
  });
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("attach-button").addEventListener("click", () => $("attach").click());
  $("attach").addEventListener("change", (event) => {
    attachFiles(event.target.files);
    event.target.value = "";
  });
  const composer = $("composer");
  composer.addEventListener("dragover", (event) => {
    event.preventDefault();
    composer.classList.add("dragging");
  });
  composer.addEventListener("dragleave", () => composer.classList.remove("dragging"));
  composer.addEventListener("drop", (event) => {
    event.preventDefault();
    composer.classList.remove("dragging");
    attachFiles(event.dataTransfer.files);
  });
  $("save").addEventListener("click", save);
  $("load").addEventListener("click", () => $("load-file").click());
  $("load-file").addEventListener("change", (event) => {
    if (event.target.files[0]) load(event.target.files[0]);
    event.target.value = "";
  });
  $("reset").addEventListener("click", () => {
    state.messages = [];
    clearAttachments();
    rerender();
    $("prompt").focus();
  });
  $("key-button").addEventListener("click", async () => {
    if (await askForKey()) loadModels();
  });
}

wire();
loadModels();
