// Sign-in for the staff console. The CSRF token comes from /api/staff/csrf, which also sets
// it as an HttpOnly cookie; the server compares the two (double submit).
"use strict";

(function () {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const button = form.querySelector("button[type=submit]");
  let csrf = null;

  function showError(text) {
    error.textContent = text;
    error.hidden = false;
  }

  async function fetchToken() {
    const response = await fetch("/api/staff/csrf", { credentials: "same-origin" });
    csrf = (await response.json()).csrf;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const username = document.getElementById("username").value.trim();
    const password = document.getElementById("password").value;
    if (!username || !password) {
      showError("Skriv brugernavn og adgangskode.");
      (username ? document.getElementById("password") : document.getElementById("username")).focus();
      return;
    }
    button.disabled = true;
    try {
      if (!csrf) await fetchToken();
      const response = await fetch("/api/staff/login", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ username, password }),
      });
      if (response.ok) {
        window.location.assign("/staff");
        return;
      }
      const data = await response.json().catch(() => ({}));
      showError(data.detail || "Log ind mislykkedes. Prøv igen.");
      if (response.status === 403) await fetchToken();
      document.getElementById("password").select();
    } catch (e) {
      showError("Forbindelsen til serveren blev afbrudt. Prøv igen.");
    } finally {
      button.disabled = false;
    }
  });

  fetchToken().catch(() => showError("Serveren svarer ikke. Prøv igen om lidt."));
  document.getElementById("username").focus();
})();
