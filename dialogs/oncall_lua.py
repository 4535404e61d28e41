"""The on-call store's Lua scripts: each multi-key change that must be atomic is one of these.

Every script declares the keys it touches (all under the store's one ``{oc}`` hash tag).
Arguments are listed above each; dialogs/oncall_store.py calls them by EVALSHA.
"""

from __future__ import annotations

# KEYS ev, then one seen: key per event   ARGV ttl, then one event JSON per event  -> how many were new
RECEIVE = """
local n = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i])
    n = n + 1
  end
end
return n
"""

# KEYS used, notice, codes, code   ARGV segments, budget, ttl, now, code_ttl, target, reuse
#   -> {1, code} send with this code (reused or the smallest free one), {2} send the notice instead, {0} hold
PLAN = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) - 1 then
  if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
    redis.call('INCRBY', KEYS[1], 1); redis.call('EXPIRE', KEYS[1], ARGV[3]); return {2}
  end
  return {0}
end
redis.call('INCRBY', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[3])
if ARGV[7] ~= '' then return {1, tonumber(ARGV[7])} end
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[4] - ARGV[5])
for _, c in ipairs(old) do redis.call('HDEL', KEYS[4], c) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4] - ARGV[5])
local i = 1
while redis.call('ZSCORE', KEYS[3], i) do i = i + 1 end
redis.call('ZADD', KEYS[3], ARGV[4], i)
redis.call('HSET', KEYS[4], i, ARGV[6])
return {1, i}
"""

# KEYS used, notice   ARGV segments, budget, ttl    -> 1 send, 2 send the notice instead, 0 hold
BUDGET = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) <= tonumber(ARGV[2]) - 1 then
  redis.call('INCRBY', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], ARGV[3]); return 1
end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('INCRBY', KEYS[1], 1); redis.call('EXPIRE', KEYS[1], ARGV[3]); return 2
end
return 0
"""

# KEYS last, pend, timers, held   ARGV now, window, id, flush_member  -> 1 page now, 0 held for a bundle
ROUTE = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if redis.call('LLEN', KEYS[2]) == 0 and now - last >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 86400); return 1
end
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[4], now, ARGV[3])
redis.call('ZADD', KEYS[3], 'NX', math.max(last + tonumber(ARGV[2]), now), ARGV[4])
return 0
"""

# KEYS pend, timers, last   ARGV flush_member, now  -> the held ids, taken
TAKE = """
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[2], 'EX', 86400)
return ids
"""

# KEYS timers   ARGV now, lease_until, limit  -> due members, leased to the caller
CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m) end
return due
"""

# KEYS page   ARGV now, deadline, owner  -> {send | check | busy | done | gone, the page's fields...}
SEND_CLAIM = """
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return {'gone'} end
local now = tonumber(ARGV[1])
if st == 'queued' or st == 'retry' then
  redis.call('HSET', KEYS[1], 'state', 'sending', 'deadline', ARGV[2], 'owner', ARGV[3], 'started', ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  return {'send', unpack(redis.call('HGETALL', KEYS[1]))}
end
local late = tonumber(redis.call('HGET', KEYS[1], 'deadline') or '0') < now
if st == 'check' or ((st == 'sending' or st == 'checking') and late) then
  redis.call('HSET', KEYS[1], 'state', 'checking', 'deadline', ARGV[2], 'owner', ARGV[3])
  return {'check', unpack(redis.call('HGETALL', KEYS[1]))}
end
if st == 'sending' or st == 'checking' then return {'busy'} end
return {'done'}
"""
