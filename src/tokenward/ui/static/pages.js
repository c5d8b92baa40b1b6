/* What each login page does; <body data-page="…"> says which page this is. */
"use strict";

(function () {
  const S = window.TokenwardSession;
  const F = window.TokenwardForms;
  const params = new URLSearchParams(location.search);
  const verification = document.querySelector('meta[name="tokenward-email-verification"]').content;
  const ACCOUNT = `${S.WEB}/account`;
  const EP = { rid: "emailpassword" };
  const EV = { rid: "emailverification" };
  const PL = { rid: "passwordless" };

  /* Where to go once signed in: the remembered path (if it is one of ours) or the account. */
  const target = S.safePath(params.get("redirectToPath"), ACCOUNT);
  const withRedirect = (path, to = target) =>
    to === ACCOUNT ? path : `${path}${path.includes("?") ? "&" : "?"}redirectToPath=${encodeURIComponent(to)}`;

  /* Email links name the tenant; its API paths have a tenant segment (public has none). */
  function tenantPrefix() {
    const tenant = params.get("tenantId");
    return tenant && tenant !== "public" && /^[a-z0-9][a-z0-9-]{0,63}$/.test(tenant) ? `/${tenant}` : "";
  }

  /* Read a one-time token from the address, then take it out of the address bar and history. */
  function takeToken() {
    const token = params.get("token");
    const kept = new URLSearchParams(params);
    kept.delete("token");
    const query = kept.toString();
    history.replaceState(null, "", location.pathname + (query ? `?${query}` : ""));
    return token;
  }

  async function json(response) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }

  async function signInOrUp(path, fields, isSignUp) {
    const response = await S.send(path, { method: "POST", body: { formFields: F.formFields(fields) }, ...EP });
    const body = await json(response);
    if (!response.ok || !body) return F.formError(F.problem(response, body), "email");
    if (body.status === "FIELD_ERROR") return F.fieldErrors(body.formFields);
    if (body.status === "WRONG_CREDENTIALS_ERROR") {
      return F.formError("Incorrect email and password combination.", "password");
    }
    if (body.status !== "OK") return F.formError(F.problem(response, body), "email");
    await signedIn(body.user, isSignUp, target);
  }

  /* Signed in (or up) as `user`: go to `to`, or first to "verify your email" if that is due. */
  async function signedIn(user, isSignUp, to) {
    const verified = user.loginMethods.some((m) => m.verified);
    if (verification === "OFF" || verified) return location.assign(to);
    if (isSignUp) await S.call("/user/email/verify/token", { method: "POST", ...EV });
    if (verification === "REQUIRED") return location.assign(withRedirect(`${S.WEB}/verify-email`, to));
    location.assign(to);
  }

  /*
   * Passwordless sign-in: a code (or link) sent by email or SMS. This tab's attempt (device id,
   * pre-auth session id, contact, where to go afterwards, when "Resend" opens) is kept in
   * sessionStorage, so a reload comes back to the code form. Where each attempt goes afterwards
   * is also kept in localStorage by pre-auth session id: the emailed link usually opens in
   * another tab, which finds it there (and knows that this browser asked for the link).
   */
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
  function targetOf(preAuthSessionId) {
    const entry = targets()[preAuthSessionId];
    return entry ? S.safePath(entry.path, ACCOUNT) : null;
  }

  function forgetAttempt(preAuthSessionId) {
    const all = targets();
    delete all[preAuthSessionId];
    write(localStorage, TARGETS, all);
    const attempt = read(sessionStorage, ATTEMPT);
    if (attempt && attempt.preAuthSessionId === preAuthSessionId) write(sessionStorage, ATTEMPT, null);
  }

  function signIn() {
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

    F.onSubmit(F.$("signin"), (v) =>
      signInOrUp("/signin", { email: v.email, password: v.password }, false),
    );
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
      const answer = await json(response);
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
      const body = await json(response);
      const status = body && body.status;
      if (response.ok && status === "OK") {
        forgetAttempt(attempt.preAuthSessionId);
        return signedIn(body.user, false, S.safePath(attempt.target, ACCOUNT));
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
        const body = await json(response);
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
  async function link() {
    const preAuthSessionId = params.get("preAuthSessionId") || "";
    const linkCode = location.hash.slice(1);
    // The link code never goes to a server in a URL; take it out of the address bar and history.
    history.replaceState(null, "", location.pathname + location.search);
    const started = targetOf(preAuthSessionId);
    const to = started || ACCOUNT;
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
      const body = await json(response);
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

  function signUp() {
    F.onSubmit(F.$("signup"), (v) =>
      signInOrUp("/signup", { email: v.email, password: v.password }, true),
    );
  }

  function forgot() {
    F.onSubmit(F.$("forgot"), async (v) => {
      const response = await S.send(`${tenantPrefix()}/user/password/reset/token`, {
        method: "POST",
        body: { formFields: F.formFields({ email: v.email }) },
        ...EP,
      });
      const body = await json(response);
      if (body && body.status === "FIELD_ERROR") return F.fieldErrors(body.formFields);
      if (!response.ok || !body || body.status !== "OK") return F.formError(F.problem(response, body), "email");
      F.status(`If an account exists for ${v.email}, we have sent it a link to reset the password.`);
    });
  }

  function reset() {
    const token = takeToken();
    const form = F.$("reset");
    F.onSubmit(form, async (v) => {
      if (v.password !== v.confirm) return F.fieldErrors([{ id: "confirm", error: "The passwords do not match" }]);
      const response = await S.send(`${tenantPrefix()}/user/password/reset`, {
        method: "POST",
        body: { method: "token", token, formFields: F.formFields({ password: v.password }) },
        ...EP,
      });
      const body = await json(response);
      if (body && body.status === "FIELD_ERROR") return F.fieldErrors(body.formFields);
      if (body && body.status === "RESET_PASSWORD_INVALID_TOKEN_ERROR") {
        return F.formError("This link has expired or was already used. Ask for a new one from the sign-in page.", "password");
      }
      if (!response.ok || !body || body.status !== "OK") return F.formError(F.problem(response, body), "password");
      form.hidden = true;
      F.status("Your password has been changed. You can now sign in with it.");
    });
  }

  async function verify() {
    const next = F.$("next");
    next.href = target;
    const inbox = () => {
      F.$("inbox").hidden = false;
    };
    F.$("resend").addEventListener("click", async () => {
      F.clear();
      const response = await S.call("/user/email/verify/token", { method: "POST", ...EV });
      const body = await json(response);
      if (body && body.status === "EMAIL_ALREADY_VERIFIED_ERROR") return location.assign(target);
      if (!response.ok || !body || body.status !== "OK") return F.formError(F.problem(response, body));
      F.status("We have sent the email again.");
    });
    F.$("continue").addEventListener("click", async () => {
      F.clear();
      const response = await S.call("/user/email/verify", EV);
      const body = await json(response);
      if (body && body.isVerified) return location.assign(target);
      F.formError("Your email address is not verified yet. Open the link in the email we sent.");
    });
    if (!params.has("token")) return inbox();

    const token = takeToken();
    F.$("verifying").hidden = false;
    const response = await S.send(`${tenantPrefix()}/user/email/verify`, {
      method: "POST",
      body: { method: "token", token },
      ...EV,
    });
    const body = await json(response);
    F.$("verifying").hidden = true;
    if (body && body.status === "OK") {
      // Bring the session's email-verified claim up to date, if this browser is signed in.
      if (S.info() !== null) await S.send("/user/email/verify", EV);
      next.textContent = "Continue";
      return F.status("Your email address is verified.");
    }
    if (body && body.status === "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR") {
      F.formError("This verification link has expired or was already used. Sign in to get a new one.");
    } else {
      F.formError(F.problem(response, body));
    }
    inbox();
  }

  async function account() {
    S.protect();
    const load = async () => {
      const response = await S.call("/ui/me");
      const body = await json(response);
      if (!response.ok || !body || body.status !== "OK") {
        F.formError(F.problem(response, body));
        return false;
      }
      const { user, session } = body;
      const verified = user.loginMethods.some((m) => m.verified);
      const expiry = S.info() && S.info().ate;
      const phones = user.phoneNumbers || [];
      F.$("user-email").textContent = user.emails.join(", ");
      F.$("user-verified").textContent = verified ? "Yes" : "No";
      F.$("user-phone").textContent = phones.join(", ");
      for (const row of document.querySelectorAll("[data-row=email]")) row.hidden = user.emails.length === 0;
      for (const row of document.querySelectorAll("[data-row=phone]")) row.hidden = phones.length === 0;
      F.$("user-id").textContent = user.id;
      F.$("session-handle").textContent = session.handle;
      F.$("session-expiry").textContent = expiry ? new Date(expiry).toLocaleTimeString() : "unknown";
      F.$("verify-hint").hidden = verified || verification === "OFF" || user.emails.length === 0;
      F.$("loading").hidden = true;
      F.$("details").hidden = false;
      return true;
    };
    F.$("reload").addEventListener("click", async () => {
      F.clear();
      if (await load()) F.status("Details updated.");
    });
    F.$("signout").addEventListener("click", async () => {
      await S.signOut();
      location.assign(S.WEB);
    });
    await load();
  }

  for (const link of document.querySelectorAll("a[data-keep-redirect]")) {
    link.href = withRedirect(link.getAttribute("href"));
  }
  const pages = { signin: signIn, signup: signUp, forgot, reset, verify, link, account };
  pages[document.body.dataset.page]();
})();
