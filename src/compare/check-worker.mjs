// The declarative checks of /v1/compare, run in a worker thread. Check
// patterns and schemas come from API callers and the answers from miners:
// a catastrophically backtracking regex or a pathological schema must not
// stall the gateway's event loop, so they run here, where the parent can
// terminate the thread when a job outlives its time limit. Plain JavaScript
// (not TypeScript) because a worker thread does not inherit the tsx/vitest
// loaders of its parent.
import { parentPort } from 'node:worker_threads';
import { Ajv } from 'ajv';

/** A fresh Ajv per job: Ajv caches every schema it compiled, which would grow forever here. */
const newAjv = () => new Ajv({ strict: false, allErrors: false, logger: false });

function describeAjvError(errors) {
  const e = errors?.[0];
  if (!e) return 'does not match the schema';
  return `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`;
}

function compileSchemas(schemas) {
  return schemas.map((schema) => {
    try {
      newAjv().compile(schema);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  });
}

function runCheck(check, answer, validators, index) {
  switch (check.type) {
    case 'exact': {
      const a = answer.trim();
      const v = check.value.trim();
      const passed = check.ignore_case ? a.toLowerCase() === v.toLowerCase() : a === v;
      return { passed, detail: passed ? null : 'the answer is not exactly the expected text' };
    }
    case 'contains': {
      const passed = check.ignore_case ? answer.toLowerCase().includes(check.value.toLowerCase()) : answer.includes(check.value);
      return { passed, detail: passed ? null : 'the expected text does not occur' };
    }
    case 'regex': {
      const passed = new RegExp(check.pattern, check.flags ?? '').test(answer);
      return { passed, detail: passed ? null : 'no match' };
    }
    case 'json_schema': {
      let value;
      try {
        value = JSON.parse(answer.trim());
      } catch {
        return { passed: false, detail: 'the answer is not JSON' };
      }
      const validate = validators.get(index);
      const passed = validate(value) === true;
      return { passed, detail: passed ? null : describeAjvError(validate.errors) };
    }
    default:
      return { passed: false, detail: `unknown check type ${check.type}` };
  }
}

function runChecks(checks, answers) {
  const ajv = newAjv();
  const validators = new Map();
  checks.forEach((check, i) => {
    if (check.type === 'json_schema') validators.set(i, ajv.compile(check.schema));
  });
  return answers.map((answer) => checks.map((check, i) => runCheck(check, answer, validators, i)));
}

parentPort.on('message', (job) => {
  try {
    const result = job.kind === 'compile' ? compileSchemas(job.schemas) : runChecks(job.checks, job.answers);
    parentPort.postMessage({ id: job.id, ok: true, result });
  } catch (err) {
    parentPort.postMessage({ id: job.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
