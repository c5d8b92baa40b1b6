/*
 * tokenward's session helper: the client side of SuperTokens' session protocol, cookie mode.
 *
 * - Every call sends `rid` (the anti-CSRF proof in VIA_CUSTOM_HEADER mode), `fdi-version`,
 *   `st-auth-mode: cookie`, and the `anti-csrf` token when the server gave one (VIA_TOKEN).
 * - The `front-token` response header tells when the access token expires; it is kept in
 *   localStorage, shared by every tab of this origin.
 * - A response with the session-expired status (401) triggers one refresh, then a retry. The
 *   refresh runs under a Web Lock, so tabs take turns: a tab that gets the lock after another
 *   tab renewed (the front-token changed meanwhile) just retries. A BroadcastChannel tells the
 *   other tabs about renewals and sign-outs.
 * - On signed-in pages a timer renews the session shortly before the access token expires.
 * - When the refresh fails, the session is over: the browser goes to the sign-in page, which
 *   brings the user back to the current path afterwards ("re-authentication").
 */
"use strict";

window.TokenwardSession = (function () {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const API = meta("tokenward-api");
  const WEB = meta("tokenward-web");
  const EXPIRED_STATUS = Number(meta("tokenward-session-expired-status"));
  const FDI_VERSIONS = "3.1,4.0,4.1,4.2";
  const FRONT_TOKEN = "tokenward.front-token";
  const ANTI_CSRF = "tokenward.anti-csrf";
  const REFRESH_LOCK = "tokenward-refresh";
  const MAX_REFRESHES = 3; // per call; more means the server keeps refusing the new token
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("tokenward-session") : null;
  let renewalTimer = null;
  let protectedPage = false;

  /* front-token: base64 of UTF-8 JSON {uid, ate (expiry, ms), up (the token payload)}. */
  function frontToken() {
    return localStorage.getItem(FRONT_TOKEN);
  }

  function decode(value) {
    const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function info() {
    const value = frontToken();
    if (value === null) return null;
    try {
      return decode(value);
    } catch {
      return null;
    }
  }

  /* Keep what the server said about the session: a new front-token, `remove`, anti-csrf. */
  function remember(response) {
    const front = response.headers.get("front-token");
    const antiCsrf = response.headers.get("anti-csrf");
    if (antiCsrf) localStorage.setItem(ANTI_CSRF, antiCsrf);
    if (front === "remove") {
      forget();
    } else if (front) {
      localStorage.setItem(FRONT_TOKEN, front);
      if (channel) channel.postMessage("renewed");
      scheduleRenewal();
    }
  }

  function forget() {
    localStorage.removeItem(FRONT_TOKEN);
    localStorage.removeItem(ANTI_CSRF);
    clearTimeout(renewalTimer);
  }

  /* One HTTP call to the frontend API, with the protocol's headers. */
  async function send(path, { method = "GET", body, rid = "session" } = {}) {
    const headers = { rid, "fdi-version": FDI_VERSIONS, "st-auth-mode": "cookie" };
    const antiCsrf = localStorage.getItem(ANTI_CSRF);
    if (antiCsrf) headers["anti-csrf"] = antiCsrf;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    remember(response);
    return response;
  }

  /* The JSON body of an answer, or null when it has none (an empty or non-JSON body). */
  async function json(response) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }

  /*
   * Renew the session once for every tab. `seen` is the front-token the caller had when its
   * request went out: if it has changed by the time we hold the lock, another tab (or call)
   * already renewed. Resolves to whether a usable session exists now.
   */
  async function refresh(seen) {
    const attempt = async () => {
      const now = frontToken();
      if (now !== null && now !== seen) return true;
      const response = await send("/session/refresh", { method: "POST" });
      if (!response.ok) forget();
      return response.ok;
    };
    return navigator.locks ? navigator.locks.request(REFRESH_LOCK, attempt) : attempt();
  }

  /* A call that needs the session: refresh and retry on the session-expired status. */
  async function call(path, options = {}) {
    for (let refreshes = 0; ; refreshes++) {
      const seen = frontToken();
      const response = await send(path, options);
      if (response.status !== EXPIRED_STATUS || refreshes === MAX_REFRESHES) return response;
      if (!(await refresh(seen))) return reauthenticate();
    }
  }

  /* The session is over: sign in again, then come back here. Never resolves. */
  function reauthenticate() {
    forget();
    const here = location.pathname + location.search + location.hash;
    location.assign(`${WEB}?redirectToPath=${encodeURIComponent(here)}`);
    return new Promise(() => {});
  }

  /* Renew a little before the access token expires (a fifth of its lifetime, at most 1 min). */
  function scheduleRenewal() {
    clearTimeout(renewalTimer);
    const session = info();
    if (!protectedPage || session === null) return;
    const lifetime = session.ate - session.up.iat * 1000;
    const margin = Math.min(60000, Math.max(500, lifetime / 5));
    const delay = Math.max(0, session.ate - margin - Date.now());
    const seen = frontToken();
    renewalTimer = setTimeout(async () => {
      if (!(await refresh(seen))) reauthenticate();
    }, delay);
  }

  /* Called by pages that need a session: keep it alive, and follow other tabs' sign-outs. */
  function protect() {
    protectedPage = true;
    scheduleRenewal();
  }

  if (channel) {
    channel.onmessage = (event) => {
      if (event.data === "renewed") scheduleRenewal();
      if (event.data === "signed-out" && protectedPage) reauthenticate();
    };
  }

  async function signOut() {
    try {
      await send("/signout", { method: "POST" });
    } finally {
      forget();
      if (channel) channel.postMessage("signed-out");
    }
  }

  /*
   * Where to go after signing in: `redirectToPath` if it is a path on this site, else `fallback`.
   * Only a single leading `/` is accepted: `//host`, `/\host`, schemes and control characters are
   * refused, and the result must resolve to this origin.
   */
  function safePath(value, fallback) {
    if (typeof value !== "string" || !/^\/(?![/\\])/.test(value)) return fallback;
    if (/[\\\u0000-\u001f\u007f]/.test(value)) return fallback;
    const url = new URL(value, location.origin);
    if (url.origin !== location.origin) return fallback;
    return url.pathname + url.search + url.hash;
  }

  return { send, call, json, info, protect, signOut, safePath, reauthenticate, API, WEB };
})();
