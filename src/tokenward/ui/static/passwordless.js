/*
 * Passwordless sign-in: a code (or link) sent by email or SMS. This tab's attempt (device id,
 * pre-auth session id, contact, where to go afterwards, when "Resend" opens) is kept in
 * sessionStorage, so a reload comes back to the code form. Where each attempt goes afterwards
 * is also kept in localStorage by pre-auth session id: the emailed link usually opens in
 * another tab, which finds it there (and knows that this browser asked for the link).
 *
 * pages.js calls `offer(page)` on the sign-in page and `link(page)` on the magic link's page;
 * `page` is what it knows about the page: {params, target, account, withRedirect, tenantPrefix,
 * signedIn}.
 */
"use strict";

window.TokenwardPasswordless = (function () {
  const S = window.TokenwardSession;
  const F = window.TokenwardForms;
  const PL = { rid: "passwordless" };
  const ATTEMPT = "tokenward.passwordless.attempt";
  const TARGETS = "tokenward.passwordless.targets";
  const RESEND_AFTER_MS = 30 * 1000;
  const TARGET_KEPT_MS = 24 * 60 * 60 * 1000; // the longest code lifetime
  const NO_ATTEMPT = { kind: "email", contact: "" }; // when storage lost the attempt

  function read(storage, key) {
    try {
      return JSON.parse(storage.getItem(key));
    } catch {
      return null;
    }
  }

  function write(storage, key, value) {
    try {
      if (value === null) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage refused (private mode, quota): the flow still works until a reload.
    }
  }

  function targets() {
    const all = read(localStorage, TARGETS);
    const now = Date.now();
    const kept = Object.create(null);
    if (all && typeof all === "object") {
      for (const [id, entry] of Object.entries(all)) {
        if (entry && now - entry.at < TARGET_KEPT_MS) kept[id] = entry;
      }
    }
    return kept;
  }

  function rememberTarget(preAuthSessionId, path) {
    const all = targets();
    all[preAuthSessionId] = { path, at: Date.now() };
    write(localStorage, TARGETS, all);
  }

  /* Where the attempt goes afterwards, or null when this browser did not start it. */
  function targetOf(preAuthSessionId, fallback) {
    const entry = targets()[preAuthSessionId];
    return entry ? S.safePath(entry.path, fallback) : null;
  }

  function forgetAttempt(preAuthSessionId) {
    const all = targets();
    delete all[preAuthSessionId];
    write(localStorage, TARGETS, all);
    const attempt = read(sessionStorage, ATTEMPT);
    if (attempt && attempt.preAuthSessionId === preAuthSessionId) write(sessionStorage, ATTEMPT, null);
  }

  /*
   * The sign-in page's views (the email form, the phone form, the code step), its "other ways"
   * to sign in, and the code step itself; a pending attempt of this tab opens at the code step.
   */
  function offer({ params, target, account, signedIn }) {
    const other = F.$("other-ways");
    const byEmail = other.dataset.email === "true";
    const byPhone = other.dataset.phone === "true";
    const what = other.dataset.flow === "MAGIC_LINK" ? "link" : "code";
    const views = { email: ["welcome", "by-email"], phone: ["welcome", "by-phone"], code: ["code-sent", "code-step"] };
    const title = F.$("title");
    const signInTitle = title.textContent;
    let countdown = null;

    function show(view) {
      const shown = views[view];
      for (const id of Object.values(views).flat()) F.$(id).hidden = !shown.includes(id);
      F.$("reauth").hidden = view === "code" || !params.has("redirectToPath");
      title.textContent = signInTitle;
    }

    if (byEmail || byPhone) other.hidden = false;
    if (byEmail) {
      const button = F.$("email-code");
      button.textContent = `Email me a sign-in ${what}`;
      button.hidden = false;
      button.addEventListener("click", async () => {
        const form = F.$("signin");
        F.clear(form);
        const email = F.$("email").value.trim();
        if (!email) return F.fieldErrors([{ id: "email", error: "Field is not optional" }]);
        await F.busy(button, () => sendCode({ email }, email, "email"));
      });
    }
    if (byPhone) {
      F.$("phone-code").textContent = `Text me a sign-in ${what}`;
      F.$("use-phone").hidden = false;
      F.$("use-phone").addEventListener("click", () => {
        F.clear(F.$("signin"));
        show("phone");
        F.$("phone").focus();
      });
      F.$("use-email").addEventListener("click", () => {
        F.clear(F.$("phone-signin"));
        show("email");
        F.$("email").focus();
      });
      F.onSubmit(F.$("phone-signin"), (v) => {
        const phone = v.phoneNumber.trim();
        return sendCode({ phoneNumber: phone }, phone, "phone");
      });
    }

    async function sendCode(body, contact, kind) {
      const field = kind === "phone" ? "phone" : "email";
      const response = await S.send("/signinup/code", { method: "POST", body, ...PL });
      const answer = await S.json(response);
      if (!response.ok || !answer || answer.status !== "OK") {
        return F.formError(F.problem(response, answer), field);
      }
      const attempt = {
        deviceId: answer.deviceId,
        preAuthSessionId: answer.preAuthSessionId,
        flowType: answer.flowType,
        contact,
        kind,
        target,
        resendAt: Date.now() + RESEND_AFTER_MS,
      };
      write(sessionStorage, ATTEMPT, attempt);
      rememberTarget(attempt.preAuthSessionId, target);
      codeStep(attempt);
    }

    function codeStep(attempt) {
      const typed = attempt.flowType !== "MAGIC_LINK";
      const word = typed ? "code" : "link";
      F.$("code-what").textContent = attempt.flowType === "MAGIC_LINK" ? "a sign-in link" : "a code";
      F.$("code-contact").textContent = attempt.contact;
      F.$("code-form").hidden = !typed;
      F.$("link-hint").hidden = attempt.flowType !== "USER_INPUT_CODE_AND_MAGIC_LINK";
      F.$("restart").textContent = attempt.kind === "phone" ? "Use another number" : "Use another email";
      F.$("resend").dataset.word = word;
      show("code");
      title.textContent = attempt.kind === "phone" ? "Check your phone" : "Check your email";
      startCountdown();
      if (typed) F.$("code").focus();
      else F.$("code-sent").focus();
    }

    /* "Resend" opens RESEND_AFTER_MS after the last code was sent; until then it counts down. */
    function startCountdown() {
      clearInterval(countdown);
      const button = F.$("resend");
      const tick = () => {
        const attempt = read(sessionStorage, ATTEMPT);
        const left = attempt ? Math.ceil((attempt.resendAt - Date.now()) / 1000) : 0;
        button.disabled = left > 0;
        button.textContent = left > 0 ? `Resend ${button.dataset.word} in ${left} s` : `Resend ${button.dataset.word}`;
        if (left <= 0) clearInterval(countdown);
      };
      tick();
      countdown = setInterval(tick, 1000);
    }

    /* Drop the attempt and go back to the form it started from; returns that form's field. */
    function backToForm(attempt) {
      clearInterval(countdown);
      forgetAttempt(attempt.preAuthSessionId);
      F.clear(F.$("code-form"));
      F.$("code").value = "";
      const field = attempt.kind === "phone" ? "phone" : "email";
      show(field);
      return field;
    }

    function startAgain(attempt, message) {
      const field = backToForm(attempt);
      F.$(field).value = attempt.contact;
      F.formError(message, field);
    }

    F.onSubmit(F.$("code-form"), async (v) => {
      const attempt = read(sessionStorage, ATTEMPT);
      if (!attempt) return startAgain(NO_ATTEMPT, "Please start again.");
      const code = v.code.replace(/\s+/g, "");
      if (!/^\d{6}$/.test(code)) {
        return F.fieldErrors([{ id: "code", error: "Enter the 6-digit code from the message" }]);
      }
      const response = await S.send("/signinup/code/consume", {
        method: "POST",
        body: { preAuthSessionId: attempt.preAuthSessionId, deviceId: attempt.deviceId, userInputCode: code },
        ...PL,
      });
      const body = await S.json(response);
      const status = body && body.status;
      if (response.ok && status === "OK") {
        forgetAttempt(attempt.preAuthSessionId);
        return signedIn(body.user, false, S.safePath(attempt.target, account));
      }
      if (status === "INCORRECT_USER_INPUT_CODE_ERROR") {
        const left = body.maximumCodeInputAttempts - body.failedCodeInputAttemptCount;
        F.formError(`Wrong code. ${left} ${left === 1 ? "attempt" : "attempts"} left.`, "code");
        return F.$("code").select();
      }
      if (status === "EXPIRED_USER_INPUT_CODE_ERROR") {
        const resend = F.$("resend");
        return F.formError("This code has expired. Resend a new one.", resend.disabled ? "code" : "resend");
      }
      if (status === "RESTART_FLOW_ERROR") {
        return startAgain(attempt, "This code can no longer be used. Please start again.");
      }
      F.formError(F.problem(response, body), "code");
    });

    F.$("resend").addEventListener("click", async () => {
      const attempt = read(sessionStorage, ATTEMPT);
      if (!attempt) return startAgain(NO_ATTEMPT, "Please start again.");
      F.clear(F.$("code-form"));
      const button = F.$("resend");
      button.disabled = true;
      await F.guarded(async () => {
        const response = await S.send("/signinup/code/resend", {
          method: "POST",
          body: { deviceId: attempt.deviceId, preAuthSessionId: attempt.preAuthSessionId },
          ...PL,
        });
        const body = await S.json(response);
        const status = body && body.status;
        if (status === "RESTART_FLOW_ERROR") {
          return startAgain(attempt, "This sign-in attempt has ended. Please start again.");
        }
        if (!response.ok || status !== "OK") return F.formError(F.problem(response, body));
        write(sessionStorage, ATTEMPT, { ...attempt, resendAt: Date.now() + RESEND_AFTER_MS });
        const word = button.dataset.word;
        F.show("form-status", `We sent a new ${word} to ${attempt.contact}.`);
        if (word === "code") F.$("code").focus();
      });
      if (read(sessionStorage, ATTEMPT)) startCountdown();
    });

    F.$("restart").addEventListener("click", () => {
      F.$(backToForm(read(sessionStorage, ATTEMPT) || NO_ATTEMPT)).focus();
    });

    const pending = read(sessionStorage, ATTEMPT);
    if (pending && pending.deviceId && pending.preAuthSessionId) codeStep(pending);
    else show("email");
  }

  /* The magic link's page: {web}/verify?preAuthSessionId=…&tenantId=…#<linkCode>. */
  async function link({ params, account, withRedirect, tenantPrefix, signedIn }) {
    const preAuthSessionId = params.get("preAuthSessionId") || "";
    const linkCode = location.hash.slice(1);
    // The link code never goes to a server in a URL; take it out of the address bar and history.
    history.replaceState(null, "", location.pathname + location.search);
    const started = targetOf(preAuthSessionId, account);
    const to = started || account;
    F.$("back-link").href = withRedirect(S.WEB, to);
    const fail = (message) => {
      F.$("signing-in").hidden = true;
      F.$("confirm").hidden = true;
      F.$("back").hidden = false;
      F.formError(message, "back-link");
    };
    if (!preAuthSessionId || !linkCode) {
      return fail("This sign-in link is incomplete. Copy the whole link from the message, or start again.");
    }
    const consume = async () => {
      F.$("confirm").hidden = true;
      F.$("signing-in").hidden = false;
      let response;
      try {
        response = await S.send(`${tenantPrefix()}/signinup/code/consume`, {
          method: "POST",
          body: { preAuthSessionId, linkCode },
          ...PL,
        });
      } catch {
        return fail(F.OFFLINE);
      }
      const body = await S.json(response);
      if (response.ok && body && body.status === "OK") {
        forgetAttempt(preAuthSessionId);
        return signedIn(body.user, false, to);
      }
      if (body && body.status === "RESTART_FLOW_ERROR") {
        return fail("This sign-in link has expired or was already used. Please start again.");
      }
      fail(F.problem(response, body));
    };
    // A link that another browser asked for (or a mail scanner opening links) signs in only
    // after a click, as SuperTokens' prebuilt UI does.
    if (started) return consume();
    F.$("confirm").hidden = false;
    const button = F.$("continue");
    button.addEventListener("click", () => F.busy(button, consume));
    button.focus();
  }

  return { offer, link };
})();
