// The article editor: list (with those due for review), the form, a preview rendered by the
// server exactly as the chat shows it, every version with restore. Editors save; staff read.
"use strict";

(function () {
  const { el, api, signIn, canEdit, dateTime } = window.Staff;
  const $ = (id) => document.getElementById(id);
  const FIELDS = ["id", "topic", "title", "body", "source", "reviewed", "questions", "related"];
  const TOPICS = {
    mitid: "MitID", nemid: "NemID", digital_post: "Digital Post", flytning: "Flytning",
    koerekort: "Kørekort", skole: "Skole", dagtilbud: "Dagtilbud", opening_hours: "Åbningstider",
    it_help: "it-hjælp", courses: "Kurser", out_of_scope: "Andre myndigheder",
  };
  const state = { articles: [], current: null, creating: false, missedKey: null };

  Object.entries(TOPICS).forEach(([value, label]) => {
    const option = el("option", null, label);
    option.value = value;
    $("topic").append(option);
  });

  function words(text) {
    return text.replace(/https:\/\/\S+/g, "").split(/\s+/).filter(Boolean).length;
  }

  function renderList() {
    const filter = $("filter").value.trim().toLowerCase();
    const onlyDue = $("only-due").checked;
    const shown = state.articles.filter((a) => (!filter || a.title.toLowerCase().includes(filter)
      || a.id.includes(filter)) && (!onlyDue || a.review_due));
    $("count").textContent = String(shown.length);
    $("list").replaceChildren(...shown.map((article) => {
      const button = el("button", null);
      button.type = "button";
      button.append(el("span", null, article.title));
      if (article.review_due) button.append(el("span", "due", " · skal gennemses"));
      if (state.current && state.current.id === article.id) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => open(article.id));
      const item = el("li");
      item.append(button);
      return item;
    }));
  }

  function clearErrors() {
    FIELDS.concat(["version"]).forEach((name) => {
      const node = $(name + "-error");
      if (node) node.textContent = "";
      const input = $(name);
      if (input) input.removeAttribute("aria-invalid");
    });
  }

  function showErrors(errors) {
    clearErrors();
    Object.entries(errors || {}).forEach(([name, message]) => {
      const node = $(name + "-error") || $("version-error");
      node.textContent = message;
      const input = $(name);
      if (input) input.setAttribute("aria-invalid", "true");
    });
  }

  function fill(article) {
    $("id").value = article.id || "";
    $("topic").value = article.topic || "mitid";
    $("title").value = article.title || "";
    $("body").value = article.body || "";
    $("source").value = article.source || "";
    $("reviewed").value = article.reviewed || new Date().toISOString().slice(0, 10);
    $("questions").value = (article.questions || []).join("\n");
    $("related").value = (article.related || []).join(", ");
    countWords();
  }

  function formBody() {
    return {
      id: $("id").value.trim(),
      topic: $("topic").value,
      title: $("title").value,
      body: $("body").value,
      source: $("source").value.trim(),
      reviewed: $("reviewed").value,
      questions: $("questions").value.split("\n").map((q) => q.trim()).filter(Boolean),
      related: $("related").value.split(",").map((r) => r.trim()).filter(Boolean),
    };
  }

  function countWords() {
    const n = words($("body").value);
    $("body-words").textContent = n + " ord" + (n > 80 ? " – højst 80" : "");
  }

  function setEditable() {
    const editable = canEdit();
    $("readonly").hidden = editable;
    FIELDS.forEach((name) => { $(name).disabled = !editable || (name === "id" && !state.creating); });
    $("save").hidden = !editable;
    $("preview-button").hidden = !editable;
  }

  async function open(id) {
    clearErrors();
    $("status").textContent = "";
    const article = await api("/api/staff/articles/" + encodeURIComponent(id));
    state.current = article;
    state.creating = false;
    $("editor-title").textContent = article.title;
    $("form").hidden = false;
    fill(article);
    setEditable();
    renderList();
    await loadVersions();
    $("preview-box").hidden = true;
    $("editor-title").focus();
  }

  function startNew(question) {
    clearErrors();
    state.current = null;
    state.creating = true;
    $("editor-title").textContent = "Ny artikel";
    $("form").hidden = false;
    fill({ questions: question ? [question] : [] });
    setEditable();
    $("versions-box").hidden = true;
    $("preview-box").hidden = true;
    renderList();
    $("editor-title").focus();
  }

  async function loadVersions() {
    const { versions } = await api("/api/staff/articles/" + encodeURIComponent(state.current.id) + "/versions");
    $("versions-box").hidden = false;
    $("versions").replaceChildren(...versions.map((v) => {
      const item = el("li");
      const what = ["Version " + v.version, v.action_label, v.username, dateTime(v.created_at)]
        .filter(Boolean).join(" · ");
      item.append(el("span", null, what));
      if (canEdit() && v.version !== state.current.version) {
        const restore = el("button", null, "Gendan version " + v.version);
        restore.type = "button";
        restore.addEventListener("click", async () => {
          try {
            state.current = await api("/api/staff/articles/" + encodeURIComponent(state.current.id)
              + "/restore/" + v.version, { method: "POST", body: {} });
            fill(state.current);
            $("status").textContent = "Version " + v.version + " er gendannet som version " + state.current.version + ".";
            await refreshList();
            await loadVersions();
          } catch (e) {
            showErrors(e.errors && Object.keys(e.errors).length ? e.errors : { version: e.message });
          }
        });
        item.append(restore);
      }
      return item;
    }));
  }

  async function preview() {
    try {
      const result = await api("/api/staff/articles/preview", { method: "POST", body: formBody() });
      showErrors(result.errors);
      const box = $("preview");
      box.replaceChildren();
      result.messages.forEach((message) => {
        box.append(el("div", "bubble", message.text));
        const buttons = el("div", "bubble-buttons");
        (message.buttons || []).forEach((b) => buttons.append(el("span", null, b.title)));
        if (message.article) buttons.append(el("span", null, "Kilde: " + message.article.source));
        box.append(buttons);
      });
      $("preview-box").hidden = false;
    } catch (e) {
      showErrors(e.errors && Object.keys(e.errors).length ? e.errors : { version: e.message });
    }
  }

  async function save(event) {
    event.preventDefault();
    $("status").textContent = "";
    const body = formBody();
    const id = state.creating ? body.id : state.current.id;
    if (!state.creating) body.version = state.current.version;
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id)) {
      showErrors({ id: "Id'et må kun have små bogstaver a-z, tal og bindestreger, fx koerekort-mistet." });
      return;
    }
    try {
      const saved = await api("/api/staff/articles/" + encodeURIComponent(id), { method: "PUT", body });
      if (state.creating && state.missedKey) {
        await api("/api/staff/missed/" + state.missedKey + "/handled", {
          method: "POST", body: { action: "new_article", article_id: saved.id },
        });
        state.missedKey = null;
      }
      clearErrors();
      state.current = saved;
      state.creating = false;
      $("editor-title").textContent = saved.title;
      fill(saved);
      setEditable();
      $("status").textContent = "Gemt som version " + saved.version + ". Assistenten svarer med den nye tekst fra næste spørgsmål.";
      await refreshList();
      await loadVersions();
    } catch (e) {
      showErrors(e.errors && Object.keys(e.errors).length ? e.errors : { version: e.message });
    }
  }

  async function refreshList() {
    const data = await api("/api/staff/articles");
    state.articles = data.articles;
    $("due-note").textContent = data.due.length + " artikler er ikke gennemset siden "
      + new Date(data.review_due_before).toLocaleDateString("da-DK") + " (" + data.review_months + " måneder).";
    renderList();
  }

  $("filter").addEventListener("input", renderList);
  $("only-due").addEventListener("change", renderList);
  $("body").addEventListener("input", countWords);
  $("new-article").addEventListener("click", () => startNew(""));
  $("preview-button").addEventListener("click", preview);
  $("form").addEventListener("submit", save);

  signIn().then(async () => {
    $("new-article").hidden = !canEdit();
    await refreshList();
    const params = new URLSearchParams(window.location.search);
    if (params.get("new") && canEdit()) {
      state.missedKey = params.get("missed");
      startNew(params.get("question") || "");
    } else if (params.get("id")) {
      await open(params.get("id"));
    }
  }).catch((e) => { $("editor-title").textContent = e.message; });
})();
