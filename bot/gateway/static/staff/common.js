// Shared by the console's Indsigt and Artikler pages: the signed-in staff member, the JSON API
// with the session's CSRF token, and safe element building (citizens' words only as text).
"use strict";

window.Staff = (function () {
  const state = { me: null, csrf: null };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function api(path, options = {}) {
    const headers = { Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = state.csrf;
    const response = await fetch(path, {
      method: options.method || "GET",
      credentials: "same-origin",
      headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    if (response.status === 401) {
      window.location.assign("/staff/login");
      throw new Error("Du er ikke logget ind.");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.detail || "Der skete en fejl. Prøv igen.");
      error.errors = data.errors || {};
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function signIn() {
    const me = await api("/api/staff/me");
    state.me = me.staff;
    state.csrf = me.csrf;
    const name = document.getElementById("me-name");
    if (name) name.textContent = me.staff.name + " (" + me.staff.role_label + ")";
    const logout = document.getElementById("logout");
    if (logout) {
      logout.addEventListener("click", async () => {
        try { await api("/api/staff/logout", { method: "POST", body: {} }); }
        finally { window.location.assign("/staff/login"); }
      });
    }
    return me.staff;
  }

  function canEdit() {
    return Boolean(state.me) && (state.me.role === "editor" || state.me.role === "admin");
  }

  function dateTime(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("da-DK", {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  return { el, api, signIn, canEdit, dateTime, state };
})();
