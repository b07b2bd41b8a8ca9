export { ADMIN_USER, Credentials, type DeviceTokenCheck, type Principal, type TokenListing } from './credentials.js';
export { authenticate, authRouter, LOGIN_PATH, LOGIN_REQUIRED, requireAuth, sameOrigin } from './http.js';
export { generatePassword, hashPassword, verifyPassword } from './password.js';
export { SESSION_COOKIE, SESSION_TTL_MS } from './sessions.js';
export { bearerToken, hashSecret, newToken, parseToken, redactToken, verifySecret, type TokenKind } from './tokens.js';
