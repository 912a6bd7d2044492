/*
 * Borgerservice-assistenten: the touch-screen kiosk in the library's foyer.
 *
 * Topic tiles up front, the chat beside them, "Start forfra" and "Kald en medarbejder".
 * After inactivity it asks "Er du der stadig?", then clears the screen, ends the session on
 * the server (POST /api/session/end) and forgets everything in the browser: the next person
 * gets a new session id and finds no trace of the last one. Timings come from the page
 * (/kiosk?branch=...&idle_warn=90&idle_reset=120, or BORGER_KIOSK_IDLE_WARN/RESET).
 */
(() => {
  "use strict";
  const BC = window.BorgerChat;
  const config = JSON.parse(document.getElementById("kiosk-config").textContent);
  const $ = (id) => document.getElementById(id);
  const tiles = $("k-tiles");
  const chatBox = $("k-chat");
  const callButton = $("k-call");
  const callStatus = $("k-call-status");
  const overlay = $("k-idle");
  const countdown = $("k-idle-count");
  const continueButton = $("k-idle-continue");
  const inertWhileWarning = [$("k-top"), $("k-main"), callStatus];
  const STORAGE_KEY = "borgerkiosk";
  const WARN_MS = (config.idleWarnSeconds || 90) * 1000;
  const RESET_MS = (config.idleResetSeconds || 120) * 1000;
  const phone = config.phone || "";

  const TEXT = {
    calling: "Vi kalder på en medarbejder …",
    called: "En medarbejder har fået besked og kommer hen til dig. Bliv ved skærmen.",
    callFailed:
      "Det lykkedes ikke at kalde en medarbejder herfra. Gå hen til skranken" +
      (phone ? ", eller ring til biblioteket på " + phone + "." : "."),
    seconds: (n) => "Skærmen ryddes om " + n + (n === 1 ? " sekund" : " sekunder"),
  };
  const DESCRIPTIONS = {
    "/ask_mitid": "Få, brug eller spær MitID",
    "/ask_flytning": "Meld flytning og ny adresse",
    "/ask_koerekort": "Forny eller erstat kørekort",
    "/ask_skole": "Skoleindskrivning og pasning",
    "/book_it_help": "Få en tid hos en medarbejder",
    "/ask_it_help": "Få en tid hos en medarbejder",
    "/ask_courses": "Gratis it-kurser på biblioteket",
  };

  BC.applyTheme(document.documentElement, "#0b5394");

  let chat = null;
  let dirty = false; // someone has used the screen since the last reset
  let lastActivity = Date.now();
  let warned = false;
  let focusBeforeWarning = null;
  let calling = false;

  // --- the chat and the tiles ---------------------------------------------------------------

  function newChat() {
    chat = BC.createChat({
      channel: "kiosk",
      branchId: config.branchId,
      kioskKey: config.kioskKey,
      storageKey: STORAGE_KEY,
      hideWelcomeButtons: true,
      linksAsText: true,
      onConfig: renderTiles,
      // "Slet samtalen": already deleted on the server; clear the screen as a reset does.
      onDeleted: (message) => {
        resetKiosk(true);
        showCallStatus(message, "k-ok");
      },
      onActivity: () => touch(),
      // Staff took the call ("En medarbejder er på vej: Anna …") or closed it unanswered:
      // said by the call button too, where the citizen waiting at the screen looks.
      onIncoming: (message) => {
        if (message.kiosk === "coming") showCallStatus(message.text, "k-ok");
        else if (message.kiosk === "closed") showCallStatus(message.text, "k-failed");
      },
      onBusy: (busy) => {
        for (const tile of tiles.querySelectorAll("button")) {
          tile.setAttribute("aria-disabled", String(busy));
        }
      },
    });
    chatBox.replaceChildren(chat.el);
    chat.activate();
  }

  function renderTiles(widgetConfig) {
    tiles.replaceChildren();
    for (const button of widgetConfig.welcome.buttons) {
      const tile = document.createElement("button");
      tile.type = "button";
      tile.className = "k-tile";
      tile.setAttribute("aria-disabled", "false");
      const title = document.createElement("span");
      title.className = "k-tile-title";
      title.textContent = button.title;
      tile.append(title);
      const description = DESCRIPTIONS[button.payload];
      if (description) {
        const small = document.createElement("span");
        small.className = "k-tile-text";
        small.textContent = description;
        tile.append(small);
      }
      tile.addEventListener("click", () => {
        if (chat.sending) return;
        chat.send(button.payload);
      });
      tiles.append(tile);
    }
  }

  // --- calling a member of staff -----------------------------------------------------------

  async function callStaff() {
    if (calling) return;
    calling = true;
    callButton.setAttribute("aria-disabled", "true");
    touch();
    showCallStatus(TEXT.calling, "");
    let text = TEXT.callFailed;
    let kind = "k-failed";
    try {
      await chat.ensureStarted();
      const response = await fetch("/api/kiosk/call", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          session_id: chat.id,
          branch_id: config.branchId,
          kiosk_key: config.kioskKey,
        }),
      });
      let data = null;
      try {
        data = await response.json();
      } catch (e) {
        data = null;
      }
      const message = data && typeof data.message === "string" ? data.message : "";
      const detail = data && typeof data.detail === "string" ? data.detail : "";
      if (response.ok && !(data && data.ok === false)) {
        text = message || TEXT.called;
        kind = "k-ok";
      } else if (message) {
        // E.g. no staff in the building right now: the endpoint says when there will be.
        text = message;
      } else if (detail && response.status !== 404 && response.status !== 405) {
        text = detail + " " + TEXT.callFailed;
      }
    } catch (e) {
      /* the fallback text */
    } finally {
      calling = false;
      callButton.setAttribute("aria-disabled", "false");
    }
    showCallStatus(text, kind);
  }

  function showCallStatus(text, kind) {
    callStatus.className = "k-call-status " + kind;
    callStatus.textContent = text;
  }

  // --- inactivity -------------------------------------------------------------------------

  function touch(event) {
    lastActivity = Date.now();
    dirty = true;
    if (warned && !(event && overlay.contains(event.target))) hideWarning();
  }

  function showWarning() {
    warned = true;
    focusBeforeWarning = document.activeElement;
    for (const node of inertWhileWarning) node.inert = true;
    overlay.hidden = false;
    updateCountdown();
    continueButton.focus();
  }

  function hideWarning() {
    if (!warned) return;
    warned = false;
    overlay.hidden = true;
    for (const node of inertWhileWarning) node.inert = false;
    if (focusBeforeWarning && document.contains(focusBeforeWarning)) focusBeforeWarning.focus();
    focusBeforeWarning = null;
  }

  function updateCountdown() {
    const left = Math.max(0, Math.ceil((RESET_MS - (Date.now() - lastActivity)) / 1000));
    countdown.textContent = TEXT.seconds(left);
  }

  function tick() {
    if (!dirty) return;
    if (chat.sending) {
      lastActivity = Date.now(); // waiting for an answer is not being away
      return;
    }
    const idle = Date.now() - lastActivity;
    if (idle >= RESET_MS) resetKiosk();
    else if (idle >= WARN_MS && !warned) showWarning();
    else if (warned) updateCountdown();
  }

  /** Clear the screen, end the session on the server and keep nothing in the browser. */
  function resetKiosk(alreadyDeleted) {
    const old = chat;
    const hadConversation = old.state.started && alreadyDeleted !== true;
    const sessionId = old.id;
    hideWarning();
    dirty = false;
    old.destroy();
    try {
      sessionStorage.clear();
      localStorage.clear();
    } catch (e) {
      /* nothing stored */
    }
    if (hadConversation) {
      fetch("/api/session/end", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session_id: sessionId }),
        keepalive: true,
      }).catch(() => {});
    }
    showCallStatus("", "");
    newChat();
    document.body.dataset.resets = String(Number(document.body.dataset.resets || 0) + 1);
    $("k-topics-title").focus();
  }

  for (const type of ["pointerdown", "keydown", "input", "wheel", "touchstart"]) {
    document.addEventListener(type, touch, { capture: true, passive: true });
  }
  continueButton.addEventListener("click", () => {
    lastActivity = Date.now();
    hideWarning();
  });
  overlay.addEventListener("keydown", (event) => {
    if (event.key === "Tab") {
      event.preventDefault(); // the only control: keep focus in the dialog
      continueButton.focus();
    } else if (event.key === "Escape") {
      hideWarning();
    }
  });
  $("k-restart").addEventListener("click", () => resetKiosk());
  callButton.addEventListener("click", callStaff);
  setInterval(tick, 250);

  newChat();
  dirty = chat.state.started; // a conversation restored after a reload still times out
})();
