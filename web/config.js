// Lapor KBB web client configuration. This file is configuration, not code: the deploy
// overwrites it (API base URL and sign-in settings of the stage). Keep it a plain script that
// only assigns window.LAPOR_KBB_CONFIG.
window.LAPOR_KBB_CONFIG = {
  // Base URL of the API, without a trailing slash.
  apiBase: "http://127.0.0.1:8000",
  // Only on a developer machine: a file the local stack writes (its API URL when the ports are
  // changed). A deployed config.js leaves this out, so the site never requests it.
  localConfig: "config.local.js",
  auth: {
    // "local": staff paste a token printed by `make token ROLE=admin` (or ROLE=opd OPD=DINSOS, ROLE=pimpinan).
    // "cognito": the Cognito hosted UI; then also set:
    //   domain:   "https://<prefix>.auth.<region>.amazoncognito.com"
    //   clientId: "<app client id>" (a public client, no secret)
    //   flow:     "pkce" (authorization code + PKCE, recommended) or "implicit"
    //   scopes:   "openid email profile"
    //   tokenUse: "id" (send the ID token, which carries the role claims) or "access"
    //   redirectUri: optional; defaults to this page's URL without query and hash
    mode: "local"
  }
};
