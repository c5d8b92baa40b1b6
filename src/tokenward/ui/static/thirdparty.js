/*
 * Sign-in with a social provider ("Continue with …"), SuperTokens' third-party protocol as
 * supertokens-web-js speaks it: the page asks the API for the provider's URL (with PKCE when the
 * client has no secret), makes the `state` itself, keeps the attempt in this tab's
 * sessionStorage for ten minutes, and sends the browser to the provider. The provider sends it
 * back to {web}/callback/<provider id>?code=…&state=…; that page checks the state (the API never
 * sees it), then POSTs /signinup with the code and the PKCE verifier.
 *
 * pages.js calls `offer(page)` on the sign-in and sign-up pages and `callback(page)` on the
 * callback page; `page` is what it knows about the page: {target, account, withRedirect,
 * signedIn}.
 */
"use strict";

window.TokenwardThirdParty = (function () {
  const S = window.TokenwardSession;
  const F = window.TokenwardForms;
  const TP = { rid: "thirdparty" };
  const ATTEMPT = "tokenward.thirdparty.attempt";
  const ATTEMPT_LIFETIME_MS = 10 * 60 * 1000;
  const BAD_STATE =
    "This sign-in could not be finished: it was not started in this browser tab, or it took longer " +
    "than 10 minutes. Please start again.";

  function read() {
    try {
      return JSON.parse(sessionStorage.getItem(ATTEMPT));
    } catch {
      return null;
    }
  }

  /* The attempt, or null to forget it. */
  function write(attempt) {
    try {
      if (attempt === null) sessionStorage.removeItem(ATTEMPT);
      else sessionStorage.setItem(ATTEMPT, JSON.stringify(attempt));
      return true;
    } catch {
      return false; // storage refused (private mode, quota): the state could not be checked
    }
  }

  /* SuperTokens' state: base64 of JSON {state: <random>, frontendRedirectURI}, 256 random
     bits; the page to come back to is read by the API's Apple callback (form_post). */
  function newState(page) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const base64 = btoa(String.fromCharCode(...bytes));
    const random = base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    return btoa(JSON.stringify({ state: random, frontendRedirectURI: page }));
  }

  const callbackPage = (id) => `${location.origin}${S.WEB}/callback/${encodeURIComponent(id)}`;
  /* Apple posts its answer (form_post): to the API, which sends the browser on to the page. */
  const isApple = (id) => id === "apple" || id.startsWith("apple-");
  const callbackURI = (id) =>
    isApple(id) ? `${location.origin}${S.API}/callback/apple` : callbackPage(id);

  /* The buttons the server put on the page, one per configured provider. */
  function offer({ target }) {
    for (const button of document.querySelectorAll("button[data-provider]")) {
      button.addEventListener("click", () => {
        F.clear();
        return F.busy(button, () => start(button.dataset.provider, button.dataset.name, target));
      });
    }
  }

  async function start(id, name, target) {
    const redirectURI = callbackURI(id);
    const query = new URLSearchParams({ thirdPartyId: id, redirectURIOnProviderDashboard: redirectURI });
    const response = await S.send(`/authorisationurl?${query}`, TP);
    const body = await S.json(response);
    if (!response.ok || !body || body.status !== "OK") return F.formError(F.problem(response, body));
    const state = newState(callbackPage(id));
    const kept = write({
      stateForAuthProvider: state,
      thirdPartyId: id,
      name,
      redirectURIOnProviderDashboard: redirectURI,
      pkceCodeVerifier: body.pkceCodeVerifier,
      target,
      expiresAt: Date.now() + ATTEMPT_LIFETIME_MS,
    });
    if (!kept) {
      return F.formError("This browser did not let the page keep the sign-in attempt. Allow site data and try again.");
    }
    const url = new URL(body.urlWithQueryParams);
    url.searchParams.set("state", state);
    location.assign(url.toString());
  }

  /* What went wrong, in words, for the provider's `error=` code (RFC 6749 §4.1.2.1). */
  function providerError(name, error) {
    if (error === "access_denied") {
      return `Signing in with ${name} was cancelled or refused. You can try again, or sign in another way.`;
    }
    const code = /^[a-z_]{1,64}$/.test(error) ? ` (${error})` : "";
    return `${name} could not sign you in${code}. Please try again, or sign in another way.`;
  }

  /* The callback page: {web}/callback/<provider id>?code=…&state=… (or ?error=…&state=…). */
  async function callback({ account, withRedirect, signedIn }) {
    const params = new URLSearchParams(location.search);
    const id = decodeURIComponent(location.pathname.slice(`${S.WEB}/callback/`.length));
    // The code is single-use and short-lived; still, keep it out of the address bar and history.
    history.replaceState(null, "", location.pathname);
    const attempt = read();
    write(null); // one use: a reload or the back button does not try the code again
    const to = attempt ? S.safePath(attempt.target, account) : account;
    const name = (attempt && attempt.name) || "The provider";
    F.$("back-link").href = withRedirect(S.WEB, to);
    const fail = (message) => {
      F.$("title").textContent = "Could not sign you in";
      F.$("signing-in").hidden = true;
      F.$("back").hidden = false;
      F.formError(message, "back-link");
    };

    const state = params.get("state");
    const valid =
      attempt &&
      attempt.thirdPartyId === id &&
      typeof attempt.expiresAt === "number" &&
      Date.now() < attempt.expiresAt &&
      state !== null &&
      state === attempt.stateForAuthProvider;
    if (!valid) return fail(BAD_STATE);
    if (params.has("error") || !params.get("code")) {
      return fail(providerError(name, params.get("error") || ""));
    }

    let response;
    try {
      response = await S.send("/signinup", {
        method: "POST",
        body: {
          thirdPartyId: id,
          redirectURIInfo: {
            redirectURIOnProviderDashboard: attempt.redirectURIOnProviderDashboard,
            redirectURIQueryParams: Object.fromEntries(params),
            pkceCodeVerifier: attempt.pkceCodeVerifier,
          },
        },
        ...TP,
      });
    } catch {
      return fail(F.OFFLINE);
    }
    const body = await S.json(response);
    const status = body && body.status;
    if (response.ok && status === "OK") return signedIn(body.user, body.createdNewRecipeUser, to);
    if (status === "NO_EMAIL_GIVEN_BY_PROVIDER") {
      return fail(
        `${name} did not share your email address, which this site needs. ` +
          `Allow ${name} to share it and try again, or sign in another way.`,
      );
    }
    if (status === "SIGN_IN_UP_NOT_ALLOWED") {
      return fail(body.reason || `You cannot sign in with ${name} here. Please sign in another way.`);
    }
    fail(F.problem(response, body));
  }

  return { offer, callback };
})();
