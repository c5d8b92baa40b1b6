/* What each login page does; <body data-page="…"> says which page this is. */
"use strict";

(function () {
  const S = window.TokenwardSession;
  const F = window.TokenwardForms;
  const P = window.TokenwardPasswordless;
  const T = window.TokenwardThirdParty;
  const M = window.TokenwardMfa;
  const params = new URLSearchParams(location.search);
  const verification = document.querySelector('meta[name="tokenward-email-verification"]').content;
  const ACCOUNT = `${S.WEB}/account`;
  const EP = { rid: "emailpassword" };
  const EV = { rid: "emailverification" };

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

  async function signInOrUp(path, fields, isSignUp) {
    const response = await S.send(path, { method: "POST", body: { formFields: F.formFields(fields) }, ...EP });
    const body = await S.json(response);
    if (!response.ok || !body) return F.formError(F.problem(response, body), "email");
    if (body.status === "FIELD_ERROR") return F.fieldErrors(body.formFields);
    if (body.status === "WRONG_CREDENTIALS_ERROR") {
      return F.formError("Incorrect email and password combination.", "password");
    }
    if (body.status !== "OK") return F.formError(F.problem(response, body), "email");
    await signedIn(body.user, isSignUp, target);
  }

  /* Signed in (or up) as `user`: go to `to`, or first to "verify your email" if that is due,
     then to the second factor if that is due. */
  async function signedIn(user, isSignUp, to) {
    const verified = user.loginMethods.some((m) => m.verified);
    if (verification === "OFF" || verified) return location.assign(M.after(page, to));
    if (isSignUp) await S.call("/user/email/verify/token", { method: "POST", ...EV });
    if (verification === "REQUIRED") return location.assign(withRedirect(`${S.WEB}/verify-email`, to));
    location.assign(M.after(page, to));
  }

  /* Sign in with a password; passwordless.js and thirdparty.js add the other ways. */
  function signIn() {
    F.onSubmit(F.$("signin"), (v) =>
      signInOrUp("/signin", { email: v.email, password: v.password }, false),
    );
    P.offer(page);
    T.offer(page);
  }

  function signUp() {
    F.onSubmit(F.$("signup"), (v) =>
      signInOrUp("/signup", { email: v.email, password: v.password }, true),
    );
    T.offer(page);
  }

  function forgot() {
    F.onSubmit(F.$("forgot"), async (v) => {
      const response = await S.send(`${tenantPrefix()}/user/password/reset/token`, {
        method: "POST",
        body: { formFields: F.formFields({ email: v.email }) },
        ...EP,
      });
      const body = await S.json(response);
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
      const body = await S.json(response);
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
    const onward = () => M.after(page, target);
    next.href = onward();
    const inbox = () => {
      F.$("inbox").hidden = false;
    };
    F.$("resend").addEventListener("click", async () => {
      F.clear();
      const response = await S.call("/user/email/verify/token", { method: "POST", ...EV });
      const body = await S.json(response);
      if (body && body.status === "EMAIL_ALREADY_VERIFIED_ERROR") return location.assign(onward());
      if (!response.ok || !body || body.status !== "OK") return F.formError(F.problem(response, body));
      F.status("We have sent the email again.");
    });
    F.$("continue").addEventListener("click", async () => {
      F.clear();
      const response = await S.call("/user/email/verify", EV);
      const body = await S.json(response);
      if (body && body.isVerified) return location.assign(onward());
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
    const body = await S.json(response);
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
    const toMfa = () => location.replace(withRedirect(M.PAGE, ACCOUNT));
    if (M.pending()) return toMfa();
    const loadMfa = M.manage(page);
    const load = async () => {
      const response = await S.call("/ui/me");
      const body = await S.json(response);
      if (M.refusedForMfa(body)) return toMfa();
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
      await loadMfa();
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
  /* What passwordless.js and thirdparty.js need to know about this page. */
  const page = { params, target, account: ACCOUNT, withRedirect, tenantPrefix, signedIn };
  const pages = {
    signin: signIn,
    signup: signUp,
    forgot,
    reset,
    verify,
    link: () => P.link(page),
    account,
    callback: () => T.callback(page),
    mfa: () => M.challenge(page),
    totp: () => M.setup(page),
  };
  pages[document.body.dataset.page]();
})();
