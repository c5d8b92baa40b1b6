// A real OpenID provider for the tests: panva's certified oidc-provider (pinned by
// package-lock.json), on http://127.0.0.1:<port>, with its development interactions (a login
// form where any login is accepted and becomes the `sub`, then a consent form).
//
// Configured by a JSON file named by $OIDC_PROVIDER_CONFIG (tests/support/oidc_provider.py
// writes it):
//   {
//     "port": 0,                      // or $PORT; 0 picks a free port
//     "clients": [{"client_id": "...", "client_secret": "..." (omit: public client, PKCE
//                  required), "redirect_uris": ["..."], "token_endpoint_auth_method": "...",
//                  "id_token_signed_response_alg": "RS256", ...any other client metadata}],
//     "accounts": {"alice": {"email": "alice@example.com", "email_verified": true,
//                            "name": "Alice"}},
//     "jwks": {"keys": [...private JWKs...]},   // optional: else an RS256 and an ES256 key
//     "claims_in_id_token": true      // optional: false keeps the ID token to the minimum
//   }                                 // (claims then only at the userinfo endpoint)
// Prints one line "listening <issuer>" once it accepts connections.
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const configPath = process.env.OIDC_PROVIDER_CONFIG || process.argv[2];
const config = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
const accounts = config.accounts || {};

function generatedJwks() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return {
    keys: [
      { ...rsa.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'rs256-test' },
      { ...ec.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'es256-test' },
    ],
  };
}

function clientMetadata(client) {
  const metadata = {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...client,
  };
  if (!metadata.client_secret) {
    delete metadata.client_secret;
    metadata.token_endpoint_auth_method = 'none';
  }
  return metadata;
}

const server = http.createServer();
server.listen(Number(config.port ?? process.env.PORT ?? 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    clients: (config.clients || []).map(clientMetadata),
    jwks: config.jwks || generatedJwks(),
    scopes: ['openid', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'picture', 'locale'],
    },
    // Like most social providers, the ID token of the code flow carries the scopes' claims.
    conformIdTokenClaims: config.claims_in_id_token === false,
    async findAccount(_ctx, sub) {
      const configured = accounts[sub] || {};
      return {
        accountId: sub,
        async claims() {
          return {
            email: `${sub}@example.com`,
            email_verified: false,
            ...configured,
            sub,
          };
        },
      };
    },
    // S256 is the only method oidc-provider 9 supports; required for public clients, optional
    // for confidential ones.
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    features: {
      devInteractions: { enabled: true },
    },
    // Signed cookies; over plain http on loopback they are not `secure` (koa decides by the
    // request's protocol), which is what the browser and httpx need here.
    cookies: {
      keys: [crypto.randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    // Errors as JSON-ish text (the tests read them), not the HTML page.
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.proxy = false;

  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
