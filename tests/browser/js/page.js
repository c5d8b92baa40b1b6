// The browser tests' page: the official supertokens-web-js, unmodified, initialised against the
// API whose origin and token transfer method come from the page's query string
// (?api=http://localhost:8000&mode=cookie|header). The test drives it through window.tw.
import SuperTokens from "supertokens-web-js";
import EmailPassword from "supertokens-web-js/recipe/emailpassword";
import Session from "supertokens-web-js/recipe/session";

const query = new URLSearchParams(window.location.search);
const apiDomain = query.get("api");
const events = [];

SuperTokens.init({
  appInfo: { appName: "tokenward browser tests", apiDomain, apiBasePath: "/auth" },
  recipeList: [
    Session.init({
      tokenTransferMethod: query.get("mode"),
      onHandleEvent: (event) => events.push(event.action),
    }),
    EmailPassword.init(),
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
  signOut: () => Session.signOut(),
  doesSessionExist: () => Session.doesSessionExist(),
  userId: () => Session.getUserId(),
  payload: () => Session.getAccessTokenPayloadSecurely(),
};
