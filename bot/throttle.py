"""Sending rates per sender: a token bucket in Redis, shared by every worker."""

from __future__ import annotations

import time

from bot import queue

# KEYS[1] bucket; ARGV: rate per second, burst, now (seconds), tokens wanted. Returns seconds
# to wait (0: taken). Asking for several lets the bucket fill up to that many: a batch of sends
# goes together once the time for all of them has passed, keeping the rate on average.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
-- Workers' clocks differ a little: time never runs backwards for a bucket.
tokens = math.min(math.max(burst, count), tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= count then
  tokens = tokens - count
else
  wait = (count - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', math.max(at, now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""

MAX_WAIT_SECONDS = 30.0


def try_take(
    bucket: str, per_second: float, burst: float = 1.0, at: float | None = None, count: int = 1
) -> float:
    """Take `count` tokens if they are there (returns 0), else return the seconds until they
    will be."""
    script = queue.connection().register_script(_TAKE)
    args = [per_second, burst, time.time() if at is None else at, count]
    return float(script(keys=[f"circlebot:rate:{bucket}"], args=args))


def take(bucket: str, per_second: float, burst: float = 1.0, count: int = 1) -> bool:
    """Wait until `bucket` allows `count` more sends and take them; False if that would take
    too long."""
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while (wait := try_take(bucket, per_second, burst, count=count)) > 0:
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
    return True
