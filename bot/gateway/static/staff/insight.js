// "Indsigt": the figures of a period, the server's SVG charts, tables with CSV links, and the
// "Spørgsmål uden godt svar" with the editor's actions. No third-party code or requests.
"use strict";

(function () {
  const { el, api, signIn, canEdit, dateTime } = window.Staff;
  const $ = (id) => document.getElementById(id);
  const OUTCOMES = {
    answered: "Besvaret af assistenten",
    clarified: "Besvaret efter »Mener du …?«",
    not_understood: "Ikke forstået",
    handoff: "Givet videre til en medarbejder",
  };
  const SHOWN_MISSED = 10;
  let titles = {};
  let branchesFilled = false;
  let allMissed = false;

  function query() {
    const params = new URLSearchParams({ days: $("days").value });
    if ($("channel").value) params.set("channel", $("channel").value);
    if ($("branch").value) params.set("branch", $("branch").value);
    return params.toString();
  }

  const percent = (share) => Math.round(share * 100) + " %";
  const minutes = (s) => (s === null || s === undefined ? "–" : (s / 60).toFixed(1).replace(".", ",") + " min");

  function table(id, header, rows, numeric) {
    const node = $(id);
    node.replaceChildren();
    const head = el("tr");
    header.forEach((h, i) => {
      const th = el("th", numeric.includes(i) ? "num" : null, h);
      th.scope = "col";
      head.append(th);
    });
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    rows.forEach((row) => {
      const tr = el("tr");
      row.forEach((cell, i) => tr.append(el("td", numeric.includes(i) ? "num" : null, cell)));
      body.append(tr);
    });
    if (!rows.length) {
      const tr = el("tr");
      const td = el("td", null, "Ingen data i perioden.");
      td.colSpan = header.length;
      tr.append(td);
      body.append(tr);
    }
    node.append(thead, body);
  }

  function figure(list, label, value) {
    const box = el("div");
    box.append(el("dt", null, label), el("dd", null, value));
    list.append(box);
  }

  function render(f) {
    $("summary").replaceChildren(...f.summary.map((line) => el("p", null, line)));
    const list = $("figures");
    list.replaceChildren();
    figure(list, "Samtaler", f.conversations);
    figure(list, "Beskeder", f.messages);
    figure(list, "Klaret af assistenten", percent(f.containment));
    figure(list, "Uden for personalets tid", percent(f.outside_staffed_hours));
    figure(list, "Til en medarbejder", f.handoffs.count);
    figure(list, "Median ventetid", minutes(f.handoffs.median_wait_seconds));

    const q = query();
    $("chart-per-day").src = "/api/staff/insights/charts/per_day.svg?" + q;
    $("chart-heat").src = "/api/staff/insights/charts/heat_map.svg?" + q;
    ["per_day", "heat_map", "outcomes", "topics", "articles", "handoffs", "bookings", "missed"]
      .forEach((name) => { $("csv-" + name).href = "/api/staff/insights/" + name + ".csv?" + q; });

    const total = Object.values(f.outcomes).reduce((a, b) => a + b, 0);
    table("outcomes", ["Udfald", "Antal", "Andel"], Object.entries(f.outcomes).map(([k, v]) =>
      [OUTCOMES[k], v, total ? percent(v / total) : "–"]), [1, 2]);
    const h = f.handoffs;
    table("handoffs", ["", "Værdi"], [
      ["Henvendelser i alt", h.count],
      ["Chat med en medarbejder", h.live],
      ["Kald fra kiosk", h.kiosk],
      ["Ring-op (kontakt borgeren)", h.callback],
      ["Forlod køen", h.left_queue],
      ["Median ventetid", minutes(h.median_wait_seconds)],
      ["90 % ventede højst", minutes(h.p90_wait_seconds)],
      ["Taget i tide", percent(h.taken_in_time)],
    ], [1]);
    table("topics", ["Emne", "Samtaler"], Object.entries(f.topics).map(([t, n]) =>
      [f.topic_labels[t] || t, n]), [1]);
    table("articles", ["Artikel", "Vist", "Tommel op", "Tommel ned"],
      Object.entries(f.articles).slice(0, 15).map(([id, a]) =>
        [titles[id] || id, a.shown, a.thumbs_up, a.thumbs_down]), [1, 2, 3]);
    table("bookings", ["Filial", "Bookinger", "Aflyst", "Kursushold", "Pladser", "Optaget", "Fyldt"],
      f.bookings.map((b) => [b.branch_name, b.booked, b.cancelled, b.sessions, b.seats,
        b.seats_taken, percent(b.fill_rate)]), [1, 2, 3, 4, 5, 6]);
    renderMissed(f.missed);
  }

  function option(id) {
    const node = el("option", null, titles[id]);
    node.value = id;
    return node;
  }

  function articleSelect(group, label) {
    // Suggested articles first (the choices offered, the one that got a thumbs-down), then
    // all articles by title; nothing is chosen until the editor chooses.
    const select = el("select");
    select.setAttribute("aria-label", label);
    const none = el("option", null, "Vælg en artikel …");
    none.value = "";
    select.append(none);
    const suggested = group.suggested.filter((id) => titles[id]);
    if (suggested.length) {
      const top = el("optgroup");
      top.label = "Foreslået";
      suggested.forEach((id) => top.append(option(id)));
      select.append(top);
    }
    const all = el("optgroup");
    all.label = "Alle artikler";
    Object.keys(titles).sort((a, b) => titles[a].localeCompare(titles[b], "da"))
      .forEach((id) => all.append(option(id)));
    select.append(all);
    if (suggested.length) select.value = suggested[0];
    return select;
  }

  function renderMissed(groups) {
    const list = $("missed");
    list.replaceChildren();
    $("missed-empty").hidden = groups.length > 0;
    $("missed-readonly").hidden = canEdit();
    const more = $("missed-more");
    more.hidden = allMissed || groups.length <= SHOWN_MISSED;
    more.textContent = "Vis alle " + groups.length + " spørgsmål";
    more.onclick = () => { allMissed = true; renderMissed(groups); };
    groups.slice(0, allMissed ? groups.length : SHOWN_MISSED).forEach((group, n) => {
      const item = el("li", "missed-item");
      item.append(el("p", "q", group.text));
      item.append(el("p", "meta", group.count + " gang" + (group.count === 1 ? "" : "e")
        + " · senest " + dateTime(group.last_seen) + " · " + group.reason_labels.join(", ")));
      if (canEdit()) {
        const actions = el("div", "missed-actions");
        const select = articleSelect(group, "Artikel til spørgsmålet »" + group.text + "«");
        select.id = "missed-article-" + n;
        const add = el("button", "primary", "Tilføj som eksempel");
        add.type = "button";
        add.addEventListener("click", () => select.value ? act(group, () => api(
          "/api/staff/articles/" + encodeURIComponent(select.value) + "/questions",
          { method: "POST", body: { question: group.text, missed_key: group.key } },
        ), "Tilføjet som eksempel til »" + titles[select.value] + "«.")
          : showError("Vælg den artikel, spørgsmålet skal tilføjes til."));
        const create = el("a", null, "Start ny artikel");
        create.href = "/staff/articles?" + new URLSearchParams({ new: "1", question: group.text, missed: group.key });
        const dismiss = el("button", null, "Afvis");
        dismiss.type = "button";
        dismiss.addEventListener("click", () => act(group, () => api(
          "/api/staff/missed/" + group.key + "/dismiss", { method: "POST", body: {} },
        ), "Spørgsmålet er afvist."));
        actions.append(select, add, create, dismiss);
        item.append(actions);
      }
      list.append(item);
    });
  }

  async function act(group, call, done) {
    try {
      await call();
      $("missed-status").textContent = done;
      await load();
    } catch (e) {
      $("missed-status").textContent = "";
      showError(e.message);
    }
  }

  function showError(text) {
    $("error").textContent = text || "";
    $("error").hidden = !text;
  }

  async function load() {
    showError("");
    try {
      const f = await api("/api/staff/insights?" + query());
      if (!branchesFilled) {
        f.branches.forEach((b) => {
          const option = el("option", null, b.name);
          option.value = b.id;
          $("branch").append(option);
        });
        branchesFilled = true;
      }
      render(f);
    } catch (e) {
      showError(e.message);
    }
  }

  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });

  signIn()
    .then(() => api("/api/staff/articles"))
    .then((data) => {
      titles = Object.fromEntries(data.articles.map((a) => [a.id, a.title]));
      return load();
    })
    .catch((e) => showError(e.message));
})();
