/**
 * The Lua scripts behind the Redis store's atomic operations. Each runs as
 * one EVALSHA (ioredis defineCommand: EVALSHA, falling back to EVAL after a
 * restart flushed the script cache), so no other client interleaves.
 * memory.ts, gcra.ts and memory-credits.ts hold the same rules for the
 * memory store; test/store.test.ts runs both against one suite.
 *
 * Numbers leave Lua as strings: Redis truncates Lua floats to integers.
 */
import type { Redis } from 'ioredis';

/** Server time in ms (with the fraction), so replicas with skewed clocks share one clock. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;

/** KEYS: the once-marker, then one hash per increment. ARGV: ttlMs, then (field, by) pairs. */
const HINCRBY_ONCE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], ARGV[i * 2 - 2], ARGV[i * 2 - 1])
end
return 1`;

/** KEYS: bucket TAT keys. ARGV: (limit, periodMs, cost) per bucket. Mirrors gcra.ts. */
const RATE_LIMIT = `${NOW}
local n = #KEYS
local allowed = true
local retry = 0
local tats, nexts = {}, {}
for i = 1, n do
  local limit, period, cost = tonumber(ARGV[i*3-2]), tonumber(ARGV[i*3-1]), tonumber(ARGV[i*3])
  local interval = period / limit
  local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now)
  tats[i] = tat
  nexts[i] = tat + cost * interval
  if cost > limit then
    allowed = false
    retry = -1
  else
    local allowAt = nexts[i] - period
    if allowAt > now then
      allowed = false
      if retry >= 0 then retry = math.max(retry, math.ceil(allowAt - now)) end
    end
  end
end
local out = { allowed and '1' or '0', tostring(retry) }
for i = 1, n do
  local limit, period = tonumber(ARGV[i*3-2]), tonumber(ARGV[i*3-1])
  local tat = tats[i]
  if allowed then
    tat = nexts[i]
    redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1)
  end
  local used = tat - now
  out[#out + 1] = tostring(math.max(0, math.floor((period - used) / (period / limit) + 1e-9)))
  out[#out + 1] = tostring(math.ceil(used))
end
return out`;

/** KEYS: bucket TAT key. ARGV: limit, periodMs, cost (may be negative). */
const RATE_ADJUST = `${NOW}
local limit, period, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now) + cost * period / limit
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1)
end
return 1`;

const BALANCE = `local function balance(account)
  local v = redis.call('HMGET', account, 'available', 'reserved', 'spent', 'topped_up')
  return { v[1] or '0', v[2] or '0', v[3] or '0', v[4] or '0' }
end`;

/** KEYS: account, top-ups hash. ARGV: amount, idempotency key. */
const CREDIT_TOP_UP = `${BALANCE}
local previous = redis.call('HGET', KEYS[2], ARGV[2])
if previous then
  local b = balance(KEYS[1])
  return { '0', previous, b[1], b[2], b[3], b[4] }
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'available', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'topped_up', ARGV[1])
local b = balance(KEYS[1])
return { '1', ARGV[1], b[1], b[2], b[3], b[4] }`;

/**
 * KEYS: account, reservations hash, reservation expiry zset, given-back hash, given-back forget zset.
 * ARGV: reservation id, amount, ttlMs, how long a given-back reservation is remembered (ms).
 */
const CREDIT_RESERVE = `${NOW}
${BALANCE}
local remember = tonumber(ARGV[4])
local forgotten = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(forgotten) do
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
-- Give back what requests past their deadline still hold, and remember it:
-- a settlement held up by a store outage still bills its request (CREDIT_SETTLE).
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  local held = redis.call('HGET', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  if held then
    redis.call('HDEL', KEYS[2], id)
    redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(held))
    redis.call('HINCRBY', KEYS[1], 'available', held)
    redis.call('HSET', KEYS[4], id, held)
    redis.call('ZADD', KEYS[5], now + remember, id)
  end
end
if #expired > 0 then
  -- Whole keys outlive their newest entry, and go with it when the account is idle.
  redis.call('PEXPIRE', KEYS[4], remember)
  redis.call('PEXPIRE', KEYS[5], remember)
end
local amount = tonumber(ARGV[2])
local available = tonumber(redis.call('HGET', KEYS[1], 'available') or '0')
if amount > available then
  local b = balance(KEYS[1])
  return { '0', b[1], b[2], b[3], b[4] }
end
redis.call('HINCRBY', KEYS[1], 'available', -amount)
redis.call('HINCRBY', KEYS[1], 'reserved', amount)
redis.call('HSET', KEYS[2], ARGV[1], amount)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
local b = balance(KEYS[1])
return { '1', b[1], b[2], b[3], b[4] }`;

/**
 * KEYS: as CREDIT_RESERVE's. ARGV: reservation id, charge. Mirrors
 * applySettle (credit-account.ts): a reservation given back before its
 * settlement arrived is billed from available, at most what it held.
 */
const CREDIT_SETTLE = `
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then
  held = tonumber(held)
  local spent = math.min(tonumber(ARGV[2]), held)
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'reserved', -held)
  redis.call('HINCRBY', KEYS[1], 'available', held - spent)
  redis.call('HINCRBY', KEYS[1], 'spent', spent)
  return tostring(spent)
end
local given = redis.call('HGET', KEYS[4], ARGV[1])
if not given then return '-1' end
local spent = math.min(tonumber(ARGV[2]), tonumber(given))
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'available', -spent)
redis.call('HINCRBY', KEYS[1], 'spent', spent)
return tostring(spent)`;

/** KEYS: the once-marker, account. ARGV: amount, ttlMs. */
const CREDIT_CHARGE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[2], 'available', -tonumber(ARGV[1]))
redis.call('HINCRBY', KEYS[2], 'spent', ARGV[1])
return 1`;

/** KEYS: the value. ARGV: the value it must still hold. */
const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/** KEYS: the value. ARGV: the value it must still hold, ttlMs. */
const COMPARE_AND_EXPIRE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

const SCRIPTS = {
  taogateCompareAndDelete: COMPARE_AND_DELETE,
  taogateCompareAndExpire: COMPARE_AND_EXPIRE,
  taogateHincrbyOnce: HINCRBY_ONCE,
  taogateRateLimit: RATE_LIMIT,
  taogateRateAdjust: RATE_ADJUST,
  taogateCreditTopUp: CREDIT_TOP_UP,
  taogateCreditReserve: CREDIT_RESERVE,
  taogateCreditSettle: CREDIT_SETTLE,
  taogateCreditCharge: CREDIT_CHARGE,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** Runs a script: keys (prefixed by the client like any key) and string/number args. */
export type RunScript = (name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>) => Promise<unknown>;

export function registerScripts(client: Redis): RunScript {
  // Key counts vary per call (a batch touches several hashes), so each call passes its own.
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
  return (name, keys, args) => {
    const command = (client as unknown as Record<ScriptName, (...a: Array<string | number>) => Promise<unknown>>)[name];
    return command.call(client, keys.length, ...keys, ...args);
  };
}
