// The browser tests' page: the official supertokens-web-js, unmodified, initialised against the
// API whose origin and token transfer method come from the page's query string
// (?api=http://localhost:8000&mode=cookie|header). The test drives it through window.tw.
// The page remembers both (localStorage, per browser profile), as an app has them built in:
// a magic link opens the page as {website}/auth/verify?preAuthSessionId=…#linkCode without them.
import SuperTokens from "supertokens-web-js";
import EmailPassword from "supertokens-web-js/recipe/emailpassword";
import MultiFactorAuth from "supertokens-web-js/recipe/multifactorauth";
import Passwordless from "supertokens-web-js/recipe/passwordless";
import Session from "supertokens-web-js/recipe/session";
import ThirdParty from "supertokens-web-js/recipe/thirdparty";
import Totp from "supertokens-web-js/recipe/totp";

const query = new URLSearchParams(window.location.search);
for (const name of ["api", "mode"]) {
  if (query.has(name)) localStorage.setItem(`tw-${name}`, query.get(name));
}
const apiDomain = localStorage.getItem("tw-api");
const events = [];

SuperTokens.init({
  appInfo: { appName: "tokenward browser tests", apiDomain, apiBasePath: "/auth" },
  recipeList: [
    Session.init({
      tokenTransferMethod: localStorage.getItem("tw-mode"),
      onHandleEvent: (event) => events.push(event.action),
    }),
    EmailPassword.init(),
    Passwordless.init(),
    ThirdParty.init(),
    MultiFactorAuth.init(),
    Totp.init(),
  ],
});

function formFields(email, password) {
  return [
    { id: "email", value: email },
    { id: "password", value: password },
  ];
}

function summary(answer) {
  return { status: answer.status, userId: answer.user ? answer.user.id : null };
}

// A passwordless answer without its fetchResponse (which does not cross into the test).
function passwordless(answer) {
  const { fetchResponse, ...rest } = answer;
  return rest;
}

// An SDK answer without its fetchResponse, plus the HTTP status the SDK got.
function withStatus(answer) {
  const { fetchResponse, ...rest } = answer;
  return { httpStatus: fetchResponse.status, ...rest };
}

// The SDK throws the fetch Response of an answer it does not expect (a 4xx or 5xx): the test
// gets its status and body instead of an opaque error.
async function caught(call) {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof Response)) throw error;
    const text = await error.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { thrown: error.status, body };
  }
}

// A protected route of the example app, through the fetch the SDK intercepts.
async function me() {
  const response = await fetch(`${apiDomain}/api/me`);
  return { status: response.status, body: await response.json() };
}

// The access token's expiry (ms) from the front token the SDK keeps in its sFrontToken cookie.
function accessTokenExpiry() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("sFrontToken="));
  if (!cookie) return null;
  const frontToken = JSON.parse(decodeURIComponent(escape(atob(cookie.slice(12)))));
  return frontToken.ate;
}

window.tw = {
  events,
  me,
  accessTokenExpiry,
  signUp: async (email, password) =>
    summary(await EmailPassword.signUp({ formFields: formFields(email, password) })),
  signIn: async (email, password) =>
    summary(await EmailPassword.signIn({ formFields: formFields(email, password) })),
  parallelMe: (count) => Promise.all(Array.from({ length: count }, me)),
  expired: () => Date.now() >= accessTokenExpiry(),
  // Passwordless: createCode keeps deviceId and preAuthSessionId in the SDK's login attempt
  // info (localStorage); resendCode and consumeCode(code) read them from there. consumeCode()
  // without a code reads preAuthSessionId and the link code from the page's URL (magic link).
  createCode: async (email) => passwordless(await Passwordless.createCode({ email })),
  resendCode: async () => passwordless(await Passwordless.resendCode()),
  consumeCode: async (userInputCode) =>
    passwordless(
      await (userInputCode === undefined
        ? Passwordless.consumeCode()
        : Passwordless.consumeCode({ userInputCode })),
    ),
  loginAttemptInfo: async () => (await Passwordless.getLoginAttemptInfo()) ?? null,
  clearLoginAttemptInfo: () => Passwordless.clearLoginAttemptInfo(),
  // Third party: the start keeps state (and the PKCE verifier) in the SDK's session storage and
  // gives the provider's URL; the finish, on the callback page, checks the state in the URL.
  thirdPartyStart: (thirdPartyId, frontendRedirectURI) =>
    ThirdParty.getAuthorisationURLWithQueryParamsAndSetState({ thirdPartyId, frontendRedirectURI }),
  thirdPartyFinish: async () => {
    const answer = await ThirdParty.signInAndUp();
    return {
      status: answer.status,
      userId: answer.user ? answer.user.id : null,
      createdNewRecipeUser: answer.createdNewRecipeUser ?? null,
    };
  },
  // Passwordless as a second factor: the code goes to the session user's own email and, once
  // consumed, completes otp-email in the same session (as auth-react's MFA screens call it).
  createSecondFactorCode: (email) =>
    caught(async () =>
      passwordless(await Passwordless.createCode({ email, shouldTryLinkingWithSessionUser: true })),
    ),
  consumeSecondFactorCode: (userInputCode) =>
    caught(async () =>
      passwordless(
        await Passwordless.consumeCode({ userInputCode, shouldTryLinkingWithSessionUser: true }),
      ),
    ),
  // TOTP (recipe/totp) and MFA (recipe/multifactorauth): the SDK's answers as the API gave them.
  totpCreateDevice: (deviceName) =>
    caught(async () => withStatus(await Totp.createDevice({ deviceName }))),
  totpVerifyDevice: (deviceName, totp) =>
    caught(async () => withStatus(await Totp.verifyDevice({ deviceName, totp }))),
  totpVerifyCode: (totp) => caught(async () => withStatus(await Totp.verifyCode({ totp }))),
  totpListDevices: () => caught(async () => withStatus(await Totp.listDevices())),
  totpRemoveDevice: (deviceName) =>
    caught(async () => withStatus(await Totp.removeDevice({ deviceName }))),
  mfaInfo: () =>
    caught(async () => withStatus(await MultiFactorAuth.resyncSessionAndFetchMFAInfo())),
  // The st-mfa claim as the SDK reads it from the access token payload (null: none).
  mfaClaim: async () =>
    (await Session.getClaimValue({ claim: MultiFactorAuth.MultiFactorAuthClaim })) ?? null,
  // The SDK's own check of the claim (the global validator the MFA recipe adds).
  mfaValidationErrors: () => Session.validateClaims(),
  signOut: () => Session.signOut(),
  doesSessionExist: () => Session.doesSessionExist(),
  userId: () => Session.getUserId(),
  payload: () => Session.getAccessTokenPayloadSecurely(),
};
