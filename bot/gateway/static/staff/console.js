// The staff console. Plain JS, no third-party code. Everything a citizen wrote is put on the
// page with textContent only, never as HTML, so a "<script>" in a chat stays text.
//
// Live updates come over one WebSocket (/api/staff/ws): the queue after every change, and the
// messages of the conversation that is open. After a dropped connection it reconnects and asks
// for the messages after the last sequence number it has, so nothing is lost.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SENDERS = { citizen: "Borger", bot: "Assistent", staff: "Medarbejder", system: "System" };
  const PING_MS = 20000;

  const state = {
    me: null,
    csrf: null,
    lists: { queue: [], callbacks: [] },
    seen: new Set(), // ticket ids already shown, so only new ones ring
    firstSnapshot: true,
    selected: null, // ticket id
    conversation: null, // conversation id of the selected ticket
    lastSeq: 0,
    unread: new Set(), // conversation ids with unseen messages
    socket: null,
    retry: 0,
    pinger: null,
    audio: null,
  };

  // --- small helpers ---------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clockOf(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    return date.toLocaleTimeString("da-DK", { hour: "2-digit", minute: "2-digit" });
  }

  function minutesSince(iso) {
    if (!iso) return 0;
    return Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
  }

  function waitText(ticket) {
    const minutes = minutesSince(ticket.created_at);
    return minutes < 1 ? "under 1 min" : minutes + " min";
  }

  function localDateTime(text) {
    if (!text) return "";
    const date = new Date(text); // naive local time from the server = the library's time
    return date.toLocaleString("da-DK", {
      weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    });
  }

  // The JSON API with this session's CSRF token (common.js, shared with the other pages).
  function api(path, options) {
    window.Staff.state.csrf = state.csrf;
    return window.Staff.api(path, options);
  }

  function showActionError(text) {
    const node = $("action-error");
    node.textContent = text || "";
    node.hidden = !text;
  }

  // --- notice for a new request: visual, title and sound -----------------------------------

  function beep() {
    if (!$("sound").checked) return;
    try {
      state.audio = state.audio || new (window.AudioContext || window.webkitAudioContext)();
      const context = state.audio;
      if (context.state === "suspended") context.resume();
      [0, 0.25].forEach((offset, i) => {
        const oscillator = context.createOscillator();
        const gain = context.createGain();
        oscillator.frequency.value = i ? 880 : 660;
        gain.gain.setValueAtTime(0.0001, context.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.25, context.currentTime + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + offset + 0.2);
        oscillator.connect(gain).connect(context.destination);
        oscillator.start(context.currentTime + offset);
        oscillator.stop(context.currentTime + offset + 0.22);
      });
    } catch (e) {
      // No audio device or not allowed yet: the visual notice still shows.
    }
  }

  function announce(ticket) {
    const where = ticket.kind === "kiosk" && ticket.branch_name ? " på " + ticket.branch_name : "";
    const what = ticket.kind === "kiosk" ? "En borger ved kiosken" + where + " har brug for hjælp"
      : ticket.kind === "callback" ? "Ny anmodning om at blive kontaktet"
      : "Ny chat i køen";
    const notice = $("notice");
    notice.textContent = what + (ticket.topic_label ? " – " + ticket.topic_label : "") + ".";
    notice.hidden = false;
    notice.classList.remove("flash");
    void notice.offsetWidth; // restart the animation
    notice.classList.add("flash");
    beep();
  }

  function updateTitle() {
    const waiting = state.lists.queue.filter((t) => t.status === "queued").length;
    document.title = (waiting ? "(" + waiting + ") " : "") + "Medarbejderkonsol – Borgerservice-assistenten";
  }

  // --- lists ---------------------------------------------------------------------------------

  function ticketButton(ticket) {
    const button = el("button", "ticket-button");
    button.type = "button";
    button.dataset.ticketId = ticket.id;
    if (ticket.id === state.selected) button.setAttribute("aria-current", "true");
    const top = el("span", "ticket-top");
    top.append(el("span", "badge badge-" + ticket.kind, ticket.kind_label));
    const title = ticket.kind === "kiosk"
      ? "Kiosk – " + (ticket.branch_name || "ukendt filial")
      : ticket.kind === "callback"
        ? (ticket.name || "Mangler navn")
        : (ticket.topic_label || "Emne ikke kendt");
    top.append(el("span", "ticket-title", title));
    if (ticket.conversation_id && state.unread.has(ticket.conversation_id)) {
      top.append(el("span", "unread", "Ny besked"));
    }
    button.append(top);
    const details = [];
    if (ticket.kind === "callback") {
      if (ticket.topic_label) details.push(ticket.topic_label);
      if (ticket.respond_by) details.push("svar senest " + localDateTime(ticket.respond_by));
      details.push(ticket.status_label);
    } else if (ticket.status === "queued") {
      details.push("venter " + waitText(ticket));
      if (ticket.reason_label) details.push(ticket.reason_label);
    } else {
      details.push(ticket.status_label + (ticket.staff_name ? " – " + ticket.staff_name : ""));
    }
    const line = el("span", "ticket-details", details.join(" · "));
    line.dataset.waitFor = ticket.status === "queued" ? ticket.created_at : "";
    button.append(line);
    button.addEventListener("click", () => select(ticket.id));
    const item = el("li", "ticket ticket-" + ticket.status);
    item.append(button);
    return item;
  }

  function renderLists() {
    const { queue, callbacks } = state.lists;
    $("queue").replaceChildren(...queue.map(ticketButton));
    $("callbacks").replaceChildren(...callbacks.map(ticketButton));
    $("queue-count").textContent = String(queue.filter((t) => t.status === "queued").length);
    $("callbacks-count").textContent = String(callbacks.filter((t) => t.status !== "closed").length);
    $("queue-empty").hidden = queue.length > 0;
    $("callbacks-empty").hidden = callbacks.length > 0;
    updateTitle();
  }

  function onQueue(event) {
    state.lists = { queue: event.queue || [], callbacks: event.callbacks || [] };
    const all = [...state.lists.queue, ...state.lists.callbacks];
    const fresh = all.filter((t) => !state.seen.has(t.id) && t.status !== "closed");
    all.forEach((t) => state.seen.add(t.id));
    if (!state.firstSnapshot) {
      const announced = all.find((t) => t.id === event.new_ticket_id) || fresh[0];
      if (announced && (fresh.length || event.new_ticket_id)) announce(announced);
    }
    state.firstSnapshot = false;
    renderLists();
    const current = selectedTicket();
    if (current) renderTicket(current);
  }

  function selectedTicket() {
    return [...state.lists.queue, ...state.lists.callbacks].find((t) => t.id === state.selected);
  }

  // --- the selected ticket ---------------------------------------------------------------------

  function meta(list, rows) {
    list.replaceChildren();
    rows.filter(([, value]) => value).forEach(([label, value]) => {
      list.append(el("dt", null, label), el("dd", null, value));
    });
  }

  function renderTicket(ticket) {
    $("detail-title").textContent = ticket.kind === "kiosk"
      ? "Kiosk på " + (ticket.branch_name || "ukendt filial")
      : ticket.kind === "callback"
        ? "Kontakt " + (ticket.name || "borgeren") + " (nr. " + ticket.id + ")"
        : "Chat nr. " + ticket.id;
    meta($("ticket-meta"), [
      ["Status", ticket.status_label + (ticket.staff_name ? " – " + ticket.staff_name : "")],
      ["Årsag", ticket.reason_label],
      ["Emne", ticket.topic_label],
      ["Filial", ticket.branch_name],
      ["Oprettet", clockOf(ticket.created_at) + (ticket.status === "queued" ? " (venter " + waitText(ticket) + ")" : "")],
      ["Navn", ticket.name],
      ["Kontakt", ticket.contact],
      ["Beskrivelse", ticket.description],
      ["Svar senest", ticket.respond_by ? localDateTime(ticket.respond_by) : ""],
      ["Resultat", ticket.outcome_label],
    ]);
    const mine = state.me && ticket.staff_id === state.me.id;
    const live = ticket.kind === "live";
    $("take").hidden = ticket.status !== "queued";
    $("take").textContent = ticket.kind === "kiosk" ? "Jeg går derhen" : "Tag samtalen";
    $("return").hidden = !(live && ticket.status === "with_staff" && mine);
    const closable = (live && ticket.status === "with_staff" && mine)
      || (ticket.kind === "callback" && ["open", "pending_details"].includes(ticket.status))
      || (ticket.kind === "kiosk" && ["queued", "with_staff"].includes(ticket.status));
    $("actions").querySelector(".close-group").hidden = !closable;
    $("reply-form").hidden = !(live && ticket.status === "with_staff" && mine);
  }

  function transcriptItem(message) {
    const item = el("li", "msg msg-" + message.sender);
    item.dataset.seq = message.seq;
    const head = el("span", "msg-head");
    const who = message.sender === "staff" && message.staff_name ? message.staff_name : SENDERS[message.sender] || message.sender;
    head.append(el("span", "msg-who", who), el("span", "msg-time", clockOf(message.created_at)));
    item.append(head, el("span", "msg-text", message.text));
    if (message.buttons && message.buttons.length) {
      item.append(el("span", "msg-buttons", "Knapper: " + message.buttons.map((b) => b.title).join(" · ")));
    }
    return item;
  }

  function addMessage(message) {
    if (message.seq <= state.lastSeq) return;
    state.lastSeq = message.seq;
    $("transcript").append(transcriptItem(message));
    const box = $("transcript-box");
    box.scrollTop = box.scrollHeight;
  }

  async function loadSummary(ticketId) {
    const list = $("summary");
    try {
      const summary = await api("/api/staff/tickets/" + ticketId + "/summary");
      if (state.selected !== ticketId) return;
      // In words: what the citizen asked about and what the assistant showed, never the
      // NLU's internal intent names.
      const asked = (summary.asked_about || []).join(", ");
      const shown = (summary.articles || []).join(" · ");
      const slots = (summary.slots || []).map((s) => s.label + ": " + s.value).join("; ");
      meta(list, [
        ["Emne", summary.topic_label || "Ikke kendt"],
        ["Årsag", summary.reason_label],
        ["Spurgte om", asked || "Intet endnu"],
        ["Viste svar", shown || "Ingen"],
        ["Udfyldte felter", slots || (summary.available ? "Ingen" : "Assistenten svarer ikke lige nu")],
      ]);
    } catch (e) {
      meta(list, [["Fejl", e.message]]);
    }
  }

  async function select(ticketId) {
    showActionError("");
    let detail;
    try {
      detail = await api("/api/staff/tickets/" + ticketId);
    } catch (e) {
      showActionError(e.message);
      return;
    }
    const previous = state.conversation;
    state.selected = ticketId;
    state.conversation = detail.ticket.conversation_id;
    state.lastSeq = 0;
    if (previous && previous !== state.conversation) send({ type: "unwatch", conversation_id: previous });
    $("detail-body").hidden = false;
    $("transcript").replaceChildren();
    (detail.messages || []).forEach(addMessage);
    $("notes").replaceChildren(...(detail.notes || []).map(noteItem));
    state.unread.delete(state.conversation);
    renderTicket(detail.ticket);
    renderLists();
    if (state.conversation) send({ type: "watch", conversation_id: state.conversation, after: state.lastSeq });
    $("detail-title").focus();
    loadSummary(ticketId);
  }

  function noteItem(note) {
    const item = el("li", "note");
    item.append(el("span", "note-head", (note.staff_name || "Ukendt") + " " + clockOf(note.created_at)));
    item.append(el("span", "note-text", note.text));
    return item;
  }

  async function act(path, body) {
    showActionError("");
    try {
      const result = await api("/api/staff/tickets/" + state.selected + "/" + path, { method: "POST", body: body || {} });
      if (result.ticket) renderTicket(result.ticket);
      return result;
    } catch (e) {
      showActionError(e.message);
      return null;
    }
  }

  // --- WebSocket -------------------------------------------------------------------------------

  function send(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function setConnection(text, ok) {
    const node = $("connection");
    node.textContent = text;
    node.classList.toggle("offline", !ok);
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + "/api/staff/ws");
    state.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "hello", csrf: state.csrf }));
      if (state.conversation) send({ type: "watch", conversation_id: state.conversation, after: state.lastSeq });
      clearInterval(state.pinger);
      state.pinger = setInterval(() => send({ type: "ping" }), PING_MS);
    });
    socket.addEventListener("message", (raw) => {
      let event;
      try { event = JSON.parse(raw.data); } catch (e) { return; }
      handle(event);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(state.pinger);
      if (state.socket !== socket) return;
      if (event.code === 4401 || event.code === 4403) {
        window.location.assign("/staff/login");
        return;
      }
      setConnection("Forbindelsen er afbrudt – forbinder igen …", false);
      state.retry = Math.min(state.retry + 1, 6);
      setTimeout(reconnect, [500, 1000, 2000, 3000, 5000, 8000, 10000][state.retry]);
    });
  }

  async function reconnect() {
    try {
      await loadMe(); // also finds out whether we are still signed in
    } catch (e) {
      setTimeout(reconnect, 3000);
      return;
    }
    connect();
  }

  function handle(event) {
    switch (event.type) {
      case "hello":
        state.retry = 0;
        setConnection("Forbundet", true);
        break;
      case "queue":
        onQueue(event);
        break;
      case "message":
        if (event.conversation_id === state.conversation) {
          addMessage(event.message);
        } else if (event.message && event.message.sender === "citizen") {
          state.unread.add(event.conversation_id);
          renderLists();
        }
        break;
      case "activity":
        if (event.conversation_id !== state.conversation) {
          state.unread.add(event.conversation_id);
          renderLists();
        }
        break;
      case "session":
        if (event.conversation_id === state.conversation && event.state === "closed") {
          addNotice("Borgeren har afsluttet chatten.");
        }
        break;
      case "ack":
        if (!event.ok) showActionError(event.detail);
        break;
      case "signed_out":
        window.location.assign("/staff/login");
        break;
      default:
        break;
    }
  }

  function addNotice(text) {
    const item = el("li", "msg msg-system");
    item.append(el("span", "msg-text", text));
    $("transcript").append(item);
  }

  // --- wiring ----------------------------------------------------------------------------------

  async function loadMe() {
    const me = await api("/api/staff/me");
    state.me = me.staff;
    state.csrf = me.csrf;
    $("me-name").textContent = me.staff.name;
  }

  $("take").addEventListener("click", async () => {
    const result = await act("take");
    if (result) select(state.selected);
  });
  $("return").addEventListener("click", () => act("return"));
  $("close").addEventListener("click", () => act("close", { outcome: $("outcome").value }));

  $("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("reply-text");
    const text = box.value.trim();
    if (!text) return;
    const clientId = String(Date.now()) + Math.random().toString(16).slice(2);
    if (!send({ type: "reply", ticket_id: state.selected, text, client_id: clientId })) {
      // The socket is reconnecting: send over HTTP instead, nothing waits.
      if (!(await act("reply", { text }))) return;
    }
    box.value = "";
    box.focus();
  });
  $("reply-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });

  $("note-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = $("note-text");
    const text = box.value.trim();
    if (!text || !state.selected) return;
    const result = await act("notes", { text });
    if (result && result.note) {
      $("notes").append(noteItem(result.note));
      box.value = "";
    }
  });

  $("logout").addEventListener("click", async () => {
    try {
      await api("/api/staff/logout", { method: "POST", body: {} });
    } finally {
      window.location.assign("/staff/login");
    }
  });

  // Browsers only allow sound after the user has interacted with the page.
  document.addEventListener("click", () => {
    if (state.audio && state.audio.state === "suspended") state.audio.resume();
  });

  // Waiting times move on without asking the server: redraw them every 15 seconds.
  setInterval(() => {
    if (state.lists.queue.some((t) => t.status === "queued")) renderLists();
  }, 15000);

  loadMe().then(connect).catch(() => setConnection("Kunne ikke forbinde til serveren.", false));
})();
