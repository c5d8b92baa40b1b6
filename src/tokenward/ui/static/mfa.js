/*
 * Two-step verification on the login pages: the second factor after signing in (an
 * authenticator code, or a recovery code), setting up an authenticator app, and the account
 * page's part (devices, recovery codes). The session's `st-mfa` claim ({"c": {...}, "v": bool},
 * in the front-token) says whether the second factor is still due.
 */
"use strict";

window.TokenwardMfa = (function () {
  const S = window.TokenwardSession;
  const F = window.TokenwardForms;
  const MFA = { rid: "multifactorauth" };
  const TOTP = { rid: "totp" };
  const PAGE = `${S.WEB}/mfa`;
  const SETUP = `${S.WEB}/mfa/totp`;

  /* Whether this browser's session still owes its second factor. */
  function pending() {
    const session = S.info();
    const claim = session && session.up && session.up["st-mfa"];
    return Boolean(claim) && claim.v === false;
  }

  /* Where to go after signing in: the second factor first, when it is due. */
  function after(page, to) {
    return pending() ? page.withRedirect(PAGE, to) : to;
  }

  /* Where these pages send the user when done: never back to one of them. */
  function onward(page) {
    return page.target.startsWith(PAGE) ? page.account : page.target;
  }

  /* A 403 (or the configured status) naming st-mfa: the second factor must be completed first. */
  function refusedForMfa(body) {
    return Boolean(body && body.claimValidationErrors && body.claimValidationErrors.some((e) => e.id === "st-mfa"));
  }

  async function post(path, body, rid) {
    const response = await S.call(path, { method: "POST", body, ...rid });
    return { response, body: await S.json(response) };
  }

  /* The answer to a code (POST /totp/verify or /totp/device/verify): true when accepted. */
  function codeAccepted({ response, body }, fieldId) {
    if (body && body.status === "OK") return true;
    if (body && body.status === "INVALID_TOTP_ERROR") {
      const left = body.maxNumberOfFailedAttempts - body.currentNumberOfFailedAttempts;
      const tries = left === 1 ? "1 more try" : `${left} more tries`;
      F.fieldErrors([{ id: fieldId, error: `That code is not right. You have ${tries}.` }]);
    } else if (body && body.status === "LIMIT_REACHED_ERROR") {
      const minutes = Math.max(1, Math.ceil(body.retryAfterMs / 60000));
      F.formError(`Too many wrong codes. Please try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`, fieldId);
    } else if (body && body.status === "UNKNOWN_USER_ID_ERROR") {
      F.formError("No authenticator app is set up for this account.");
    } else {
      F.formError(F.problem(response, body), fieldId);
    }
    return false;
  }

  function showCodes(codes) {
    const list = F.$("recovery-codes");
    list.replaceChildren(
      ...codes.map((code) => {
        const item = document.createElement("li");
        item.textContent = code;
        return item;
      }),
    );
    list.hidden = false;
    F.$("codes-hint").hidden = false;
  }

  /* POST /mfa/recovery-codes; the codes, or null after showing why not (`retry` on a 403). */
  async function makeCodes(retry) {
    const answer = await post("/mfa/recovery-codes", {}, MFA);
    if (refusedForMfa(answer.body) && retry) {
      retry();
      return null;
    }
    if (!answer.body || answer.body.status !== "OK") {
      F.formError(F.problem(answer.response, answer.body));
      return null;
    }
    showCodes(answer.body.recoveryCodes);
    return answer.body.recoveryCodes;
  }

  /* The second factor, after the first: an authenticator code or a recovery code. */
  async function challenge(page) {
    S.protect();
    const to = onward(page);
    F.$("signout").addEventListener("click", async () => {
      await S.signOut();
      location.assign(S.WEB);
    });
    const response = await S.call("/mfa/info", { method: "PUT", ...MFA });
    const body = await S.json(response);
    F.$("loading").hidden = true;
    if (!response.ok || !body || body.status !== "OK") return F.formError(F.problem(response, body));
    if (!pending()) return location.replace(to);
    const { next, alreadySetup } = body.factors;
    if (!alreadySetup.includes("totp")) {
      // The app asks for an authenticator app and this user has none yet: set one up.
      if (next.includes("totp")) return location.replace(page.withRedirect(SETUP, to));
      return F.formError("This sign-in needs a second step that this page does not offer.");
    }
    const switchTo = (show, hide, focus) => {
      F.clear();
      F.$(hide).hidden = true;
      F.$(show).hidden = false;
      F.$(focus).focus();
    };
    F.$("by-totp").hidden = false;
    F.$("totp").focus();
    F.$("use-recovery").addEventListener("click", () => switchTo("by-recovery", "by-totp", "recovery"));
    F.$("use-totp").addEventListener("click", () => switchTo("by-totp", "by-recovery", "totp"));
    F.onSubmit(F.$("totp-form"), async (v) => {
      if (codeAccepted(await post("/totp/verify", { totp: v.totp.trim() }, TOTP), "totp")) location.assign(to);
    });
    F.onSubmit(F.$("recovery-form"), async (v) => {
      const answer = await post("/mfa/recovery-code/verify", { recoveryCode: v.recoveryCode.trim() }, MFA);
      if (answer.body && answer.body.status === "OK") return location.assign(to);
      if (answer.body && answer.body.status === "INVALID_RECOVERY_CODE_ERROR") {
        return F.fieldErrors([{ id: "recovery", error: "This recovery code is not valid, or it was used already." }]);
      }
      F.formError(F.problem(answer.response, answer.body), "recovery");
    });
  }

  /* An SVG answer as a data: URL (the pages' CSP allows images from here and data: only). */
  function dataUrl(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  /* Set up an authenticator app: a new device, its QR code and key, a first code, then the
     recovery codes. */
  async function setup(page) {
    S.protect();
    const to = onward(page);
    const created = await post("/totp/device", {}, TOTP);
    F.$("loading").hidden = true;
    if (refusedForMfa(created.body)) return location.replace(page.withRedirect(PAGE, to));
    if (!created.body || created.body.status !== "OK") return F.formError(F.problem(created.response, created.body));
    const { deviceName, secret, qrCodeString } = created.body;
    F.$("totp-secret").textContent = secret.match(/.{1,4}/g).join(" ");
    const qr = await S.call("/ui/totp/qr", { method: "POST", body: { uri: qrCodeString } });
    if (qr.ok) F.$("qr").src = await dataUrl(await qr.blob());
    else F.$("qr").alt = "The QR code could not be drawn: type the key into your app instead.";
    F.$("scan").hidden = false;
    F.$("totp").focus();

    F.onSubmit(F.$("device-form"), async (v) => {
      const answer = await post("/totp/device/verify", { deviceName, totp: v.totp.trim() }, TOTP);
      if (answer.body && answer.body.status === "UNKNOWN_DEVICE_ERROR") {
        return F.formError("This set-up is no longer valid. Please reload the page to start again.");
      }
      if (!codeAccepted(answer, "totp")) return;
      F.$("scan").hidden = true;
      F.$("recovery").hidden = false;
      F.status("Your authenticator app is set up.");
    });
    F.$("make-codes").addEventListener("click", (event) =>
      F.busy(event.currentTarget, async () => {
        F.clear();
        if ((await makeCodes(null)) === null) return;
        F.$("make-codes").hidden = true;
        F.$("done").className = "primary";
        F.$("recovery-codes").focus();
      }),
    );
    F.$("done").addEventListener("click", () => location.assign(to));
  }

  /* The account page's part: devices with remove buttons, recovery codes left, new codes. */
  function manage(page) {
    const settings = F.$("mfa-settings");
    const confirm = F.$("confirm-form");
    let retry = null;

    /* A 403 for st-mfa: ask for a code (POST /totp/verify), then run `action` again. */
    const askForCode = (action) => {
      retry = action;
      confirm.hidden = false;
      F.$("confirm-code").value = "";
      F.$("confirm-code").focus();
    };
    F.onSubmit(confirm, async (v) => {
      if (!codeAccepted(await post("/totp/verify", { totp: v.totp.trim() }, TOTP), "confirm-code")) return;
      confirm.hidden = true;
      const action = retry;
      retry = null;
      if (action) await action();
    });
    F.$("confirm-cancel").addEventListener("click", () => {
      F.clear(confirm);
      confirm.hidden = true;
      retry = null;
    });

    const remove = async (name) => {
      const answer = await post("/totp/device/remove", { deviceName: name }, TOTP);
      if (refusedForMfa(answer.body)) return askForCode(() => remove(name));
      if (!answer.body || answer.body.status !== "OK") return F.formError(F.problem(answer.response, answer.body));
      await load();
      F.status(`${name} was removed.`);
    };

    const deviceItem = (device) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = device.verified ? device.name : `${device.name} (not set up)`;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Remove";
      button.setAttribute("aria-label", `Remove ${device.name}`);
      button.addEventListener("click", () => F.busy(button, async () => {
        F.clear();
        await remove(device.name);
      }));
      item.append(name, button);
      return item;
    };

    async function load() {
      const response = await S.call("/totp/device/list", TOTP);
      const body = await S.json(response);
      if (!response.ok || !body || body.status !== "OK") return F.formError(F.problem(response, body));
      F.$("devices").replaceChildren(...body.devices.map(deviceItem));
      F.$("no-devices").hidden = body.devices.length > 0;
      F.$("add-totp").href = page.withRedirect(SETUP, page.account);
      const enrolled = body.devices.some((d) => d.verified);
      F.$("recovery-settings").hidden = !enrolled;
      settings.hidden = false;
      if (!enrolled) return;
      const counted = await S.call("/mfa/recovery-codes", MFA);
      const count = await S.json(counted);
      if (!counted.ok || !count || count.status !== "OK") return F.formError(F.problem(counted, count));
      const left = count.remaining;
      F.$("recovery-left").textContent = `${left} recovery code${left === 1 ? "" : "s"} left.`;
    }

    const renew = async () => {
      const codes = await makeCodes(() => askForCode(renew));
      if (codes === null) return;
      F.$("recovery-left").textContent = `${codes.length} recovery codes left.`;
      F.$("recovery-codes").focus();
    };
    F.$("new-codes").addEventListener("click", (event) =>
      F.busy(event.currentTarget, async () => {
        F.clear();
        await renew();
      }),
    );
    return load;
  }

  return { pending, after, refusedForMfa, challenge, setup, manage, PAGE };
})();
