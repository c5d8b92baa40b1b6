/*
 * Form helpers for the login pages: read fields, show errors where screen readers announce them
 * (the form error is role=alert, field errors are tied to their input by aria-describedby and
 * aria-invalid), move focus to the first error, and keep a button busy while a call runs.
 */
"use strict";

window.TokenwardForms = (function () {
  const $ = (id) => document.getElementById(id);

  function values(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  /* The body of FDI form calls: {"formFields":[{"id":…,"value":…}]}. */
  function formFields(fields) {
    return Object.entries(fields).map(([id, value]) => ({ id, value }));
  }

  function clear(form) {
    hide("form-error");
    hide("form-status");
    if (!form) return;
    for (const input of form.querySelectorAll("input")) {
      input.removeAttribute("aria-invalid");
      hide(`${input.id}-error`);
    }
  }

  function hide(id) {
    const element = $(id);
    if (element) {
      element.hidden = true;
      element.textContent = "";
    }
  }

  function show(id, message) {
    const element = $(id);
    element.textContent = message;
    element.hidden = false;
    return element;
  }

  /* A message about the whole form, announced at once; focus goes to the first field. */
  function formError(message, focusId) {
    show("form-error", message);
    const target = focusId && $(focusId);
    if (target) target.focus();
  }

  /* A message that things went well (role=status, announced politely), focused for keyboards. */
  function status(message) {
    const element = show("form-status", message);
    element.tabIndex = -1;
    element.focus();
  }

  /* Errors for named fields, [{id, error}]; focus moves to the first one. */
  function fieldErrors(errors) {
    let first = null;
    for (const { id, error } of errors) {
      const input = $(id);
      if (!input) continue;
      input.setAttribute("aria-invalid", "true");
      show(`${id}-error`, error);
      first = first || input;
    }
    if (first) first.focus();
    return first !== null;
  }

  /* Check required fields in the browser first (same wording as the server). */
  function requireFilled(form) {
    const missing = [...form.querySelectorAll("input[required]")]
      .filter((input) => input.value.trim() === "")
      .map((input) => ({ id: input.id, error: "Field is not optional" }));
    return !fieldErrors(missing);
  }

  const OFFLINE = "Something went wrong. Please check your connection and try again.";

  /* Run `work`; a network failure becomes a form error. */
  async function guarded(work) {
    try {
      await work();
    } catch {
      formError(OFFLINE);
    }
  }

  /* Run `work` with `button` disabled meanwhile. */
  async function busy(button, work) {
    button.disabled = true;
    try {
      await guarded(work);
    } finally {
      button.disabled = false;
    }
  }

  /* Run `work` with the form's values and its button disabled. */
  function onSubmit(form, work) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear(form);
      if (!requireFilled(form)) return;
      await busy(form.querySelector("button[type=submit]"), () => work(values(form)));
    });
  }

  /* The message for a non-OK answer of the API (rate limit, server error, other statuses). */
  function problem(response, body) {
    if (response.status === 429) return "Too many attempts. Please wait a moment and try again.";
    if (body && body.status === "GENERAL_ERROR" && body.message) return body.message;
    if (body && body.reason) return body.reason;
    return "Something went wrong. Please try again.";
  }

  return {
    $, formFields, clear, formError, status, fieldErrors, guarded, busy, onSubmit, problem, show, OFFLINE,
  };
})();
