"""RedisStore: the Store contract over one Redis database, shared by any number of servers and workers.

Layout (every key under `conversations-mock:`): a hash of chatbot data per namespace, a hash of
namespaces' own rate limits (`rate-limits`), a hash per subject's budget in a namespace
(`budget:NAMESPACE:SUBJECT`, counted by one Lua script, expiring with its window), a capped
fault rules per namespace (their version, JSON and a count left per rule, spent by a Lua script), a
hash of counters per namespace (HINCRBY), the epoch and what its change lost (`epoch`, `lost`), the
key every server's journal digests masked values with (`digest-key`, 32 random bytes), a capped
list per namespace for the journal (LPUSH + LTRIM), a sorted set of the namespaces journalled by
when each was last flushed (`journalled`), and one pub/sub channel per database. Each flush
trims that set to the newest `journal_namespaces` and deletes the others' lists, in the same
transaction as its pushes.

Readers pay no round trip per request: each process keeps a local generation, bumped by a
background listener (a thread; a greenlet under gevent's monkey-patching) when a 'gen' message
arrives. A write stores its data, publishes 'gen', and waits (bounded) until every listener that
received it has bumped its generation and acknowledged, so a read on any server after the write
returns sees it. `record` appends to a per-process buffer the listener flushes every ~20 ms; a
`journal` read first publishes 'flush' and waits for every listener's acknowledgement, so it
includes what other servers buffered.

Lost data: the first server to find the database without its `epoch` key sets one (a random id,
SET NX), and every process remembers it and what each namespace set in it: which chatbots, fault rules,
a rate limit (its own writes and deletes, the 'gen' messages naming the namespace, the epoch and the
part set or deleted, and a scan, with HKEYS of each chatbots hash, at each subscription). A Redis that
restarted without persistence, was flushed or failed over to an empty replica has no epoch, or
another: what the namespaces set in the old one is lost (`lost`), part by part until each is set again
(or deleted), or the namespace is reset. The listener reads the epoch at each (re)subscription and
every PING_EVERY; a read of a namespace's data reads it too, so no process answers generated data for a
lost namespace it had not cached.
The processes that notice write what was lost into the new epoch (`lost`), so a server started
afterwards reports it too. The digest key is made (SET NX) and read with the epoch, so it is lost and
made anew with it, and every process follows it (`digest_key`).

Usage::

    store = RedisStore("redis://127.0.0.1:6379/0")
    store.put_chatbot("default", chatbot_id, b"[...]")
"""

import logging
import os
import secrets
import threading
import time
import uuid
import weakref
from collections import defaultdict, deque
from urllib.parse import urlsplit, urlunsplit

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from conversations_mock.store import (
    JOURNAL_NAMESPACES,
    JOURNAL_SIZE,
    FaultRules,
    Loss,
    Store,
    StoreLost,
    StoreUnavailable,
)
from conversations_mock.store.losses import FOUND_AGAIN, from_record, loss_of, parts_of, record

PREFIX = "conversations-mock:"
# Short timeouts: a paused or unreachable Redis is a 503 within about a second, not a hung request.
SOCKET_TIMEOUT = 1.0
# How long a write or a journal read waits for every listener's acknowledgement.
ACK_WAIT = 2.0
# How often the listener flushes buffered journal entries, and pings Redis.
FLUSH_EVERY = 0.02
PING_EVERY = 0.5
# No answer to a ping for this long: Redis is taken as unreachable (it may be paused, the TCP connection open).
SILENCE_LIMIT = 1.5
# The namespaces just flushed become the newest in the `journalled` set (by Redis's clock, the same
# for every server; in the flush's order within it), then the oldest past the bound lose their lists.
# KEYS[1]: the set; ARGV: the bound, the journal keys' prefix, the namespaces flushed.
_TRIM_JOURNALS = """
if redis.replicate_commands then redis.replicate_commands() end  -- TIME before writes: Redis < 5 needs it
local now = redis.call('TIME')
local score = tonumber(now[1]) * 1000000 + tonumber(now[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], score + i, ARGV[i]) end
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess > 0 then
  for _, namespace in ipairs(redis.call('ZRANGE', KEYS[1], 0, excess - 1)) do
    redis.call('DEL', ARGV[2] .. namespace)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
end
return excess
"""
# One of what is left of a rule, if its set is still the one in force and anything is left; 1 if taken.
# KEYS[1]: the namespace's faults hash; ARGV: the set's version, the rule's field.
_SPEND = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
local left = tonumber(redis.call('HGET', KEYS[1], ARGV[2]))
if left == nil or left <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], -1)
return 1
"""

# A subject's fixed window, counted atomically by Redis's clock (the same for every server), as the
# embedded store's _TAKE counts it. KEYS[1]: the budget's hash; ARGV: the window (ms), a test's clock
# (ms, or '' for Redis's). Returns {count, ms left}.
_TAKE = """
local now = tonumber(ARGV[2])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local window = tonumber(ARGV[1])
local held = redis.call('HMGET', KEYS[1], 's', 'n')
local start, used = tonumber(held[1]), tonumber(held[2])
if not start or now >= start + window or now < start then
  start, used = now, 0
end
used = used + 1
redis.call('HSET', KEYS[1], 's', start, 'n', used)
redis.call('PEXPIRE', KEYS[1], start + window - now)
return {used, start + window - now}
"""

log = logging.getLogger(__name__)


def masked(url: str) -> str:
    """The URL with its password, if any, replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisStore(Store):
    """The Store contract in one Redis database; see the module's docstring for how readers stay cheap."""

    can_lose = True

    def __init__(self, url: str, journal_size: int = JOURNAL_SIZE, journal_namespaces: int = JOURNAL_NAMESPACES):
        self.url = url
        self.journal_size = journal_size
        self.journal_namespaces = journal_namespaces
        self._client = redis.Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0), health_check_interval=0,
        )
        db = self._client.connection_pool.connection_kwargs.get("db", 0)
        self._channel = f"{PREFIX}events:{db}"
        self._journalled = f"{PREFIX}journalled"
        self._rate_limits = f"{PREFIX}rate-limits"
        self._epoch_key = f"{PREFIX}epoch"
        # The namespaces an epoch's change lost, written into the new epoch: a server started after the loss
        # (or a worker gunicorn replaced) reports them too.
        # namespace -> {"kinds": [...], "chatbots": [ids], "since": s}, narrowed by FOUND_AGAIN (losses.py).
        self._lost_key = f"{PREFIX}lost"
        # The journal's digest key, kept beside the journal it protects: one for every server, so that
        # each judges and checks (Entries.sent) what another journalled.
        self._digest_key_key = f"{PREFIX}digest-key"
        # The epoch this process knows, what each namespace set in it (namespace -> frozenset of parts, see
        # losses.py), and the namespaces whose data an epoch's change lost (namespace -> Loss). Kept across
        # a fork.
        self._epoch: bytes | None = None
        self._owned: dict[str, frozenset] = {}
        self._losses: dict[str, Loss] = {}
        # The digest key this process knows (read with the epoch), and who is told when it changes.
        self._digest_key: bytes | None = None
        self._digest_key_followers: list = []
        # EVALSHA, loading the script again when a restarted Redis has forgotten it.
        self._take = self._client.register_script(_TAKE)
        self._closed = False
        # Kept across a fork: a child's first subscription moves it past what its parent's readers saw.
        self._generation = 0
        self._reset_process_state()
        # gunicorn builds the app in its master and forks the workers: each worker needs its own listener.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: (store := ref()) and store._reset_process_state())

    def _reset_process_state(self):
        """Forget this process's listener and buffer (after a fork they belong to the parent)."""
        self._lock = threading.Lock()  # a new one: the parent may have held its lock when it forked
        # One flush at a time: a journal read flushes while the listener may be flushing older entries,
        # and older entries pushed after newer ones would end on top of the list, the newer trimmed.
        self._flushing = threading.Lock()
        self._down: str | None = None
        self._listening = threading.Event()
        self._listener: threading.Thread | None = None
        self._pubsub = None  # the parent's socket: dropped, never closed (closing would cut the parent's)
        self._buffer: dict[str, deque] = {}

    def start_worker(self):
        # Locks made at the fork, before gevent's patching, are the OS's: a request waiting for the one a
        # flush holds across its round trip would block the whole worker, that flush's greenlet with it.
        # Listening from the start, a worker learns which namespaces set data as they set it (`lost`).
        self._reset_process_state()
        self._start_listening()

    # -- errors ------------------------------------------------------------------------------------

    def _unavailable(self, error: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"cannot reach the store at {masked(self.url)}: {error}")

    def _call(self, method, *args):
        try:
            return method(*args)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            raise self._unavailable(error) from error

    # -- chatbot data ------------------------------------------------------------------------------

    def _chatbots_key(self, namespace):
        return f"{PREFIX}chatbots:{namespace}"

    def _faults_key(self, namespace):
        return f"{PREFIX}faults:{namespace}"

    def _counters_key(self, namespace):
        return f"{PREFIX}counters:{namespace}"

    @property
    def _data_keys(self):
        """What a namespace's reset deletes besides its journal: each key's maker, given the namespace."""
        return (self._chatbots_key, self._faults_key, self._counters_key)

    def _journal_key(self, namespace):
        return f"{PREFIX}journal:{namespace}"

    def put_chatbot(self, namespace, chatbot_id, conversations):
        self._check_epoch()
        self._call(self._client.hset, self._chatbots_key(namespace), chatbot_id, bytes(conversations))
        self._changed(namespace, "chatbots", chatbot_id)

    def get_chatbot(self, namespace, chatbot_id):
        return self._read(namespace, "hget", self._chatbots_key(namespace), chatbot_id)

    def delete_chatbot(self, namespace, chatbot_id):
        self._check_epoch()
        removed = self._call(self._client.hdel, self._chatbots_key(namespace), chatbot_id)
        self._changed(namespace, "chatbots", chatbot_id, deleted=True)
        return bool(removed)

    def chatbots(self, namespace):
        found = self._read(namespace, "hgetall", self._chatbots_key(namespace))
        return {key.decode(): value for key, value in found.items()}

    def put_faults(self, namespace, rules, times):
        version = uuid.uuid4().hex
        fields = {"version": version, "rules": bytes(rules), "count": len(times)}
        fields.update({f"left:{rule}": left for rule, left in enumerate(times) if left is not None})
        self._check_epoch()
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(self._faults_key(namespace))
        pipe.hset(self._faults_key(namespace), mapping=fields)
        self._call(pipe.execute)
        self._changed(namespace, "fault rules")
        return version

    def faults(self, namespace):
        found = self._read(namespace, "hgetall", self._faults_key(namespace))
        if not found:
            return None
        lefts = tuple(
            None if (left := found.get(f"left:{rule}".encode())) is None else int(left)
            for rule in range(int(found[b"count"]))
        )
        return FaultRules(found[b"version"].decode(), found[b"rules"], lefts)

    def delete_faults(self, namespace):
        self._check_epoch()
        removed = self._call(self._client.delete, self._faults_key(namespace))
        self._changed(namespace, "fault rules", deleted=True)
        return bool(removed)

    def spend(self, namespace, version, rule):
        # EVAL, not EVALSHA, as for the journal's trim.
        taken = self._call(self._client.eval, _SPEND, 1, self._faults_key(namespace), version, f"left:{rule}")
        return taken == 1

    def count(self, namespace, name):
        return self._call(self._client.hincrby, self._counters_key(namespace), name, 1)

    def reset(self, namespace):
        self._broadcast("flush")  # entries other servers buffered before the reset go too
        self._call(self._client.hdel, self._rate_limits, namespace)
        self._call(self._client.hdel, self._lost_key, namespace)
        self._forget_journal(namespace, *(key(namespace) for key in self._data_keys), *self._budgets(namespace))
        self._changed(namespace, reset=True)

    def reset_all(self):
        self._broadcast("flush")  # entries other servers buffered before the reset go too
        keys = [
            key
            for pattern in (*(key("*") for key in self._data_keys), self._journal_key("*"), self._budget_key("*", "*"))
            for key in self._call(lambda: list(self._client.scan_iter(match=pattern, count=1000)))
        ]
        self._call(self._client.delete, self._journalled, self._rate_limits, self._lost_key, *keys)
        self._changed("*", reset=True)

    # -- rate limits -------------------------------------------------------------------------------

    def _budget_key(self, namespace, subject):
        return f"{PREFIX}budget:{namespace}:{subject}"

    def _budgets(self, namespace) -> list:
        """The keys of a namespace's budgets (namespaces have no glob characters: NAMESPACE_PATTERN)."""
        pattern = self._budget_key(namespace, "*")
        return self._call(lambda: list(self._client.scan_iter(match=pattern, count=1000)))

    def put_rate_limit(self, namespace, rate):
        self._check_epoch()
        pipe = self._client.pipeline(transaction=True)
        pipe.hset(self._rate_limits, namespace, rate)
        for key in self._budgets(namespace):
            pipe.delete(key)
        self._call(pipe.execute)
        self._changed(namespace, "rate limit")

    def get_rate_limit(self, namespace):
        rate = self._read(namespace, "hget", self._rate_limits, namespace)
        return None if rate is None else rate.decode()

    def delete_rate_limit(self, namespace):
        self._check_epoch()
        budgets = self._budgets(namespace)
        if budgets:
            self._call(self._client.delete, *budgets)
        removed = self._call(self._client.hdel, self._rate_limits, namespace)
        self._changed(namespace, "rate limit", deleted=True)
        return bool(removed)

    def take(self, namespace, subject, window_ms, now_ms=None):
        used, left = self._call(
            self._take, [self._budget_key(namespace, subject)], [window_ms, "" if now_ms is None else now_ms]
        )
        return int(used), int(left)

    def generation(self):
        if self._listener is None or not self._listening.is_set():
            self._start_listening()
        if self._down is not None:
            raise StoreUnavailable(self._down)
        return self._generation

    def _changed(self, namespace: str, kind: str = "", chatbot_id: str = "", deleted: bool = False,
                 reset: bool = False):
        """After a data write: bump this process's generation, then every listener's, before returning.

        A write of `kind` ("chatbots" with its `chatbot_id`, "fault rules", "rate limit") records that
        `namespace` set that part in this epoch, or no longer has it (`deleted`); a reset (of a namespace,
        or "*" for all) that it has nothing: in every process. A delete is told even when the store held
        nothing: a process may still count the part as set (or lost), and would report it lost otherwise.
        """
        self._generation += 1
        if reset:
            self._apply(b"reset", namespace.encode())
            self._broadcast("reset", namespace)
        else:
            # Set again or deleted: that part is no longer lost (for servers started later too); the rest is.
            self._call(self._client.eval, FOUND_AGAIN, 1, self._lost_key, namespace, kind, chatbot_id)
            change = "deleted" if deleted else "set"
            what = f"{namespace} {self._epoch.decode()} {change} {chatbot_id or '-'} {kind}"
            self._apply(b"gen", what.encode())
            self._broadcast("gen", what)

    # -- lost data ---------------------------------------------------------------------------------

    def lost(self, namespace):
        return self._losses.get(namespace) if self._losses else None

    def digest_key(self, changed):
        if self._digest_key is None:
            try:
                self._check_epoch()  # at start: one round trip, so the first entries use the shared key
            except StoreUnavailable:
                pass  # followed once the listener reaches the store (entries until then: a key of its own)
        with self._lock:  # _check_epoch swaps key and followers under it: no change falls between
            self._digest_key_followers.append(changed)
            return self._digest_key

    def _read(self, namespace, command, *args):
        """A read of a namespace's data and the epoch in one round trip; raises StoreLost if it is lost.

        Without this, a process that had not cached the namespace would read the empty database
        before its listener notices, and answer generated data in place of what was set.
        """
        pipe = self._client.pipeline(transaction=False)
        getattr(pipe, command)(*args)
        pipe.get(self._epoch_key)
        found, epoch = self._call(pipe.execute)
        if epoch != self._epoch:
            self._check_epoch()
        loss = self._losses.get(namespace)
        if loss is not None:
            raise StoreLost(loss)
        return found

    def _check_epoch(self):
        """Read the store's epoch (setting one if it has none); if it changed, what was set before is lost.

        The digest key comes in the same round trip, made by whichever process first finds none. A store
        that came back empty lost it with the journal: every server then takes the one the first to
        notice made, rather than go on digesting with a key the others no longer share (their verdicts
        and `sent` checks would disagree again). Followed whenever it differs, not only when the epoch
        does, so a key deleted alone is made anew and followed too.
        """
        pipe = self._client.pipeline(transaction=False)
        pipe.set(self._epoch_key, uuid.uuid4().hex, nx=True)
        pipe.set(self._digest_key_key, secrets.token_bytes(32), nx=True)
        pipe.get(self._epoch_key)
        pipe.get(self._digest_key_key)
        _, _, epoch, digest_key = self._call(pipe.execute)
        lost = {}
        with self._lock:
            if self._epoch is not None and epoch != self._epoch:
                since = time.time()
                for namespace, parts in self._owned.items():
                    # Added to what the namespace had lost before and not found again since.
                    prior = self._losses.get(namespace)
                    noticed = since if prior is None else prior.since
                    self._losses[namespace] = loss_of(masked(self.url), parts | parts_of(prior), noticed)
                if self._owned:
                    log.error("The store at %s came back empty; namespaces whose data it lost: %d (%s)",
                              masked(self.url), len(self._owned), ", ".join(sorted(self._owned)[:10]))
                lost = dict(self._losses)  # every loss this process knows goes into the new epoch's record
                self._owned = {}
                self._generation += 1  # what workers cached of the old epoch is read again
            self._epoch = epoch
            followers = [] if digest_key == self._digest_key else list(self._digest_key_followers)
            self._digest_key = digest_key
        for follow in followers:
            follow(digest_key)
        if lost:
            pipe = self._client.pipeline(transaction=False)
            for namespace, loss in lost.items():
                pipe.hsetnx(self._lost_key, namespace, record(loss))
            self._call(pipe.execute)

    def _learn(self):
        """Record what each namespace has set in the store now, and what it lost before (at subscription).

        Subscribed first: a write whose message is not queued for us yet is in what is read here.
        """
        found = {}
        for kind, key in (("chatbots", self._chatbots_key), ("fault rules", self._faults_key)):
            prefix = len(key(""))
            names = self._client.scan_iter(match=key("*"), count=1000)
            found[kind] = [name.decode()[prefix:] for name in names]
        pipe = self._client.pipeline(transaction=False)
        for namespace in found["chatbots"]:
            pipe.hkeys(self._chatbots_key(namespace))  # which chatbots: a loss names them
        pipe.hkeys(self._rate_limits)
        pipe.hgetall(self._lost_key)
        pipe.get(self._epoch_key)
        *chatbots, limited, recorded, epoch = pipe.execute()
        learned = defaultdict(set)
        for namespace, ids in zip(found["chatbots"], chatbots):
            learned[namespace].update(("chatbots", chatbot.decode()) for chatbot in ids)
        for namespace in found["fault rules"]:
            learned[namespace].add(("fault rules", ""))
        for namespace in limited:
            learned[namespace.decode()].add(("rate limit", ""))
        # (A hash deleted between SCAN and HKEYS has no chatbots left.)
        owned = {namespace: frozenset(parts) for namespace, parts in learned.items() if parts}
        with self._lock:
            if epoch != self._epoch:
                # The store came back empty (again) while we read: what we read may be the old epoch's.
                # Counted as set, it is reported lost at the next look at the epoch; what the new epoch
                # holds arrives in the messages queued meanwhile, which end its loss.
                for namespace, parts in owned.items():
                    self._owned[namespace] = self._owned.get(namespace, frozenset()) | parts
                return
            # What the store holds is what was set: a chatbot deleted while we were not listening is not
            # reported lost later.
            self._owned = owned
            # What other servers found lost before this one listened (a server started after the loss): the
            # record, narrowed by every write since, rather than what this process missed while not listening.
            losses = dict(self._losses)
            for namespace, raw in recorded.items():
                losses[namespace.decode()] = from_record(masked(self.url), raw)
            for namespace, loss in losses.items():
                # What was set again since is no longer lost (its writer narrowed the record, but may have
                # raced this read, or a late noticer written it anew).
                left = loss_of(loss.store, parts_of(loss) - owned.get(namespace, frozenset()), loss.since)
                if left is None:
                    self._losses.pop(namespace, None)
                else:
                    self._losses[namespace] = left

    def _apply(self, kind: bytes, what: bytes):
        """Apply a 'gen' message (namespace, epoch, change and part) or a 'reset' message (namespace) here."""
        if kind == b"reset":
            namespace = what.decode()
            with self._lock:
                if namespace == "*":
                    self._owned, self._losses = {}, {}
                else:
                    self._owned.pop(namespace, None)
                    self._losses.pop(namespace, None)
            return
        namespace, epoch, change, chatbot_id, written = what.decode().split(" ", 4)
        part = (written, "" if chatbot_id == "-" else chatbot_id)
        if epoch.encode() != self._epoch:
            self._check_epoch()  # the writer knew of a newer epoch than we do
        with self._lock:
            current = epoch.encode() == self._epoch
            if current:
                parts = self._owned.get(namespace, frozenset())
                parts = parts - {part} if change == "deleted" else parts | {part}
                if parts:
                    self._owned[namespace] = parts
                else:
                    self._owned.pop(namespace, None)
            # Setting one part again ends its loss only: a namespace that lost two chatbots and its fault
            # rules, and sets one chatbot again, would otherwise answer generated data for the other, or
            # without its rules. A delete ends it whatever its epoch: deleted before the store came back
            # empty, the part was not lost; after, the store holds none, as the test asked.
            loss = self._losses.get(namespace)
            if loss is not None and (current or change == "deleted"):
                left = loss_of(loss.store, parts_of(loss) - {part}, loss.since)
                if left is None:
                    del self._losses[namespace]
                else:
                    self._losses[namespace] = left

    # -- journal -----------------------------------------------------------------------------------

    def record(self, namespace, entry):
        line = orjson.dumps(entry)
        with self._lock:
            buffered = self._buffer.get(namespace)
            if buffered is None:
                # Only the newest journal_size entries could survive LTRIM: the buffer keeps no more.
                buffered = self._buffer[namespace] = deque(maxlen=self.journal_size)
            buffered.append(line)
        if self._listener is None:
            # Once per process: a flush asked for before our listener subscribed would miss this buffer.
            self._start_listening()

    def journal(self, namespace, path=None, limit=None):
        self._broadcast("flush")
        lines = self._call(self._client.lrange, self._journal_key(namespace), 0, self.journal_size - 1)
        entries = (orjson.loads(line) for line in lines)
        if path is not None:
            entries = (entry for entry in entries if entry.get("path") == path)
        found = []
        for entry in entries:
            if limit is not None and len(found) >= limit:
                break
            found.append(entry)
        return found

    def clear_journal(self, namespace):
        self._broadcast("flush")
        self._forget_journal(namespace)

    def _forget_journal(self, namespace, *keys):
        """Delete the namespace's journal (and `keys`): it no longer counts against the bound."""
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(self._journal_key(namespace), *keys)
        pipe.zrem(self._journalled, namespace)
        self._call(pipe.execute)

    def _flush(self):
        """Write this process's buffered entries: one transaction, LPUSH + LTRIM per namespace, then the trim."""
        with self._flushing:
            with self._lock:
                buffered, self._buffer = self._buffer, {}
            if not buffered:
                return
            # One MULTI, pushes and trim together: another server's trim cannot drop a list between its
            # push and its entry in the set, which would leave a list that no later trim knows of.
            pipe = self._client.pipeline(transaction=True)
            for namespace, lines in buffered.items():
                key = self._journal_key(namespace)
                pipe.lpush(key, *lines)
                pipe.ltrim(key, 0, self.journal_size - 1)
            # EVAL, not EVALSHA: Redis caches the script by its hash, and a restarted Redis needs no reload.
            pipe.eval(_TRIM_JOURNALS, 1, self._journalled, self.journal_namespaces, self._journal_key(""), *buffered)
            try:
                pipe.execute()
            except Exception:
                with self._lock:  # put them back, older than anything recorded since (bounded by maxlen)
                    for namespace, lines in buffered.items():
                        newer = self._buffer.get(namespace, ())
                        self._buffer[namespace] = deque([*lines, *newer], maxlen=self.journal_size)
                raise

    # -- broadcasts and acknowledgements -----------------------------------------------------------

    def _broadcast(self, kind: str, what: str = ""):
        """Publish `kind` ('gen', 'reset' or 'flush'); wait until every listener that received it has acted.

        `what` is the namespace the message is about; for 'gen', followed by the epoch, "set" or "deleted",
        the chatbot's id (or "-") and the kind of data (see _changed).
        """
        token = uuid.uuid4().hex
        acks = f"{PREFIX}acks:{token}"
        if kind == "flush":
            self._flush_or_raise()
        receivers = self._call(self._client.publish, self._channel, f"{kind} {token} {what}".rstrip())
        deadline = time.monotonic() + ACK_WAIT
        while receivers > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                # A listener that did not answer belongs to a process that is stopped or hung; it
                # is not serving, and catches up (or reconnects, marking its data stale) when it runs.
                log.warning("%d listeners did not acknowledge %r within %.1f s", receivers, kind, ACK_WAIT)
                return
            popped = self._call(self._client.blpop, [acks], min(left, SOCKET_TIMEOUT / 2))
            if popped is not None:
                receivers -= 1

    def _flush_or_raise(self):
        try:
            self._flush()
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            raise self._unavailable(error) from error

    def _acknowledge(self, token: bytes):
        acks = f"{PREFIX}acks:{token.decode()}"
        pipe = self._client.pipeline(transaction=False)
        pipe.rpush(acks, 1)
        pipe.expire(acks, int(ACK_WAIT) + 10)
        pipe.execute()

    # -- the listener ------------------------------------------------------------------------------

    def _start_listening(self):
        """Start this process's listener (once) and wait until it is subscribed or has failed."""
        with self._lock:
            if self._listener is None and not self._closed:
                self._listener = threading.Thread(target=self._listen, name="redis-store-listener", daemon=True)
                self._listener.start()
        if not self._listening.wait(SOCKET_TIMEOUT * 2) and self._down is None:
            raise StoreUnavailable(f"cannot reach the store at {masked(self.url)}: no answer to SUBSCRIBE")

    def _listen(self):
        """Subscribe, apply messages, flush the buffer and ping; on any failure mark the store down and retry."""
        listener = threading.current_thread()
        while not self._closed and self._listener is listener:
            pubsub = None
            try:
                pubsub = self._client.pubsub()
                self._pubsub = pubsub
                pubsub.subscribe(self._channel)
                confirmed = pubsub.get_message(timeout=SOCKET_TIMEOUT)
                if confirmed is None or confirmed["type"] != "subscribe":
                    raise redis.TimeoutError(f"no answer to SUBSCRIBE within {SOCKET_TIMEOUT} s")
                # Subscribed: anything written from now on reaches us. What was written while we were not
                # listening is unknown, so the generation moves on and readers read the data again; a
                # Redis that came back empty is noticed before any request is answered again.
                self._check_epoch()
                self._learn()
                self._generation += 1
                self._down = None
                self._listening.set()
                self._serve(pubsub, listener)
            except Exception as error:  # noqa: BLE001 - any failure: down until a reconnect succeeds
                self._down = f"cannot reach the store at {masked(self.url)}: {error}"
                self._listening.set()  # readers waiting for the first subscription get the error
                if pubsub is not None and self._pubsub is pubsub:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: BLE001 - the connection is already broken
                        pass
                time.sleep(0.2)

    def _serve(self, pubsub, listener):
        last_heard = last_ping = time.monotonic()
        while not self._closed and self._listener is listener:
            message = pubsub.get_message(timeout=FLUSH_EVERY)
            now = time.monotonic()
            if message is not None:
                last_heard = now
                if message["type"] == "message":
                    kind, token, *what = message["data"].split(b" ", 2)
                    if kind == b"flush":
                        self._flush()
                    elif kind in (b"gen", b"reset"):
                        if what:
                            self._apply(kind, what[0])
                        self._generation += 1
                    self._acknowledge(token)
            if self._buffer:
                self._flush()
            if now - last_ping >= PING_EVERY:
                pubsub.ping()
                self._check_epoch()  # a flush drops no connection: only the epoch tells
                last_ping = now
            if now - last_heard > SILENCE_LIMIT:
                raise redis.TimeoutError(f"no answer to PING for {now - last_heard:.1f} s")

    def close(self):
        self._closed = True
        listener, self._listener = self._listener, None
        try:
            self._flush()
        except Exception:  # noqa: BLE001 - closing: what cannot be written is lost with the process
            pass
        if listener is not None:
            listener.join(PING_EVERY + SOCKET_TIMEOUT)
        if self._pubsub is not None:
            self._pubsub.close()
        self._client.close()
