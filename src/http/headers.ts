/** The headers every response of the web server carries, starting or not. */
export const SECURITY_HEADERS = {
  // The token is in the URL: it must not leak to other sites through the Referer header.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};
