/** @jsxImportSource hono/jsx */
/**
 * The frame of every dashboard page. Server-rendered with hono/jsx, which
 * escapes every text and attribute value, so miner-provided strings
 * (hotkeys, model names, answers) can only ever show as text. No inline
 * script or style: the page's Content-Security-Policy forbids both.
 */
import type { Child } from 'hono/jsx';

export type DashboardTab = 'subnets' | 'compare' | 'leaderboard' | 'keys' | 'login';

export interface LayoutProps {
  readonly title: string;
  readonly tab: DashboardTab;
  readonly admin: boolean;
  readonly children?: Child;
  /** Scripts of this page, from /dashboard/assets. */
  readonly scripts?: readonly string[];
}

const TABS: ReadonlyArray<[DashboardTab, string, string]> = [
  ['subnets', 'Subnets', '/dashboard'],
  ['compare', 'Compare', '/dashboard/compare'],
  ['leaderboard', 'Leaderboard', '/dashboard/leaderboard'],
  ['keys', 'Keys', '/dashboard/keys'],
];

export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · taogate`}</title>
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css" />
      </head>
      <body>
        <header>
          <span class="brand">taogate</span>
          <nav>
            {TABS.map(([tab, label, href]) => (
              <a href={href} class={tab === props.tab ? 'active' : ''}>
                {label}
              </a>
            ))}
          </nav>
          {props.admin ? (
            <form method="post" action="/dashboard/logout">
              <button class="link" type="submit">
                Log out
              </button>
            </form>
          ) : (
            <a href="/dashboard/login">Admin login</a>
          )}
        </header>
        <main>{props.children}</main>
        {(props.scripts ?? []).map((src) => (
          <script src={src} defer />
        ))}
      </body>
    </html>
  );
}

export const shortHotkey = (hotkey: string | null) => (hotkey ? `${hotkey.slice(0, 6)}…${hotkey.slice(-4)}` : '-');
export const percent = (x: number) => `${(x * 100).toFixed(1)} %`;
