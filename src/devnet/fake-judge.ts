// What makes devnet miners worth comparing: each has a quality level that shows in its answers,
// any of them can act as the judge of a comparison, and one fault mode answers with HTML.
// Everything is deterministic (no randomness, no clock), so tests can assert exact scores.
import { JUDGE_MARKER, answerFenceClose, answerFenceOpen } from '../compare/judge-prompt.js';
import type { ParsedRequest } from './fake-openai.js';

/** What an answer whose miner runs the 'htmlAnswer' fault looks like: markup that must never run in a dashboard. */
export function htmlAnswer(name: string): string {
  return `<script>window.__taogatePwned = true</script><img src="x" onerror="window.__taogatePwned = true"><b>bold claims</b> from devnet miner ${name}`;
}

/**
 * A miner of quality q (1-10) answers in a way a reader, and the fake
 * judge, can tell apart: it states its quality, better miners say more, and
 * from quality 6 up a request that asks for JSON gets a JSON object.
 */
export function qualityAnswer(name: string, quality: number, req: ParsedRequest): string {
  const question = req.lastUserMessage.replace(/\s+/g, ' ').trim().slice(0, 80);
  if (/\bjson\b/i.test(req.lastUserMessage) && quality >= 6) {
    return JSON.stringify({ answer: `About "${question}": here is what matters.`, miner: name, quality });
  }
  const detail = quality >= 8 ? ' It explains the reasoning step by step, checks the edge cases and ends with a short summary.' : quality >= 5 ? ' It covers the main point.' : '';
  return `Answer from devnet miner ${name} (quality ${quality}/10) to "${question}".${detail}`;
}

/** The devnet judge's grade of one answer: the quality it states, 1 for markup, else 5. */
export function fakeGrade(answer: string): { score: number; reason: string } {
  const stated = /quality["\s:(]*(\d{1,2})/i.exec(answer);
  if (stated) {
    const score = Math.min(10, Math.max(1, Number(stated[1])));
    return { score, reason: `The answer is of quality ${score}/10 by the devnet's own measure.` };
  }
  if (/<script|onerror=/i.test(answer)) return { score: 1, reason: 'The answer is markup, not an answer.' };
  return { score: 5, reason: 'An ordinary answer.' };
}

export function isJudgeRequest(req: ParsedRequest): boolean {
  return req.messages.some((m) => m.role === 'system' && m.content.includes(JUDGE_MARKER));
}

/** The labelled answers in a judge prompt, read back through its fences. */
function fencedAnswers(prompt: string): Array<{ label: string; text: string }> {
  const out: Array<{ label: string; text: string }> = [];
  const open = /<<<answer (\S+) (\S+)>>>\n/g;
  for (let match = open.exec(prompt); match; match = open.exec(prompt)) {
    const [whole, label = '', nonce = ''] = match;
    const start = match.index + whole.length;
    const end = prompt.indexOf(`\n${answerFenceClose(label, nonce)}`, start);
    if (end < 0 || !whole.startsWith(answerFenceOpen(label, nonce))) continue;
    out.push({ label, text: prompt.slice(start, end) });
    open.lastIndex = end;
  }
  return out;
}

/** The judge's reply: the JSON verdict, or (for the first `misformats` judge requests) prose that does not parse. */
export function judgeReply(req: ParsedRequest, misformat: boolean): string {
  const userTurns = req.messages.filter((m) => m.role === 'user');
  const answers = fencedAnswers(userTurns[0]?.content ?? '');
  if (misformat) return 'Let me think about these answers. Overall they are fine, I would say.';
  return JSON.stringify({ scores: answers.map(({ label, text }) => ({ label, ...fakeGrade(text) })) });
}
