/** @jsxImportSource hono/jsx */
/** /dashboard/login: the admin token, exchanged for an httpOnly session cookie. */
import { Layout } from './layout.js';

export function LoginPage(props: { readonly error: string | null; readonly enabled: boolean }) {
  return (
    <Layout title="Admin login" tab="login" admin={false}>
      <h1>Admin login</h1>
      {!props.enabled && <p class="error">The admin login is off: set ADMIN_TOKEN to enable it.</p>}
      {props.error && <p class="error" id="login-error">{props.error}</p>}
      <form method="post" action="/dashboard/login" class="panel inline">
        <div>
          <label for="token">ADMIN_TOKEN</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required />
        </div>
        <button type="submit">Log in</button>
      </form>
    </Layout>
  );
}
