/**
 * Dashboard admin sessions. ADMIN_TOKEN is typed once into the login form
 * (compared in constant time) and exchanged for a random session id in an
 * httpOnly, SameSite=Strict cookie scoped to /dashboard: page scripts cannot
 * read it, other sites cannot send it, and the token itself is never stored
 * in the browser. Sessions live in the store (only a hash of the id), so
 * every replica knows them and logging out ends one everywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { constantTimeEqual } from '../metering/api-keys.js';
import type { Store } from '../store/store.js';

export const SESSION_COOKIE = 'taogate_admin';
const SESSION_TTL_MS = 8 * 3600 * 1000;

const sessionKey = (id: string) => `dashboard:session:${createHash('sha256').update(id).digest('hex')}`;

/** Secure when the browser came in over https (directly or through a proxy that says so). */
function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

export class AdminSessions {
  constructor(
    private readonly store: Store,
    private readonly adminToken: string | undefined,
  ) {}

  get enabled(): boolean {
    return this.adminToken !== undefined;
  }

  /** Checks the token and starts a session; false when the token is wrong (or admin is off). */
  async login(c: Context, token: string): Promise<boolean> {
    if (!this.adminToken || !constantTimeEqual(token, this.adminToken)) return false;
    const id = randomBytes(32).toString('base64url');
    await this.store.set(sessionKey(id), '1', { ttlMs: SESSION_TTL_MS });
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
      path: '/dashboard',
      maxAge: SESSION_TTL_MS / 1000,
    });
    return true;
  }

  /** Whether the request carries a live session (false, not an error, while the store is down). */
  async isAdmin(c: Context): Promise<boolean> {
    const id = getCookie(c, SESSION_COOKIE);
    if (!this.adminToken || !id || id.length > 100) return false;
    try {
      return (await this.store.get(sessionKey(id))) !== null;
    } catch {
      return false;
    }
  }

  async logout(c: Context): Promise<void> {
    const id = getCookie(c, SESSION_COOKIE);
    if (id) await this.store.del(sessionKey(id)).catch(() => undefined);
    deleteCookie(c, SESSION_COOKIE, { path: '/dashboard', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
  }
}
