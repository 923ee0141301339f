"""Sending rates per sender: a token bucket in Redis, shared by every worker."""

from __future__ import annotations

import time

from bot import queue

# KEYS[1] bucket; ARGV: rate per second, burst, now (seconds), sends wanted. Returns seconds to
# wait (0: taken). A generic cell rate: the bucket keeps the theoretical time its sends catch up
# with the rate ("tat"); a request may go while that is at most burst - 1 sends ahead, and then
# moves it on by its sends. Several sends at once (a batch's chunk) go together and the sends
# after them wait their turn, so the rate holds on average and nobody starves.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
local ahead = tat - now
-- A millisecond of slack: sums of fractions of a second must not refuse the last of a burst.
local allowed = (burst - 1) / rate + 0.001
if ahead > allowed then
  return tostring(ahead - allowed)
end
tat = math.max(tat, now) + count / rate
redis.call('SET', KEYS[1], tostring(tat), 'EX', math.ceil(tat - now + burst / rate) + 60)
return '0'
"""

MAX_WAIT_SECONDS = 30.0


def try_take(
    bucket: str, per_second: float, burst: float = 1.0, at: float | None = None, count: int = 1
) -> float:
    """Take `count` tokens if they are there (returns 0), else return the seconds until they
    will be."""
    script = queue.connection().register_script(_TAKE)
    args = [per_second, burst, time.time() if at is None else at, count]
    # A new key name: the buckets of the earlier token model were hashes.
    return float(script(keys=[f"circlebot:tat:{bucket}"], args=args))


def take(bucket: str, per_second: float, burst: float = 1.0, count: int = 1) -> bool:
    """Wait until `bucket` allows `count` more sends and take them; False if that would take
    too long."""
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while (wait := try_take(bucket, per_second, burst, count=count)) > 0:
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
    return True
