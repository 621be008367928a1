"""
Celery beat's scheduler with Redis: RedBeat, kept alive through a Redis outage.

``CELERY_BEAT_SCHEDULER = "core.beat:LockedScheduler"`` when ``REDIS_URL`` is set
(``config/settings/beat.py`` says how the lock is timed). RedBeat (``celery-redbeat``) keeps
the schedule and each entry's last run in Redis and sends only while it holds a lock there:
every node may run beat, exactly one sends. A beat started while another holds the lock
waits for it at start-up (RedBeat's ``beat_init`` handler tries every ``BEAT_TICK``
seconds), so a second beat sends nothing.

What RedBeat alone does on a Redis error is exit: any ``ConnectionError`` in a tick, even
a second's restart of Redis, ends the beat process, and with it the outbox sweep until a
supervisor starts it again. This subclass changes only that:

- **Redis unreachable**: the tick sends nothing, logs a warning and tries again after
  ``BEAT_TICK`` seconds. The lock expires on its own if the outage outlasts it.
- **The lock is gone** (the beat stalled longer than the lock's timeout and another took
  it, or Redis restarted empty): RedBeat's extension fails before anything is sent; the
  beat forgets the lock and from then on tries to take it again at each tick, without
  blocking, like a beat that has just started. Whoever takes it writes the schedule's
  entries again (a Redis restarted empty lost them; entries still there keep their last
  run), then sends.

Either way one beat at most sends: a beat sends only after extending (or taking) the lock
in the same tick and checking, just before each send, that the lock is still its own; the
lock is a Redis key with a random token that only its owner may extend (``SET NX PX``, then
a compare-and-expire script).
"""

import logging

from redbeat.schedulers import LUA_EXTEND_TO_SCRIPT, RedBeatScheduler, get_redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError

logger = logging.getLogger("celery.beat")


class LockedScheduler(RedBeatScheduler):
    """RedBeat's scheduler that waits out a Redis outage or a lost lock instead of exiting."""

    def __init__(self, app, **kwargs):
        # RedBeat 2.4 reads CELERY_REDBEAT_REDIS_URL (Django's CELERY_ namespace) but checks
        # for it without the namespace, and would warn at every start that it is not set
        # ("will stop falling back to broker_url"): name the two as that check looks.
        for name in ("redbeat_redis_url", "redbeat_redis_options"):
            if app.conf.first(name) is not None:
                app.conf[name] = app.conf.first(name)
        self._written_under = None  # the lock under which this beat last wrote the schedule
        super().__init__(app, **kwargs)

    def tick(self, *args, **kwargs):
        if self.lock is None and not self._lock_take():
            return self.max_interval
        try:
            if self._written_under is not self.lock:
                # A lock taken by RedBeat's own wait at start-up (a standby beat): Redis may
                # have restarted empty while it waited, taking the schedule written at
                # start-up with it; without this the beat held the lock and sent nothing
                # (the two-node drill, bench/drill_nodes.py, found it).
                self.setup_schedule()
                self._written_under = self.lock
            return super().tick(*args, **kwargs)
        except LockError:
            logger.warning(
                "beat: Lost the lock (it expired or Redis restarted); sending nothing until "
                "this beat takes it again."
            )
            self.lock = None
        except RedisError as error:
            logger.warning(
                "beat: Redis unreachable (%s); trying again in %s s.", error, self.max_interval
            )
        return self.max_interval

    def maybe_due(self, entry, **kwargs):
        """Send ``entry`` if it is due and this beat still holds the lock.

        RedBeat extends the lock once per tick; a beat that stalls between that and a send
        (a stopped process, a long pause) could find that another beat took the lock and
        sent meanwhile. One ``GET`` of the lock before each due send closes that gap; a lost
        lock ends the tick (``tick`` above) before anything is sent.
        """
        if self.lock is not None and entry.is_due()[0] and not self.lock.owned():
            raise LockNotOwnedError("beat: the lock is no longer ours")
        return super().maybe_due(entry, **kwargs)

    def _lock_take(self) -> bool:
        """Take the lock if it is free (never wait for it); True when this beat now holds it."""
        try:
            client = get_redis(self.app)
            lock = client.lock(self.lock_key, timeout=self.lock_timeout)
            lock.lua_extend = client.register_script(LUA_EXTEND_TO_SCRIPT)  # as RedBeat does
            if not lock.acquire(blocking=False):
                return False
            self.lock = lock
            logger.info("beat: Acquired lock")
            self.setup_schedule()
            self._written_under = lock
        except RedisError as error:
            logger.warning("beat: Redis unreachable (%s); the lock is not taken.", error)
            return False
        return True

    def close(self):
        try:
            super().close()
        except RedisError:
            # The lock could not be released: it expires after its timeout.
            logger.warning("beat: Redis unreachable at shutdown; the lock will expire.")
            self.lock = None
