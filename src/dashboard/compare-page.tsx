/** @jsxImportSource hono/jsx */
/**
 * /dashboard/compare: a prompt, the targets to send it to, an optional judge
 * and checks; answers appear side by side as they arrive (compare.js reads
 * the /v1/compare SSE stream). The call is authenticated with an API key the
 * user types: it is metered to that key like any request, and since it
 * travels in a header (not a cookie) no other site can make the browser spend it.
 */
import { Layout, shortHotkey } from './layout.js';

/** A subnet's targets: its ranked miners, or (served by its own API) its models. */
export type CompareTargetGroup =
  | { readonly kind: 'miners'; readonly netuid: number; readonly miners: ReadonlyArray<{ readonly uid: number; readonly hotkey: string }> }
  | { readonly kind: 'api'; readonly netuid: number; readonly models: readonly string[] };

export interface ComparePageProps {
  readonly admin: boolean;
  readonly groups: readonly CompareTargetGroup[];
  /** Model ids a judge may be. */
  readonly judges: readonly string[];
}

export function ComparePage(props: ComparePageProps) {
  return (
    <Layout title="Compare" tab="compare" admin={props.admin} scripts={['/dashboard/assets/compare.js']}>
      <h1>Compare answers</h1>
      <form id="compare-form" class="panel">
        <div class="grid">
          <div>
            <label for="prompt">Prompt</label>
            <textarea id="prompt" name="prompt" required>
              Explain in two sentences what a Bittensor subnet is.
            </textarea>
          </div>
          <div>
            <label for="api-key">API key (kept in this tab only; the compare is metered to it)</label>
            <input id="api-key" name="api_key" type="password" autocomplete="off" placeholder="sk-tao-…" required />
            <label for="judge">Judge</label>
            <select id="judge" name="judge">
              <option value="">no judge</option>
              {props.judges.map((id) => (
                <option value={id}>{id}</option>
              ))}
            </select>
            <label for="contains">Check: answer contains (optional)</label>
            <input id="contains" name="contains" />
            <label for="regex">Check: answer matches regex (optional)</label>
            <input id="regex" name="regex" />
            <label for="max_tokens">Max tokens</label>
            <input id="max_tokens" name="max_tokens" type="number" min="1" value="256" />
          </div>
        </div>
        <label>Targets</label>
        <div class="targets">
          <label>
            <input type="checkbox" name="target" value="auto" /> auto
          </label>
          {props.groups.map((group) =>
            group.kind === 'api' ? (
              <>
                {group.models.map((id) => (
                  <label>
                    <input type="checkbox" name="target" value={id} /> {id} <span class="muted">(its API)</span>
                  </label>
                ))}
              </>
            ) : (
              <>
                <label>
                  <input type="checkbox" name="target" value={`sn${group.netuid}`} /> sn{group.netuid} (router picks)
                </label>
                {group.miners.map((m, i) => (
                  <label title={m.hotkey}>
                    <input type="checkbox" name="target" value={`sn${group.netuid}/uid:${m.uid}`} checked={group === props.groups[0] && i < 3} /> sn{group.netuid}/uid:{m.uid}{' '}
                    <span class="muted mono">{shortHotkey(m.hotkey)}</span>
                  </label>
                ))}
              </>
            ),
          )}
        </div>
        <p>
          <button type="submit" id="run">
            Compare
          </button>
        </p>
      </form>
      <div id="status" class="status" />
      <div id="results" />
    </Layout>
  );
}
