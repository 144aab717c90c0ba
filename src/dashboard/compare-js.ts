/**
 * The compare page's script, served from /dashboard/assets/compare.js. It
 * posts the form to /v1/compare with `stream: true` and the API key the
 * user typed (kept in this tab's sessionStorage only), reads the SSE stream
 * and fills one card per target as each answer arrives, then the judge's
 * scores and the winner. Miner output is untrusted HTML: everything is put
 * in the page with textContent, never innerHTML.
 */
export const COMPARE_JS = String.raw`
(function () {
  'use strict';
  var form = document.getElementById('compare-form');
  var results = document.getElementById('results');
  var status = document.getElementById('status');
  var keyInput = document.getElementById('api-key');
  var KEY_SLOT = 'taogate.dashboard.apiKey';
  if (!form || !results || !status || !keyInput) return;
  try { keyInput.value = sessionStorage.getItem(KEY_SLOT) || ''; } catch (e) { /* storage disabled */ }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fact(parent, label, value) {
    parent.appendChild(el('span', '', label + ': ' + value));
  }
  function ms(value) { return value === null || value === undefined ? '-' : Math.round(value) + ' ms'; }

  var cards = [];
  function emptyCard(target, index) {
    var card = el('div', 'card');
    card.setAttribute('data-index', String(index));
    card.appendChild(el('h3', '', target));
    card.appendChild(el('div', 'facts', 'waiting for the answer...'));
    results.appendChild(card);
    cards[index] = card;
  }

  function renderEntry(entry) {
    var card = cards[entry.index];
    if (!card) return;
    card.textContent = '';
    card.className = entry.error ? 'card failed' : 'card';
    card.appendChild(el('h3', '', entry.target));
    var who = entry.miner ? ('sn' + entry.miner.netuid + ' uid ' + entry.miner.uid + ' ' + (entry.miner.hotkey || '').slice(0, 10) + '...') : 'no miner';
    card.appendChild(el('div', 'muted mono', who + (entry.served_model ? ' - ' + entry.served_model : '')));
    var overall = entry.scores && entry.scores.overall !== null && entry.scores.overall !== undefined ? entry.scores.overall : null;
    card.appendChild(el('div', 'score', overall === null ? '-' : overall + ' / 10'));
    if (entry.error) card.appendChild(el('div', 'error', entry.error.status + ' ' + entry.error.message));
    if (entry.answer !== null && entry.answer !== undefined) card.appendChild(el('div', 'answer', entry.answer));
    var facts = el('div', 'facts');
    fact(facts, 'latency', ms(entry.latency_ms));
    fact(facts, 'TTFT', ms(entry.ttft_ms));
    if (entry.tokens) fact(facts, 'tokens', entry.tokens.prompt + ' + ' + entry.tokens.completion);
    if (entry.cost_micro_usd !== null && entry.cost_micro_usd !== undefined) fact(facts, 'cost', '$' + (entry.cost_micro_usd / 1e6).toFixed(6));
    if (entry.scores && entry.scores.checks_total > 0) fact(facts, 'checks', entry.scores.checks_passed + '/' + entry.scores.checks_total);
    card.appendChild(facts);
    var judge = entry.scores && entry.scores.judge;
    if (judge) {
      var line = judge.score !== null ? 'judge ' + judge.score + '/10: ' + judge.reason : 'judge: ' + judge.error;
      card.appendChild(el('div', 'muted judge', line));
    }
    if (entry.scores) {
      entry.scores.checks.forEach(function (check, i) {
        card.appendChild(el('div', check.passed ? 'muted' : 'error', 'check ' + (i + 1) + ' (' + check.type + '): ' + (check.passed ? 'passed' : check.detail)));
      });
    }
  }

  function renderComparison(comparison) {
    comparison.entries.forEach(renderEntry);
    comparison.winners.forEach(function (i) { if (cards[i]) cards[i].classList.add('winner'); });
    var parts = [comparison.entries.length + ' answers'];
    if (comparison.judge) parts.push('judge ' + comparison.judge.model + ': ' + comparison.judge.status + (comparison.judge.error ? ' (' + comparison.judge.error + ')' : ''));
    parts.push('leaderboard: ' + comparison.leaderboard);
    status.textContent = parts.join(' - ');
    status.setAttribute('data-done', '1');
  }

  function handleEvent(name, data) {
    if (data === '[DONE]') return;
    var value = JSON.parse(data);
    if (name === 'entry') renderEntry(value);
    else if (name === 'comparison') renderComparison(value);
    else if (name === 'error') { status.textContent = 'error: ' + value.error.message; status.setAttribute('data-done', '1'); }
  }

  async function readStream(response) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var boundary;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        var block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        var name = 'message';
        var data = [];
        block.split('\n').forEach(function (line) {
          if (line.indexOf('event: ') === 0) name = line.slice(7);
          else if (line.indexOf('data: ') === 0) data.push(line.slice(6));
        });
        handleEvent(name, data.join('\n'));
      }
    }
  }

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    var key = keyInput.value.trim();
    try { sessionStorage.setItem(KEY_SLOT, key); } catch (e) { /* storage disabled */ }
    var targets = Array.prototype.slice.call(form.querySelectorAll('input[name="target"]:checked')).map(function (i) { return i.value; });
    var body = { prompt: form.elements.prompt.value, targets: targets, stream: true };
    if (form.elements.judge.value) body.judge = form.elements.judge.value;
    var maxTokens = parseInt(form.elements.max_tokens.value, 10);
    if (maxTokens > 0) body.max_tokens = maxTokens;
    var checks = [];
    if (form.elements.contains.value) checks.push({ type: 'contains', value: form.elements.contains.value, ignore_case: true });
    if (form.elements.regex.value) checks.push({ type: 'regex', pattern: form.elements.regex.value });
    if (checks.length) body.checks = checks;

    results.textContent = '';
    cards = [];
    status.removeAttribute('data-done');
    targets.forEach(emptyCard);
    status.textContent = 'comparing ' + targets.length + ' targets...';
    try {
      var response = await fetch('/v1/compare', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
        body: JSON.stringify(body),
      });
      if (!response.ok) {
        var failure = await response.json().catch(function () { return { error: { message: response.statusText } }; });
        status.textContent = 'error ' + response.status + ': ' + failure.error.message;
        status.setAttribute('data-done', '1');
        return;
      }
      await readStream(response);
    } catch (err) {
      status.textContent = 'error: ' + (err && err.message ? err.message : String(err));
      status.setAttribute('data-done', '1');
    }
  });
})();
`;
