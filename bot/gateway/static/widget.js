/*
 * Borgerservice-assistenten: the citizen chat widget.
 *
 * Embed on any page with one tag:
 *   <script src="https://GATEWAY/widget.js" data-gateway="https://GATEWAY"
 *           data-color="#0b5394" defer></script>
 *
 * data-gateway  the gateway's URL (default: where widget.js was loaded from)
 * data-color    the library's colour for the launcher, header and the citizen's messages.
 *               Text on it is white or black, whichever contrasts more (always >= 4.5:1);
 *               where the colour itself is used as text or border on white it is darkened
 *               until it reaches 4.5:1. So any colour stays WCAG 2.1 AA.
 * data-title    heading of the chat window (default "Digital hjælp")
 * data-mode     "kiosk": no launcher; the kiosk page builds its own screen with
 *               window.BorgerChat.createChat() (see kiosk.js).
 *
 * Plain JavaScript, no build step, no third-party calls. Every message text is put into the
 * page with textContent / text nodes, never innerHTML, so a message can never run code.
 * The widget lives in a shadow root, so the host page's CSS neither breaks nor sees it.
 */
(() => {
  "use strict";
  if (window.BorgerChat) return; // the tag is on the page twice

  const script =
    document.currentScript || document.querySelector('script[src*="widget.js"]');
  const data = (script && script.dataset) || {};
  const scriptUrl = new URL(script && script.src ? script.src : location.href, location.href);
  const GATEWAY = (data.gateway || scriptUrl.origin).replace(/\/+$/, "");
  const MODE = data.mode === "kiosk" ? "kiosk" : "widget";
  const DEFAULT_COLOR = "#0b5394";

  const T = {
    launcher: "Spørg biblioteket",
    unread: (n) => (n === 1 ? "1 ny besked" : n + " nye beskeder"),
    title: data.title || "Digital hjælp",
    subtitle: "Bibliotekets digitale assistent svarer med det samme",
    close: "Luk chatten",
    log: "Samtale med bibliotekets assistent",
    inputLabel: "Skriv dit spørgsmål",
    placeholder: "Skriv dit spørgsmål her …",
    send: "Send",
    privacy: "Skriv ikke dit CPR-nummer eller andre personlige oplysninger.",
    typing: "Assistenten skriver",
    you: "Dig:",
    bot: "Assistenten:",
    staff: (name) => (name ? name + ", medarbejder" : "Medarbejder"),
    system: "Besked:",
    newTab: " (åbner i et nyt vindue)",
    choices: "Svarmuligheder",
    feedback: "Hjalp svaret?",
    thumbUp: "Ja, svaret hjalp",
    thumbDown: "Nej, svaret hjalp ikke",
    thanks: "Tak for din vurdering.",
    feedbackFailed: "Vurderingen kunne ikke gemmes. Prøv igen.",
    source: (host, reviewed) =>
      "Kilde: " + host + (reviewed ? " · Senest gennemgået " + reviewed : ""),
    refLabel: "Dit referencenummer",
    refHint: "Skriv nummeret ned, eller tag et billede af det.",
    empty: "Skriv dit spørgsmål i feltet først.",
    rejected: "Beskeden kunne ikke sendes. Prøv igen.",
    offline:
      "Der er ingen forbindelse til assistenten. Tjek din internetforbindelse, og prøv igen om lidt.",
    connectionLost: "Forbindelsen til assistenten er afbrudt. Vi prøver at genoprette den …",
    connectionBack: "Forbindelsen er genoprettet.",
    unavailable: "Assistenten kan ikke nås lige nu. Vi prøver igen om lidt.",
    queued: (h) => {
      let text = "Du står i kø til en medarbejder.";
      if (h.position) text += " Du er nummer " + h.position + " i køen.";
      if (h.estimated_wait_minutes != null) {
        const m = Math.max(1, Math.round(h.estimated_wait_minutes));
        text += " Forventet ventetid: ca. " + m + (m === 1 ? " minut." : " minutter.");
      }
      return text;
    },
    withStaff: (h) => "Du skriver nu med " + (h.staff_name || "en medarbejder") + " fra biblioteket.",
    callback: "En medarbejder kontakter dig, så snart det er muligt.",
    handoffClosed: "Samtalen med medarbejderen er afsluttet.",
    backToBot: "Du skriver igen med den digitale assistent.",
    cancel: "Annuller",
    cancelLabel: "Annuller køen til en medarbejder",
    cancelFailed: "Det lykkedes ikke at annullere. Prøv igen.",
    sessionClosed: "Samtalen er afsluttet.",
    deleteChat: "Slet samtalen",
    deleteQuestion: "Vil du slette hele samtalen? Det kan ikke fortrydes.",
    deleteYes: "Ja, slet samtalen",
    deleteNo: "Nej, behold den",
    deleted: "Samtalen er slettet.",
    deleteFailed: "Samtalen kunne ikke slettes. Prøv igen.",
    privacyLink: "Sådan behandler vi dine oplysninger",
    accessibilityLink: "Tilgængelighedserklæring",
  };

  // --- small helpers ---------------------------------------------------------------------

  const MONTHS = [
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
  ];

  /** "Kilde: borger.dk · Senest gennemgået 1. december 2026" under a knowledge answer. */
  function sourceLine(article) {
    let host = String(article.source);
    try {
      host = new URL(article.source).hostname.replace(/^www\./, "");
    } catch (e) {
      /* keep the text as it is */
    }
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(article.reviewed || ""));
    const reviewed = m ? Number(m[3]) + ". " + MONTHS[Number(m[2]) - 1] + " " + m[1] : "";
    return T.source(host, reviewed);
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value == null) continue;
      if (key === "class") node.className = value;
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    for (const child of [].concat(children || [])) {
      if (child == null) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function icon(paths, className) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (className) svg.setAttribute("class", className);
    for (const d of paths) {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.append(path);
    }
    return svg;
  }
  const ICONS = {
    chat: ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"],
    close: ["M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z"],
    thumb: [
      "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z",
    ],
  };

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works on plain http too, unlike crypto.randomUUID
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const storage = {
    get(key) {
      try {
        return JSON.parse(sessionStorage.getItem(key) || "null");
      } catch (e) {
        return null;
      }
    },
    set(key, value) {
      try {
        sessionStorage.setItem(key, JSON.stringify(value));
      } catch (e) {
        /* private mode or full: the chat still works, it just won't survive a reload */
      }
    },
    remove(key) {
      try {
        sessionStorage.removeItem(key);
      } catch (e) {
        /* nothing stored */
      }
    },
  };

  async function request(method, path, body) {
    const response = await fetch(GATEWAY + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
    let json = null;
    try {
      json = await response.json();
    } catch (e) {
      json = null;
    }
    return { ok: response.ok, status: response.status, data: json };
  }

  // --- colours (WCAG contrast) ------------------------------------------------------------

  function parseColor(value) {
    const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value || "").trim());
    if (!m) return null;
    let hex = m[1];
    if (hex.length === 3) hex = hex.replace(/./g, "$&$&");
    return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }
  function luminance(rgb) {
    const [r, g, b] = rgb.map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function contrast(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  function toHex(rgb) {
    return "#" + rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
  }
  const WHITE = [255, 255, 255];
  const BLACK = [0, 0, 0];
  const BOT_BUBBLE = [238, 241, 244]; // #eef1f4 in widget.css

  function theme(color) {
    const base = parseColor(color) || parseColor(DEFAULT_COLOR);
    const onAccent = contrast(base, WHITE) >= 4.5 ? WHITE : BLACK;
    let ink = base;
    // Darken until the colour reads as text on white and on the bot's bubble.
    for (let i = 0; i < 40 && contrast(ink, BOT_BUBBLE) < 4.5; i++) {
      ink = ink.map((c) => c * 0.92);
    }
    return { accent: toHex(base), onAccent: toHex(onAccent), ink: toHex(ink) };
  }

  function applyTheme(target, color) {
    const t = theme(color);
    target.style.setProperty("--bc-accent", t.accent);
    target.style.setProperty("--bc-on-accent", t.onAccent);
    target.style.setProperty("--bc-ink", t.ink);
    return t;
  }

  // --- message text: links and booking references ----------------------------------------

  const URL_RE = /https?:\/\/[^\s<>"']+/g;
  const REF_RE = /\b[A-Z2-9]{3}-[A-Z2-9]{3}\b/g;

  function findReferences(text) {
    const withoutUrls = String(text).replace(URL_RE, " ");
    return Array.from(new Set(withoutUrls.match(REF_RE) || []));
  }

  function appendPlain(parent, text, highlightRefs) {
    if (!highlightRefs) {
      parent.append(document.createTextNode(text));
      return;
    }
    let last = 0;
    for (const m of text.matchAll(REF_RE)) {
      parent.append(document.createTextNode(text.slice(last, m.index)));
      parent.append(el("strong", { class: "bc-ref" }, m[0]));
      last = m.index + m[0].length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  /** "https://www.fstyr.dk/privat/..." is shown as "fstyr.dk": short, and says where it goes. */
  function linkLabel(url) {
    try {
      const parsed = new URL(url);
      const host = parsed.hostname.replace(/^www\./, "");
      const path = parsed.pathname.replace(/\/$/, "");
      return (host + path).length <= 32 && !parsed.search ? host + path : host;
    } catch (e) {
      return url;
    }
  }

  /**
   * Text with its https links made clickable (or, at the kiosk, written out in full so they
   * can be noted down: a new tab there would escape the kiosk's reset). Nothing in the text
   * is ever parsed as HTML.
   */
  function appendRich(parent, text, highlightRefs, linksAsText) {
    text = String(text == null ? "" : text);
    let last = 0;
    for (const m of text.matchAll(URL_RE)) {
      let url = m[0];
      const trail = /[.,;:!?)\]]+$/.exec(url);
      if (trail) url = url.slice(0, -trail[0].length);
      appendPlain(parent, text.slice(last, m.index), highlightRefs);
      if (linksAsText) {
        parent.append(el("span", { class: "bc-url" }, url));
      } else {
        const link = el(
          "a",
          { href: url, target: "_blank", rel: "noopener noreferrer", title: url },
          linkLabel(url)
        );
        link.append(el("span", { class: "bc-sr" }, T.newTab));
        parent.append(link);
      }
      last = m.index + url.length;
    }
    appendPlain(parent, text.slice(last), highlightRefs);
  }

  // --- the chat: session, transport, rendering --------------------------------------------

  let panelCounter = 0;

  class Chat {
    /**
     * options: channel ("web" | "kiosk"), branchId, storageKey, persist (default true),
     * hideWelcomeButtons, linksAsText, onConfig(config), onActivity(), onIncoming(message, live),
     * onBusy(bool), onReference(ref), onSessionClosed()
     */
    constructor(options) {
      this.opts = Object.assign({ channel: "web", storageKey: "borgerchat", persist: true }, options);
      this.uid = "bc" + ++panelCounter;
      this.state = (this.opts.persist && storage.get(this.opts.storageKey)) || this.fresh();
      this.rendered = new Map(); // seq -> element
      this.localWelcome = null;
      this.config = null;
      this.sending = false;
      this.ws = null;
      this.wsWanted = false;
      this.retry = 0;
      this.retryTimer = null;
      this.noticeTimer = null;
      this.noticeShown = false;
      this.activated = false;
      this.destroyed = false;
      this.build();
      this.onPageHide = () => {
        this.pageHidden = true;
      };
      this.onPageShow = (event) => {
        this.pageHidden = false;
        if (event.persisted && this.wsWanted) this.connect();
      };
      this.onOnline = () => {
        if (this.wsWanted && !this.ws) this.connect(true);
      };
      window.addEventListener("pagehide", this.onPageHide);
      window.addEventListener("pageshow", this.onPageShow);
      window.addEventListener("online", this.onOnline);
    }

    fresh() {
      return { id: newId(), seq: 0, started: false, ratings: {}, handoff: null, open: false };
    }

    get id() {
      return this.state.id;
    }

    /** Stored only once a conversation exists: an unused widget leaves nothing behind. */
    save() {
      if (this.opts.persist && this.state.started && !this.destroyed) {
        storage.set(this.opts.storageKey, this.state);
      }
    }

    build() {
      const u = this.uid;
      this.log = el("div", {
        class: "bc-log",
        id: u + "-log",
        role: "log",
        "aria-live": "polite",
        "aria-label": T.log,
        tabindex: "0",
      });
      this.typing = el("div", { class: "bc-typing", hidden: true }, [
        el("span", { class: "bc-dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
        el("span", {}, T.typing),
      ]);
      this.handoffBox = el("div", { class: "bc-handoff", role: "status", hidden: true });
      this.notice = el("div", { class: "bc-notice", role: "status", "aria-live": "polite" });
      this.error = el("p", { class: "bc-error", id: u + "-error", role: "alert", hidden: true });
      this.input = el("input", {
        type: "text",
        id: u + "-input",
        class: "bc-input",
        name: "message",
        autocomplete: "off",
        placeholder: T.placeholder,
        "aria-describedby": u + "-privacy",
      });
      this.sendButton = el("button", { type: "submit", class: "bc-send" }, T.send);
      this.form = el("form", { class: "bc-form", novalidate: true }, [
        el("label", { for: u + "-input", class: "bc-sr" }, T.inputLabel),
        el("div", { class: "bc-row" }, [this.input, this.sendButton]),
        el("p", { class: "bc-privacy", id: u + "-privacy" }, T.privacy),
      ]);
      this.deleteButton = el("button", { type: "button", class: "bc-delete" }, T.deleteChat);
      this.deleteBox = el("div", { class: "bc-confirm", role: "group", hidden: true }, [
        el("p", { id: u + "-delq" }, T.deleteQuestion),
      ]);
      this.deleteBox.setAttribute("aria-labelledby", u + "-delq");
      const yes = el("button", { type: "button", class: "bc-delete-yes" }, T.deleteYes);
      const no = el("button", { type: "button", class: "bc-delete-no" }, T.deleteNo);
      this.deleteBox.append(yes, no);
      // Links to the legal pages: in a new tab from the widget; at the kiosk (no tabs) in
      // the same window, with a way back to the kiosk screen.
      const back = "?tilbage=" + encodeURIComponent(location.pathname + location.search);
      const legal = [
        ["/privatliv", T.privacyLink],
        ["/tilgaengelighed", T.accessibilityLink],
      ].map(([path, label]) =>
        this.opts.linksAsText
          ? el("a", { href: GATEWAY + path + back }, label)
          : el("a", { href: GATEWAY + path, target: "_blank", rel: "noopener" }, [
              label,
              el("span", { class: "bc-sr" }, T.newTab),
            ])
      );
      this.footer = el("div", { class: "bc-footer" }, [
        this.deleteButton,
        el("p", { class: "bc-legal" }, [legal[0], " · ", legal[1]]),
        this.deleteBox,
      ]);
      this.el = el("div", { class: "bc-panel" }, [
        this.log,
        this.typing,
        this.handoffBox,
        this.notice,
        this.error,
        this.form,
        this.footer,
      ]);
      this.deleteButton.addEventListener("click", () => {
        this.deleteBox.hidden = false;
        this.deleteButton.setAttribute("aria-expanded", "true");
        no.focus();
      });
      no.addEventListener("click", () => {
        this.deleteBox.hidden = true;
        this.deleteButton.setAttribute("aria-expanded", "false");
        this.deleteButton.focus();
      });
      yes.addEventListener("click", () => this.deleteConversation(yes));
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submitInput();
      });
      this.input.addEventListener("input", () => this.clearError());
    }

    /** Load the welcome and (for a running conversation) the transcript, and go live. */
    async activate() {
      if (this.activated || this.destroyed) return;
      this.activated = true;
      await this.loadConfig();
      if (this.state.started) {
        if (this.state.handoff) this.showHandoff(this.state.handoff, false);
        this.connect();
      } else {
        this.showWelcome();
      }
    }

    async loadConfig() {
      try {
        const r = await request(
          "GET",
          "/api/widget/config?channel=" + encodeURIComponent(this.opts.channel)
        );
        if (r.ok && r.data && r.data.welcome) {
          this.config = r.data;
          this.clearNotice();
          if (this.opts.onConfig) this.opts.onConfig(r.data);
          return true;
        }
      } catch (e) {
        /* shown below */
      }
      this.showNotice(T.unavailable);
      clearTimeout(this.configTimer);
      this.configTimer = setTimeout(async () => {
        if (!this.destroyed && (await this.loadConfig()) && !this.state.started) this.showWelcome();
      }, 5000);
      return false;
    }

    welcomeText() {
      return this.config && this.config.welcome ? this.config.welcome.text : null;
    }

    showWelcome() {
      if (!this.config || this.localWelcome || this.rendered.size) return;
      const welcome = this.config.welcome;
      const node = this.buildMessage({ sender: "bot", text: welcome.text, buttons: welcome.buttons });
      this.log.append(node);
      this.localWelcome = { el: node, text: welcome.text };
    }

    // --- sending --------------------------------------------------------------------------

    async submitInput() {
      const text = this.input.value.trim();
      if (!text) {
        this.showError(T.empty);
        this.input.focus();
        return;
      }
      if (await this.send(text)) this.input.value = "";
    }

    /** One citizen turn. Returns true when the gateway took the message. */
    async send(text) {
      if (this.sending || this.destroyed) return false;
      this.setBusy(true);
      this.clearError();
      this.activity();
      try {
        await this.ensureStarted();
        this.typing.hidden = false;
        const r = await request("POST", "/api/chat", { session_id: this.id, text });
        this.typing.hidden = true;
        this.setBusy(false); // the turn is over: the next click counts, even while we catch up
        if (r.data && r.data.handoff) this.showHandoff(r.data.handoff);
        if (r.ok || (r.status === 503 && r.data && r.data.messages)) {
          await this.catchUp();
          return true;
        }
        this.showError((r.data && r.data.detail) || T.rejected);
        return false;
      } catch (e) {
        this.showError(e && e.detail ? e.detail : T.offline);
        return false;
      } finally {
        this.typing.hidden = true;
        if (this.sending) this.setBusy(false);
        this.activity();
      }
    }

    /** Create the conversation on the server (stores the welcome) before the first turn. */
    async ensureStarted() {
      if (this.state.started) return;
      if (!this.starting) {
        this.starting = this.start().finally(() => {
          this.starting = null;
        });
      }
      return this.starting;
    }

    async start(again) {
      const body = { session_id: this.id, channel: this.opts.channel };
      if (this.opts.branchId) body.branch_id = this.opts.branchId;
      if (this.opts.kioskKey) body.kiosk_key = this.opts.kioskKey;
      const r = await request("POST", "/api/session/start", body);
      if (r.status === 409 && !again) {
        // That conversation was closed on the server: carry on in a new one.
        this.state = this.fresh();
        if (this.ws) {
          this.ws.onclose = null;
          this.ws.close();
          this.ws = null;
        }
        return this.start(true);
      }
      if (!r.ok && r.status !== 404) {
        const error = new Error("start failed");
        error.detail = (r.data && r.data.detail) || T.rejected;
        throw error;
      }
      this.state.started = true;
      this.save();
      for (const message of (r.data && r.data.messages) || []) this.render(message, false);
      this.connect();
    }

    setBusy(busy) {
      this.sending = busy;
      this.el.classList.toggle("bc-busy", busy);
      this.el.setAttribute("aria-busy", busy ? "true" : "false");
      const controls = [this.sendButton, ...this.log.querySelectorAll(".bc-choice")];
      for (const control of controls) control.setAttribute("aria-disabled", String(busy));
      if (this.opts.onBusy) this.opts.onBusy(busy);
    }

    activity() {
      if (this.opts.onActivity) this.opts.onActivity();
    }

    // --- live transport ------------------------------------------------------------------

    highestRendered() {
      let max = 0;
      for (const seq of this.rendered.keys()) max = Math.max(max, seq);
      return max;
    }

    /** The last seq before the first gap: everything up to it is on screen. */
    contiguous() {
      let seq = 0;
      while (this.rendered.has(seq + 1)) seq++;
      return seq;
    }

    connect(now) {
      if (this.destroyed) return;
      this.wsWanted = true;
      if (this.ws) return;
      clearTimeout(this.retryTimer);
      if (now) this.retry = 0;
      const url =
        GATEWAY.replace(/^http/, "ws") +
        "/api/ws/" +
        encodeURIComponent(this.id) +
        "?after=" +
        this.contiguous();
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (e) {
        this.scheduleReconnect();
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        this.retry = 0;
        this.setConnected(true);
      };
      ws.onmessage = (event) => {
        let payload;
        try {
          payload = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        this.handleEvent(payload);
      };
      ws.onclose = (event) => {
        if (this.ws === ws) this.ws = null;
        // 4410: the conversation has ended on the server; there is nothing to reconnect to.
        if (event && event.code === 4410) this.wsWanted = false;
        if (!this.wsWanted || this.destroyed || this.pageHidden) return;
        this.setConnected(false);
        this.scheduleReconnect();
      };
    }

    scheduleReconnect() {
      clearTimeout(this.retryTimer);
      const delay = Math.min(10000, 500 * Math.pow(2, this.retry)) * (0.8 + Math.random() * 0.4);
      this.retry = Math.min(this.retry + 1, 10);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    }

    setConnected(ok) {
      clearTimeout(this.noticeTimer);
      if (ok) {
        if (this.noticeShown) {
          this.showNotice(T.connectionBack);
          this.noticeTimer = setTimeout(() => this.clearNotice(), 4000);
        }
        if (!this.config) this.loadConfig();
      } else if (!this.noticeShown) {
        // A short grace period: a blip while the page is busy is not worth a warning.
        this.noticeTimer = setTimeout(() => this.showNotice(T.connectionLost, true), 1200);
      }
    }

    showNotice(text, warn) {
      this.notice.textContent = text;
      this.notice.classList.toggle("bc-warn", Boolean(warn));
      this.noticeShown = Boolean(warn);
    }

    clearNotice() {
      this.notice.textContent = "";
      this.notice.classList.remove("bc-warn");
      this.noticeShown = false;
    }

    handleEvent(event) {
      if (!event || typeof event !== "object") return;
      if (event.type === "message" && event.message) {
        const message = event.message;
        this.render(message, true);
        if (message.seq > this.contiguous() + 1) this.catchUp();
      } else if (event.type === "handoff" && event.handoff) {
        this.showHandoff(event.handoff);
      } else if (event.type === "session" && event.state === "deleted") {
        // Deleted from another tab or window: nothing of it stays on this screen either.
        this.forget();
        this.note(T.deleted);
        this.showWelcome();
      } else if (event.type === "session" && event.state === "closed") {
        this.wsWanted = false;
        if (this.opts.onSessionClosed) this.opts.onSessionClosed();
      }
    }

    /** Fetch what is not on screen yet (after a turn, or to fill a gap). */
    async catchUp() {
      try {
        const r = await request(
          "GET",
          "/api/conversation/" + encodeURIComponent(this.id) + "?after=" + this.contiguous()
        );
        if (r.ok && r.data) for (const message of r.data.messages || []) this.render(message, false);
      } catch (e) {
        /* the WebSocket will bring it */
      }
    }

    // --- rendering -----------------------------------------------------------------------

    render(message, live) {
      if (!message || typeof message.seq !== "number" || this.rendered.has(message.seq)) return;
      if (this.destroyed) return;
      if (
        this.localWelcome &&
        message.sender === "bot" &&
        message.text === this.localWelcome.text
      ) {
        // The welcome shown before the conversation existed is this stored message.
        this.localWelcome.el.dataset.seq = String(message.seq);
        this.rendered.set(message.seq, this.localWelcome.el);
        this.localWelcome = null;
        this.bump(message.seq);
        return;
      }
      if (this.localWelcome) {
        this.localWelcome.el.remove();
        this.localWelcome = null;
      }
      const node = this.buildMessage(message);
      let before = null;
      for (const [seq, other] of this.rendered) {
        if (seq > message.seq && (!before || seq < Number(before.dataset.seq))) before = other;
      }
      this.log.insertBefore(node, before);
      this.rendered.set(message.seq, node);
      const isNew = message.seq > this.state.seq;
      this.bump(message.seq);
      if (message.sender === "staff" || message.sender === "bot") this.typing.hidden = true;
      if (this.opts.onIncoming && message.sender !== "citizen") {
        this.opts.onIncoming(message, live && isNew);
      }
      if (!before) this.scrollTo(node);
    }

    bump(seq) {
      if (seq > this.state.seq) {
        this.state.seq = seq;
        this.save();
      }
    }

    scrollTo(node) {
      const log = this.log;
      if (node.offsetHeight > log.clientHeight) log.scrollTop = node.offsetTop - 8;
      else log.scrollTop = log.scrollHeight;
    }

    buildMessage(message) {
      const sender = ["citizen", "bot", "staff", "system"].includes(message.sender)
        ? message.sender
        : "system";
      const isWelcome = sender === "bot" && message.text === this.welcomeText();
      const node = el("div", { class: "bc-msg bc-" + sender });
      if (typeof message.seq === "number") node.dataset.seq = String(message.seq);
      let who;
      if (sender === "staff") {
        const name = message.staff_name || (this.state.handoff && this.state.handoff.staff_name);
        who = el("p", { class: "bc-who" }, T.staff(name));
      } else {
        const label = { citizen: T.you, bot: T.bot, system: T.system }[sender];
        who = el("p", { class: "bc-who bc-sr" }, label);
      }
      const bubble = el("div", { class: "bc-bubble" });
      const fromLibrary = sender === "bot" || sender === "staff";
      appendRich(bubble, message.text, fromLibrary, this.opts.linksAsText);
      node.append(who, bubble);

      if (fromLibrary) {
        for (const ref of findReferences(message.text)) {
          node.append(
            el("div", { class: "bc-refbox" }, [
              el("span", { class: "bc-reflabel" }, T.refLabel),
              el("strong", { class: "bc-refcode" }, ref),
              el("span", { class: "bc-refhint" }, T.refHint),
            ])
          );
          if (this.opts.onReference) this.opts.onReference(ref);
        }
      }
      if (sender === "bot" && message.article && message.article.source) {
        node.append(el("p", { class: "bc-source" }, sourceLine(message.article)));
      }
      const buttons = Array.isArray(message.buttons) ? message.buttons : [];
      if (buttons.length && !(isWelcome && this.opts.hideWelcomeButtons)) {
        const group = el("div", { class: "bc-choices", role: "group", "aria-label": T.choices });
        for (const button of buttons) {
          const choice = el(
            "button",
            { type: "button", class: "bc-choice", "aria-disabled": String(this.sending) },
            String(button.title || "")
          );
          choice.addEventListener("click", () => {
            if (!this.sending) this.send(String(button.payload || button.title || ""));
          });
          group.append(choice);
        }
        node.append(group);
      }
      if (sender === "bot" && !isWelcome && typeof message.seq === "number") {
        node.append(this.buildFeedback(message.seq));
      }
      return node;
    }

    buildFeedback(seq) {
      const rated = this.state.ratings[seq];
      const up = el("button", {
        type: "button",
        class: "bc-thumb bc-up",
        "aria-label": T.thumbUp,
        "aria-pressed": String(rated === "up"),
      });
      up.append(icon(ICONS.thumb));
      const down = el("button", {
        type: "button",
        class: "bc-thumb bc-down",
        "aria-label": T.thumbDown,
        "aria-pressed": String(rated === "down"),
      });
      down.append(icon(ICONS.thumb));
      const status = el("span", { class: "bc-thanks" }, rated ? T.thanks : "");
      const group = el("div", { class: "bc-feedback", role: "group", "aria-label": T.feedback }, [
        el("span", { class: "bc-feedback-q", "aria-hidden": "true" }, T.feedback),
        up,
        down,
        status,
      ]);
      const rate = async (rating) => {
        if (group.dataset.busy) return;
        group.dataset.busy = "1";
        try {
          const r = await request("POST", "/api/feedback", {
            session_id: this.id,
            seq,
            rating,
          });
          if (!r.ok) throw new Error((r.data && r.data.detail) || T.feedbackFailed);
          // Two thumbs-down in a row: the bot apologised and offered a person.
          if (r.data && r.data.messages && r.data.messages.length) await this.catchUp();
          this.state.ratings[seq] = rating;
          this.save();
          up.setAttribute("aria-pressed", String(rating === "up"));
          down.setAttribute("aria-pressed", String(rating === "down"));
          status.textContent = T.thanks;
        } catch (e) {
          status.textContent = e && e.message && e.message !== "Failed to fetch"
            ? e.message
            : T.feedbackFailed;
        } finally {
          delete group.dataset.busy;
        }
      };
      up.addEventListener("click", () => rate("up"));
      down.addEventListener("click", () => rate("down"));
      return group;
    }

    note(text) {
      const node = el("div", { class: "bc-msg bc-system bc-note" }, [
        el("div", { class: "bc-bubble" }, text),
      ]);
      this.log.append(node);
      this.scrollTo(node);
    }

    // --- handoff to staff ----------------------------------------------------------------

    showHandoff(handoff, announce) {
      const state = handoff && handoff.state;
      const box = this.handoffBox;
      box.replaceChildren();
      if (state === "queued" || state === "with_staff" || state === "callback") {
        this.state.handoff = Object.assign({}, this.state.handoff, handoff);
        if (state === "queued") {
          box.append(el("p", {}, T.queued(handoff)));
          const cancel = el(
            "button",
            { type: "button", class: "bc-cancel", "aria-label": T.cancelLabel },
            T.cancel
          );
          cancel.addEventListener("click", () => this.cancelHandoff(cancel));
          box.append(cancel);
        } else {
          box.append(el("p", {}, state === "callback" ? T.callback : T.withStaff(handoff)));
        }
        box.hidden = false;
      } else if (state === "closed" || state === "returned_to_bot") {
        const was = this.state.handoff;
        this.state.handoff = null;
        box.hidden = true;
        if (was && announce !== false) {
          this.note(state === "closed" ? T.handoffClosed : T.backToBot);
        }
      }
      this.save();
    }

    async cancelHandoff(button) {
      if (button.getAttribute("aria-disabled") === "true") return;
      button.setAttribute("aria-disabled", "true");
      try {
        const r = await request("POST", "/api/handoff/cancel", { session_id: this.id });
        if (!r.ok) {
          this.showError((r.data && r.data.detail) || T.cancelFailed);
          return;
        }
        this.showHandoff({ state: "returned_to_bot" });
        this.input.focus();
      } catch (e) {
        this.showError(T.offline);
      } finally {
        button.setAttribute("aria-disabled", "false");
      }
    }

    /** "Slet samtalen": delete it on the server, then start afresh in this browser. */
    async deleteConversation(button) {
      if (button.getAttribute("aria-disabled") === "true") return;
      button.setAttribute("aria-disabled", "true");
      let message = T.deleted;
      try {
        if (this.state.started) {
          const r = await request("POST", "/api/session/delete", { session_id: this.id });
          if (!r.ok && r.status !== 404) {
            this.showError((r.data && r.data.detail) || T.deleteFailed);
            return;
          }
          if (r.data && r.data.message) message = r.data.message;
        }
        this.forget();
        this.note(message);
        this.showWelcome();
        if (this.opts.onDeleted) this.opts.onDeleted(message);
        this.input.focus();
      } catch (e) {
        this.showError(T.offline);
      } finally {
        button.setAttribute("aria-disabled", "false");
      }
    }

    /** Drop the conversation in this browser: a new id, nothing on screen or in storage. */
    forget() {
      this.wsWanted = false;
      clearTimeout(this.retryTimer);
      if (this.ws) {
        this.ws.onclose = null;
        this.ws.close();
        this.ws = null;
      }
      storage.remove(this.opts.storageKey);
      this.state = this.fresh();
      this.rendered.clear();
      this.localWelcome = null;
      this.log.replaceChildren();
      this.handoffBox.hidden = true;
      this.handoffBox.replaceChildren();
      this.deleteBox.hidden = true;
      this.deleteButton.setAttribute("aria-expanded", "false");
      this.clearError();
    }

    showError(text) {
      this.error.textContent = text;
      this.error.hidden = false;
      this.input.setAttribute("aria-describedby", this.uid + "-error " + this.uid + "-privacy");
      this.input.setAttribute("aria-invalid", "true");
    }

    clearError() {
      if (this.error.hidden) return;
      this.error.hidden = true;
      this.error.textContent = "";
      this.input.setAttribute("aria-describedby", this.uid + "-privacy");
      this.input.removeAttribute("aria-invalid");
    }

    /** Stop everything and forget the conversation in this browser (kiosk reset). */
    destroy() {
      this.destroyed = true;
      this.wsWanted = false;
      clearTimeout(this.retryTimer);
      clearTimeout(this.noticeTimer);
      clearTimeout(this.configTimer);
      if (this.ws) {
        this.ws.onclose = null;
        this.ws.close();
        this.ws = null;
      }
      window.removeEventListener("pagehide", this.onPageHide);
      window.removeEventListener("pageshow", this.onPageShow);
      window.removeEventListener("online", this.onOnline);
      storage.remove(this.opts.storageKey);
      this.el.remove();
      this.rendered.clear();
    }
  }

  // --- the floating widget -------------------------------------------------------------------

  function mountWidget() {
    const host = el("div", { class: "borgerchat-host", "data-borgerchat": "" });
    const shadow = host.attachShadow({ mode: "open" });
    applyTheme(host, data.color);
    const stylesheet = el("link", { rel: "stylesheet", href: GATEWAY + "/widget.css" });
    const chat = new Chat({ channel: "web", storageKey: "borgerchat" });
    let unread = 0;

    const badge = el("span", { class: "bc-badge", hidden: true, "aria-hidden": "true" });
    const launcherText = el("span", { class: "bc-launcher-text" }, T.launcher);
    const launcherStatus = el("span", { class: "bc-sr" });
    const launcher = el(
      "button",
      {
        type: "button",
        class: "bc-launcher",
        "aria-expanded": "false",
        "aria-controls": "bc-dialog",
      },
      [icon(ICONS.chat, "bc-launcher-icon"), launcherText, launcherStatus, badge]
    );
    const close = el("button", { type: "button", class: "bc-close", "aria-label": T.close }, [
      icon(ICONS.close),
    ]);
    const dialog = el(
      "section",
      {
        id: "bc-dialog",
        class: "bc-dialog",
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": "bc-title",
        "aria-describedby": "bc-subtitle",
        hidden: true,
      },
      [
        el("div", { class: "bc-header" }, [
          el("div", { class: "bc-heading" }, [
            el("h2", { id: "bc-title" }, T.title),
            el("p", { id: "bc-subtitle" }, T.subtitle),
          ]),
          close,
        ]),
        chat.el,
      ]
    );
    const root = el("div", { class: "bc-widget", hidden: true }, [dialog, launcher]);
    const reveal = () => {
      root.hidden = false;
    };
    stylesheet.addEventListener("load", reveal);
    stylesheet.addEventListener("error", reveal);
    setTimeout(reveal, 3000);
    shadow.append(stylesheet, root);

    function setUnread(n) {
      unread = n;
      badge.textContent = String(n);
      badge.hidden = n === 0;
      launcherStatus.textContent = n ? " (" + T.unread(n) + ")" : "";
    }

    function open(moveFocus) {
      dialog.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      root.classList.add("bc-open");
      chat.state.open = true;
      chat.save();
      setUnread(0);
      // activate() goes live once the welcome text is known (so the restored welcome is
      // recognised); a new conversation connects when it starts.
      chat.activate();
      if (moveFocus) chat.input.focus();
    }

    function hide() {
      dialog.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      root.classList.remove("bc-open");
      chat.state.open = false;
      chat.save();
      launcher.focus();
    }

    chat.opts.onIncoming = (message, live) => {
      if (live && dialog.hidden) setUnread(unread + 1);
    };
    launcher.addEventListener("click", () => (dialog.hidden ? open(true) : hide()));
    close.addEventListener("click", hide);
    dialog.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        hide();
      }
    });

    document.body.append(host);
    if (chat.state.started) {
      // A conversation from an earlier page: bring it back (and reopen if it was open).
      chat.activate();
      if (chat.state.open) open(false);
    }
    return { chat, open, close: hide, host };
  }

  window.BorgerChat = {
    gateway: GATEWAY,
    mode: MODE,
    strings: T,
    theme,
    contrast: (a, b) => contrast(parseColor(a), parseColor(b)),
    applyTheme,
    createChat: (options) => new Chat(options),
    widget: null,
  };

  if (MODE === "widget") {
    const boot = () => {
      window.BorgerChat.widget = mountWidget();
    };
    if (document.body) boot();
    else document.addEventListener("DOMContentLoaded", boot, { once: true });
  }
})();
