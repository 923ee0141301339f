"""Sending rates per sender: a token bucket in Redis, shared by every worker.

Provider rates count real seconds, so they are paced on the Redis server's clock: the one
clock every worker shares, which neither a simulated instant nor a test's fake clock moves.
Rate limits of the product (how often a group may try a link code) pass the product's `now`.
"""

from __future__ import annotations

import time

from bot import clock, queue

# KEYS[1] bucket; ARGV: rate per second, burst, now (seconds, or "" for the Redis server's own
# clock), sends wanted. Returns seconds to wait (0: taken). A generic cell rate: the bucket keeps the theoretical time its sends catch up
# with the rate ("tat"); a request may go while that is at most burst - 1 sends ahead, and then
# moves it on by its sends. Several sends at once (a batch's chunk) go together and the sends
# after them wait their turn, so the rate holds on average and nobody starves.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local server = redis.call('TIME')
  now = tonumber(server[1]) + tonumber(server[2]) / 1000000
end
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
    will be; `at` (epoch seconds) paces on the product's clock, None on the Redis server's."""
    script = queue.connection().register_script(_TAKE)
    args = [per_second, burst, "" if at is None else at, count]
    # Tries at a simulated instant (a chat run next year) count apart from real ones, so that
    # neither holds the other back.
    space = "sim:" if at is not None and clock.is_simulated() else ""
    return float(script(keys=[f"circlebot:tat:{space}{bucket}"], args=args))


def take(bucket: str, per_second: float, burst: float = 1.0, count: int = 1) -> bool:
    """Wait until `bucket` allows `count` more sends and take them; False if that would take
    too long."""
    deadline = clock.elapsed() + MAX_WAIT_SECONDS
    while (wait := try_take(bucket, per_second, burst, count=count)) > 0:
        if clock.elapsed() + wait > deadline:
            return False
        time.sleep(wait)
    return True
