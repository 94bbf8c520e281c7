/*
 * Vitawell chat widget: one script tag on any page.
 *
 *   <script src="https://clinic.example/widget.js" data-bot-url="https://bot.clinic.example"></script>
 *
 * Talks to Rasa's socket.io channel (credentials.yml: session_persistence true). The web app serves
 * this file bundled after the socket.io client from npm (clinic/web/widget/__init__.py), which hands
 * it the `io` function; nothing is added to the host page but one element and `window.VitawellChat`.
 *
 * Safety: every text, the patient's and the bot's, is put in the page with textContent or text
 * nodes, never as HTML; links in bot messages become <a> only for http(s) addresses.
 * Persistence: one session id per browser (localStorage), issued by the server (session_confirm:
 * a signed `web:...` id; an id the server did not issue is replaced), the conversation kept in
 * localStorage under that id, messages written while offline kept and sent once connected again.
 */
(function (io, script) {
  "use strict";

  if (window.VitawellChat) return; // the tag was included twice

  var MAX_LENGTH = 1000; // characters per message; longer pastes are cut with a note
  var HISTORY_LIMIT = 200; // messages kept in the browser per conversation
  var TAB_STALE_MS = 180000; // a tab that has not said it is alive for this long is gone
  var REPLY_TIMEOUT_MS = 30000; // hide the typing indicator if the bot never finishes
  var OPENING_PAYLOAD = "/greet"; // starts the session: the disclaimer, then a greeting
  var PREFIX = "vitawell-chat/";

  var TEXT = {
    launcher: "Chat with us",
    launcherLabel: "Chat with us: Vitawell's assistant", // starts with the visible text (WCAG 2.5.3)
    title: "Vitawell assistant",
    subtitle: "General information, not a diagnosis",
    close: "Close chat",
    startOver: "Start over",
    startOverLabel: "Start a new conversation (clears this one from this browser)",
    log: "Conversation",
    input: "Message",
    placeholder: "Type your message",
    send: "Send",
    you: "You: ",
    bot: "Assistant: ",
    suggestions: "Suggested replies",
    connecting: "Connecting to the clinic's assistant…",
    down:
      "We can't reach the clinic's assistant right now. We'll keep trying automatically, " +
      "and anything you write will be sent as soon as we're back.",
    retry: "Try again now",
    notConfigured: "The chat isn't set up correctly on this page, so it can't reach the clinic's assistant.",
    pending: "Not sent yet: it will be sent when we're connected again.",
    tooLong:
      "Messages can be up to 1,000 characters, so we kept the first 1,000. " +
      "You can send the rest in another message.",
    empty: "Please type a message first.",
    typing: "The assistant is typing",
  };

  // ---------------------------------------------------------------- storage (never throws)
  function storageArea(name) {
    try {
      var area = window[name];
      area.setItem(PREFIX + "probe", "1");
      area.removeItem(PREFIX + "probe");
      return area;
    } catch (e) {
      return null; // storage disabled: the conversation lives as long as the page
    }
  }

  function makeStore(area) {
    var memory = {};
    return {
      area: area,
      get: function (key) {
        if (area) {
          try {
            return area.getItem(PREFIX + key);
          } catch (e) {
            /* fall through */
          }
        }
        return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null;
      },
      set: function (key, value) {
        memory[key] = value;
        if (area) {
          try {
            area.setItem(PREFIX + key, value);
          } catch (e) {
            /* quota full: kept in memory for this page */
          }
        }
      },
      remove: function (key) {
        delete memory[key];
        if (area) {
          try {
            area.removeItem(PREFIX + key);
          } catch (e) {
            /* ignore */
          }
        }
      },
      getJSON: function (key, fallback) {
        try {
          var raw = this.get(key);
          return raw === null ? fallback : JSON.parse(raw);
        } catch (e) {
          return fallback;
        }
      },
      setJSON: function (key, value) {
        this.set(key, JSON.stringify(value));
      },
    };
  }

  var shared = makeStore(storageArea("localStorage")); // every tab of this browser
  var perTab = makeStore(storageArea("sessionStorage")); // this tab, across reloads

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b < 16 ? "0" : "") + b.toString(16);
      })
      .join("");
  }

  var tabId = perTab.get("tab") || randomId();
  perTab.set("tab", tabId);

  // The session id is issued by the server (session_confirm) and kept here; until then it is "".
  var ISSUED_SESSION = /^web:[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{22}$/;

  function currentSessionId() {
    var id = shared.get("session");
    return id && ISSUED_SESSION.test(id) ? id : "";
  }

  // The server confirmed (or replaced) the session: keep its id, and move what was written meanwhile.
  function adoptSession(id) {
    if (typeof id !== "string" || !ISSUED_SESSION.test(id) || id === state.sessionId) return;
    var before = state.sessionId;
    ["log", "owner", "opened"].forEach(function (name) {
      var value = shared.get(name + "/" + before);
      if (value !== null && value !== undefined && shared.get(name + "/" + id) == null) {
        shared.set(name + "/" + id, value);
      }
      shared.remove(name + "/" + before);
    });
    state.sessionId = id;
    shared.set("session", id);
    state.entries = loadEntries();
    render();
  }

  var state = {
    sessionId: currentSessionId(),
    entries: [],
    connected: false, // socket connected and session confirmed
    trouble: false, // the last attempt failed or the connection dropped
    waiting: 0, // messages the bot has not finished answering
    open: perTab.get("open") === "1",
  };

  function key(name) {
    return name + "/" + state.sessionId;
  }

  // Which tabs are alive, so that one tab records the bot's answers and sends queued messages.
  function aliveTabs() {
    var tabs = shared.getJSON("tabs", {});
    return tabs && typeof tabs === "object" ? tabs : {};
  }

  function heartbeat() {
    var tabs = aliveTabs();
    var now = Date.now();
    Object.keys(tabs).forEach(function (id) {
      if (now - tabs[id] > TAB_STALE_MS) delete tabs[id];
    });
    tabs[tabId] = now;
    shared.setJSON("tabs", tabs);
  }

  function isAlive(id) {
    if (id === tabId) return true;
    var seen = aliveTabs()[id];
    return typeof seen === "number" && Date.now() - seen < TAB_STALE_MS;
  }

  heartbeat();
  setInterval(heartbeat, 20000);
  window.addEventListener("pageshow", heartbeat);
  window.addEventListener("pagehide", function () {
    var tabs = aliveTabs();
    delete tabs[tabId];
    shared.setJSON("tabs", tabs);
  });

  // ---------------------------------------------------------------- the conversation log
  function isEntry(e) {
    return (
      e && typeof e === "object" && typeof e.id === "string" && typeof e.text === "string" &&
      (e.who === "user" || e.who === "bot")
    );
  }

  function loadEntries() {
    var entries = shared.getJSON(key("log"), []);
    return Array.isArray(entries) ? entries.filter(isEntry) : [];
  }

  function saveEntries(entries) {
    if (entries.length > HISTORY_LIMIT) entries = entries.slice(entries.length - HISTORY_LIMIT);
    shared.setJSON(key("log"), entries);
    state.entries = entries;
    render();
  }

  function addEntry(entry) {
    var entries = loadEntries();
    entries.push(entry);
    saveEntries(entries);
  }

  function patchEntry(id, patch) {
    var entries = loadEntries();
    entries.forEach(function (e) {
      if (e.id === id) Object.assign(e, patch);
    });
    saveEntries(entries);
  }

  function botEntry(data) {
    if (!data || typeof data !== "object") return null;
    var text = typeof data.text === "string" ? data.text : "";
    var buttons = [];
    var raw = Array.isArray(data.quick_replies) ? data.quick_replies : Array.isArray(data.buttons) ? data.buttons : [];
    raw.slice(0, 12).forEach(function (b) {
      if (b && typeof b.title === "string" && typeof b.payload === "string" && b.title.trim()) {
        buttons.push({ title: b.title, payload: b.payload });
      }
    });
    var image = null;
    var attachment = data.attachment;
    if (attachment && attachment.type === "image" && attachment.payload) image = safeUrl(attachment.payload.src);
    if (!text.trim() && !buttons.length && !image) return null;
    var entry = { id: randomId(), who: "bot", text: text, t: Date.now() };
    if (buttons.length) entry.buttons = buttons;
    if (image) entry.image = image;
    return entry;
  }

  // ---------------------------------------------------------------- links (http/https only)
  function safeUrl(raw) {
    if (typeof raw !== "string") return null;
    try {
      var url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  var LINK = /\[([^\]\n]{1,200})\]\((\S+?)\)|\bhttps?:\/\/[^\s<>"']+/gi;

  function appendText(parent, text) {
    parent.appendChild(document.createTextNode(text));
  }

  function appendLinked(parent, text) {
    var last = 0;
    var match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text)) !== null) {
      var whole = match[0];
      var label = match[1];
      var target = label ? match[2] : whole.replace(/[.,;:!?)\]]+$/, "");
      var href = safeUrl(target);
      appendText(parent, text.slice(last, match.index));
      if (href) {
        var a = document.createElement("a");
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = label || target;
        parent.appendChild(a);
        if (!label) appendText(parent, whole.slice(target.length)); // trailing punctuation
      } else {
        appendText(parent, whole); // javascript:, data:, ... stay plain text
      }
      last = match.index + whole.length;
    }
    appendText(parent, text.slice(last));
  }

  // ---------------------------------------------------------------- DOM
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box}",
    ".root{font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1a2b2e}",
    ".vh{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    "button,textarea{font:inherit}",
    ":focus{outline:none}",
    ":focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;display:flex;align-items:center;gap:8px;min-height:48px;padding:10px 18px;border:0;border-radius:999px;background:#0b5d61;color:#fff;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".launcher:hover{background:#084a4d}",
    ".launcher svg{width:22px;height:22px;fill:currentColor}",
    ".panel{position:fixed;right:16px;bottom:80px;z-index:2147483001;display:flex;flex-direction:column;width:380px;max-width:calc(100vw - 32px);height:min(620px,calc(100vh - 112px));background:#fff;border:1px solid #c5d3d5;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:8px;padding:10px 10px 10px 16px;background:#0b5d61;color:#fff}",
    "header .titles{flex:1;min-width:0}",
    "h2{margin:0;font-size:17px;line-height:1.3}",
    ".subtitle{margin:0;font-size:13px;color:#e6f2f2}",
    ".hbtn{flex:none;min-width:44px;min-height:44px;padding:6px 10px;border:1px solid rgba(255,255,255,.6);border-radius:8px;background:transparent;color:#fff;cursor:pointer;font-size:14px}",
    ".hbtn.close{font-size:22px;line-height:1}",
    ".hbtn:hover{background:rgba(255,255,255,.15)}",
    "header :focus-visible{outline-color:#fff}",
    ".status{padding:10px 16px;background:#fff4e5;color:#5a3100;border-bottom:1px solid #e6b97a;font-size:14px}",
    ".status[hidden]{display:none}",
    ".status.info{background:#eef3f4;color:#1a2b2e;border-color:#c5d3d5}",
    ".status p{margin:0}",
    ".status button{margin-top:6px;min-height:36px;padding:4px 12px;border:1px solid #8a4b00;border-radius:8px;background:#fff;color:#5a3100;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px 12px 4px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain}",
    ".msg{display:flex;flex-direction:column;max-width:88%}",
    ".msg.user{align-self:flex-end;align-items:flex-end}",
    ".msg.bot{align-self:flex-start;align-items:flex-start}",
    ".bubble{padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}",
    ".bubble p{margin:0}",
    ".bubble p+p{margin-top:.6em}",
    ".user .bubble{background:#0b5d61;color:#fff;border-bottom-right-radius:4px}",
    ".bot .bubble{background:#eef3f4;color:#1a2b2e;border-bottom-left-radius:4px}",
    ".bubble a{color:#0a4bb0;text-decoration:underline}",
    ".user .bubble a{color:#fff}",
    ".bubble img{display:block;max-width:100%;margin-top:6px;border-radius:8px}",
    ".meta{margin:2px 4px 0;font-size:13px;color:#5a3100}",
    ".user .meta{text-align:right}",
    ".replies{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".replies button{min-height:40px;padding:6px 12px;border:1.5px solid #0b5d61;border-radius:999px;background:#fff;color:#0b5d61;cursor:pointer;text-align:left}",
    ".replies button:hover{background:#e3f0f0}",
    ".typing{display:flex;align-items:center;gap:4px;margin:0 12px 6px;padding:8px 12px;width:max-content;border-radius:14px;background:#eef3f4}",
    ".typing[hidden]{display:none}",
    ".typing .dot{width:7px;height:7px;border-radius:50%;background:#4a5d60;animation:blink 1.2s infinite both}",
    ".typing .dot:nth-child(3){animation-delay:.2s}.typing .dot:nth-child(4){animation-delay:.4s}",
    "@keyframes blink{0%,80%,100%{opacity:.3}40%{opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.typing .dot{animation:none}}",
    "form{display:flex;flex-wrap:wrap;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid #c5d3d5}",
    "textarea{flex:1;min-width:0;min-height:44px;max-height:120px;padding:10px 12px;border:1.5px solid #5f7376;border-radius:10px;resize:none;color:#1a2b2e;background:#fff}",
    "textarea::placeholder{color:#5f6b6d}",
    ".send{min-height:44px;padding:8px 16px;border:0;border-radius:10px;background:#0b5d61;color:#fff;font-weight:600;cursor:pointer}",
    ".send:hover{background:#084a4d}",
    ".note{flex-basis:100%;margin:0;font-size:13px;color:#5a3100}",
    ".note:empty{display:none}",
    "@media (max-width:480px){.panel{inset:0;width:100%;max-width:none;height:100%;border:0;border-radius:0}.launcher{right:12px;bottom:12px}}",
  ].join("\n");

  var host = el("div", { id: "vitawell-chat" });
  var root = host.attachShadow({ mode: "open" });
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    root.appendChild(el("style", {}, CSS)); // older browsers
  }

  var ui = el("div", { class: "root" });
  var launcher = el("button", {
    type: "button",
    class: "launcher",
    "aria-expanded": "false",
    "aria-controls": "panel",
    "aria-label": TEXT.launcherLabel,
  });
  var SVG = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var bubblePath = document.createElementNS(SVG, "path");
  bubblePath.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  icon.appendChild(bubblePath);
  launcher.appendChild(icon);
  launcher.appendChild(el("span", {}, TEXT.launcher));

  var panel = el("section", { id: "panel", class: "panel", role: "dialog", "aria-labelledby": "title" });
  panel.hidden = true;

  var header = el("header");
  var titles = el("div", { class: "titles" });
  titles.appendChild(el("h2", { id: "title" }, TEXT.title));
  titles.appendChild(el("p", { class: "subtitle" }, TEXT.subtitle));
  var startOverButton = el("button", { type: "button", class: "hbtn", title: TEXT.startOverLabel }, TEXT.startOver);
  var closeButton = el("button", { type: "button", class: "hbtn close", "aria-label": TEXT.close }, "×");
  header.appendChild(titles);
  header.appendChild(startOverButton);
  header.appendChild(closeButton);

  var status = el("div", { class: "status", role: "status" });
  var statusText = el("p");
  var retryButton = el("button", { type: "button" }, TEXT.retry);
  status.appendChild(statusText);
  status.appendChild(retryButton);
  status.hidden = true;

  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": TEXT.log, tabindex: "0" });

  var typing = el("div", { class: "typing", role: "status" });
  typing.appendChild(el("span", { class: "vh" }, TEXT.typing));
  for (var i = 0; i < 3; i++) typing.appendChild(el("span", { class: "dot", "aria-hidden": "true" }));
  typing.hidden = true;

  var form = el("form", { novalidate: "" });
  var label = el("label", { for: "input", class: "vh" }, TEXT.input);
  var input = el("textarea", {
    id: "input",
    rows: "1",
    placeholder: TEXT.placeholder,
    autocomplete: "off",
    "aria-describedby": "note",
  });
  var sendButton = el("button", { type: "submit", class: "send" }, TEXT.send);
  var note = el("p", { id: "note", class: "note", "aria-live": "polite" });
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendButton);
  form.appendChild(note);

  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  ui.appendChild(panel);
  ui.appendChild(launcher);
  root.appendChild(ui);

  // ---------------------------------------------------------------- rendering
  var rendered = new Map(); // entry id -> {node, pending}
  var replies = null;

  function entryNode(entry) {
    var node = el("div", { class: "msg " + entry.who });
    var bubble = el("div", { class: "bubble" });
    bubble.appendChild(el("span", { class: "vh" }, entry.who === "user" ? TEXT.you : TEXT.bot));
    entry.text.split(/\n{2,}/).forEach(function (paragraph) {
      if (!paragraph && entry.text) return;
      var p = el("p");
      if (entry.who === "bot") appendLinked(p, paragraph);
      else p.textContent = paragraph; // the patient's words: text, never HTML, never links
      bubble.appendChild(p);
    });
    if (entry.image) bubble.appendChild(el("img", { src: entry.image, alt: "", referrerpolicy: "no-referrer" }));
    node.appendChild(bubble);
    var meta = el("p", { class: "meta" }, TEXT.pending);
    meta.hidden = !entry.pending;
    node.appendChild(meta);
    return node;
  }

  function render() {
    var ids = new Set(state.entries.map(function (e) {
      return e.id;
    }));
    rendered.forEach(function (item, id) {
      if (!ids.has(id)) {
        item.node.remove();
        rendered.delete(id);
      }
    });
    var added = false;
    state.entries.forEach(function (entry) {
      var item = rendered.get(entry.id);
      if (!item) {
        item = { node: entryNode(entry), pending: !!entry.pending };
        log.appendChild(item.node);
        rendered.set(entry.id, item);
        added = true;
      } else if (item.pending !== !!entry.pending) {
        item.pending = !!entry.pending;
        item.node.querySelector(".meta").hidden = !item.pending;
      }
    });
    renderReplies();
    if (added) log.scrollTop = log.scrollHeight;
  }

  function renderReplies() {
    var last = state.entries[state.entries.length - 1];
    var lastId = last && last.who === "bot" && last.buttons ? last.id : null;
    if (replies && replies.entryId === lastId) return;
    var hadFocus = replies && root.activeElement && replies.node.contains(root.activeElement);
    if (replies) replies.node.remove();
    replies = null;
    if (!lastId) {
      if (hadFocus) input.focus();
      return;
    }
    var group = el("div", { class: "replies", role: "group", "aria-label": TEXT.suggestions });
    last.buttons.forEach(function (button) {
      var b = el("button", { type: "button" }, button.title);
      b.addEventListener("click", function () {
        send(button.title, button.payload);
        input.focus();
      });
      group.appendChild(b);
    });
    rendered.get(lastId).node.appendChild(group);
    replies = { entryId: lastId, node: group };
  }

  function renderStatus() {
    if (!endpoint) {
      show(TEXT.notConfigured, false, false);
    } else if (state.connected) {
      status.hidden = true;
    } else if (state.trouble) {
      show(TEXT.down, true, false);
    } else if (socket && socket.active) {
      show(TEXT.connecting, false, true);
    } else {
      status.hidden = true;
    }
    function show(text, retry, info) {
      if (statusText.textContent !== text) statusText.textContent = text;
      retryButton.hidden = !retry;
      status.classList.toggle("info", info);
      status.hidden = false;
    }
  }

  function renderTyping() {
    typing.hidden = !(state.connected && state.waiting > 0);
    if (!typing.hidden) log.scrollTop = log.scrollHeight;
  }

  function showNote(text) {
    note.textContent = text || "";
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 3, 120) + "px";
  }

  // ---------------------------------------------------------------- the socket.io connection
  function botEndpoint(raw) {
    try {
      var scriptUrl = new URL((script && script.src) || window.location.href);
      var url = raw ? new URL(raw, scriptUrl) : new URL(scriptUrl.protocol + "//" + scriptUrl.hostname + ":5005");
      if (url.protocol !== "http:" && url.protocol !== "https:") return null;
      return { origin: url.origin, path: url.pathname.replace(/\/+$/, "") + "/socket.io" };
    } catch (e) {
      return null;
    }
  }

  var endpoint = botEndpoint(script && script.getAttribute("data-bot-url"));
  var socket = endpoint
    ? io(endpoint.origin, {
        path: endpoint.path,
        autoConnect: false,
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 5000,
        timeout: 10000,
      })
    : null;

  function connect() {
    if (socket && !socket.active) socket.connect();
    renderStatus();
  }

  if (socket) {
    socket.on("connect", function () {
      socket.emit("session_request", { session_id: state.sessionId || null });
    });
    socket.on("session_confirm", function (id) {
      adoptSession(id);
      state.connected = true;
      state.trouble = false;
      renderStatus();
      openConversation();
      flush();
    });
    socket.on("connect_error", function () {
      state.connected = false;
      state.trouble = true;
      renderStatus();
    });
    socket.on("disconnect", function (reason) {
      state.connected = false;
      state.waiting = 0;
      renderTyping();
      if (reason === "io client disconnect") return; // we asked for it
      state.trouble = true;
      renderStatus();
      if (reason === "io server disconnect") setTimeout(connect, 2000); // socket.io won't retry this one
    });
    socket.on("bot_uttered", function (data) {
      var entry = botEntry(data);
      if (!entry) return;
      // Every tab of this conversation hears the bot; the tab that spoke last records the answer
      // and the others show it when their storage event arrives.
      var owner = shared.get(key("owner"));
      if (owner && owner !== tabId && isAlive(owner)) return;
      shared.set(key("owner"), tabId);
      addEntry(entry);
    });
  }

  function emitMessage(message) {
    state.waiting += 1;
    renderTyping();
    var finished = false;
    var timer = setTimeout(done, REPLY_TIMEOUT_MS);
    function done() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      state.waiting = Math.max(0, state.waiting - 1);
      renderTyping();
    }
    shared.set(key("owner"), tabId);
    // Rasa acknowledges once it has sent every reply: that ends the typing indicator.
    socket.emit("user_uttered", { message: message, session_id: state.sessionId }, done);
  }

  // Sends what is waiting: this tab's messages, and those of tabs that were closed meanwhile.
  function flush() {
    if (!state.connected) return;
    loadEntries().forEach(function (entry) {
      if (entry.who === "user" && entry.pending && (entry.tab === tabId || !isAlive(entry.tab))) {
        patchEntry(entry.id, { pending: false, tab: tabId });
        emitMessage(entry.payload || entry.text);
      }
    });
  }

  // A new conversation opens with the bot's disclaimer: ask for it once, when the panel is open.
  function openConversation() {
    if (!state.connected || !state.open || loadEntries().length || shared.get(key("opened"))) return;
    shared.set(key("opened"), "1");
    emitMessage(OPENING_PAYLOAD);
  }

  function send(text, payload) {
    var entry = { id: randomId(), who: "user", text: text, tab: tabId, t: Date.now(), pending: true };
    if (payload) entry.payload = payload;
    shared.set(key("opened"), "1");
    addEntry(entry);
    connect();
    flush();
  }

  function useSession(id) {
    state.sessionId = id;
    state.entries = loadEntries();
    state.waiting = 0;
    render();
    renderTyping();
    if (socket && (socket.active || state.open || state.entries.length)) {
      state.connected = false;
      socket.disconnect(); // leave the old conversation's room
      socket.connect();
      renderStatus();
    }
  }

  function startOver() {
    shared.remove(key("log"));
    shared.remove(key("owner"));
    shared.remove(key("opened"));
    shared.remove("session"); // the server issues the new session's id when the socket reconnects
    useSession("");
    showNote("");
    input.focus();
  }

  // ---------------------------------------------------------------- events
  function setOpen(open, focusTarget) {
    state.open = open;
    perTab.set("open", open ? "1" : "0");
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      connect();
      openConversation();
      log.scrollTop = log.scrollHeight;
      autosize();
    }
    if (focusTarget) focusTarget.focus();
  }

  launcher.addEventListener("click", function () {
    setOpen(panel.hidden, panel.hidden ? input : null);
  });
  closeButton.addEventListener("click", function () {
    setOpen(false, launcher);
  });
  startOverButton.addEventListener("click", startOver);
  retryButton.addEventListener("click", function () {
    if (!socket) return;
    socket.disconnect();
    socket.connect();
    renderStatus();
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, launcher);
    }
  });

  input.addEventListener("input", function () {
    if (input.value.length > MAX_LENGTH) {
      var cut = MAX_LENGTH;
      var code = input.value.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // don't split an emoji in half
      input.value = input.value.slice(0, cut);
      showNote(TEXT.tooLong);
    } else if (note.textContent === TEXT.empty) {
      showNote("");
    }
    autosize();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitTyped();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitTyped();
  });

  function submitTyped() {
    var text = input.value.trim();
    if (!text) {
      input.value = "";
      showNote(TEXT.empty);
      input.focus();
      return;
    }
    input.value = "";
    showNote("");
    autosize();
    send(text);
  }

  window.addEventListener("storage", function (event) {
    if (!shared.area || event.storageArea !== shared.area) return;
    if (event.key === null) {
      useSession(currentSessionId()); // storage cleared
    } else if (event.key === PREFIX + "session") {
      if (event.newValue && event.newValue !== state.sessionId) useSession(currentSessionId());
    } else if (event.key === PREFIX + key("log")) {
      state.entries = loadEntries();
      render();
      flush(); // messages of a tab that was closed while offline
    }
  });

  // Any element with data-vitawell-chat-open on the host page opens the chat.
  document.addEventListener("click", function (event) {
    var target = event.target && event.target.closest && event.target.closest("[data-vitawell-chat-open]");
    if (target) {
      event.preventDefault();
      setOpen(true, input);
    }
  });

  window.VitawellChat = {
    open: function () {
      setOpen(true, input);
    },
    close: function () {
      setOpen(false, launcher);
    },
  };

  function mount() {
    document.body.appendChild(host);
    state.entries = loadEntries();
    render();
    if (state.open) setOpen(true);
    if (state.entries.length) connect(); // a conversation is going on: hear the bot's replies
    renderStatus();
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})(io, document.currentScript);
