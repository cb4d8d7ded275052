"""RedisStore beyond the contract: unreachable and paused Redis, recovery, pushed generations, bounded memory."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from conversations_mock.store import SHOWN_CHATBOTS, StoreLost, StoreUnavailable
from conversations_mock.store.redis import RedisStore, masked
from tests.helpers import free_port, wait_until_stopped

BOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
OTHER = "9a0e7d51-64b2-4f3c-8d1e-2b5a6c7d8e9f"


@pytest.mark.parametrize("url, shown", [
    ("redis://127.0.0.1:6390/0", "redis://127.0.0.1:6390/0"),
    ("redis://:s3cret@127.0.0.1:6390/0", "redis://:***@127.0.0.1:6390/0"),
    ("redis://user:s3cret@cache.internal/2", "redis://user:***@cache.internal/2"),
])
def test_the_url_is_shown_with_its_password_masked(url, shown):
    assert masked(url) == shown


@pytest.mark.parametrize("call", [
    lambda store: store.get_chatbot("ns", BOT),
    lambda store: store.put_chatbot("ns", BOT, b"[]"),
    lambda store: store.journal("ns"),
    lambda store: store.generation(),
], ids=["get", "put", "journal", "generation"])
def test_nothing_listening_is_store_unavailable_naming_the_url(call):
    store = RedisStore(f"redis://:s3cret@127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        call(store)
    assert time.monotonic() - started < 3
    assert "redis://:***@127.0.0.1:" in str(raised.value) and "s3cret" not in str(raised.value)
    store.close()


def _until(predicate, seconds):
    """Seconds it took `predicate()` to hold, polled every 50 ms; fails after `seconds`."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.05)
    return time.monotonic() - started


def _unavailable(call):
    try:
        call()
    except StoreUnavailable:
        return True
    return False


def _works(call):
    return not _unavailable(call)


def test_a_paused_redis_is_unavailable_within_seconds_and_the_same_store_recovers(redis_server, redis_url):
    store = RedisStore(redis_url)
    store.put_chatbot("ns", BOT, b"[1]")
    before = store.generation()
    redis_server.pause()
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=f"redis://127.0.0.1:{redis_server.port}/0"):
            store.get_chatbot("ns", BOT)
        assert time.monotonic() - started < 2
        # Readers learn it too, from the listener, without a round trip of their own.
        assert _until(lambda: _unavailable(store.generation), 4) < 4
    finally:
        redis_server.resume()
    assert _until(lambda: _works(store.generation), 5) < 5
    # What was written while the listener was away is unknown: readers must read the data again.
    assert store.generation() != before
    assert store.get_chatbot("ns", BOT) == b"[1]"
    store.put_chatbot("ns", BOT, b"[2]")
    assert store.get_chatbot("ns", BOT) == b"[2]"
    store.close()


READER = textwrap.dedent("""
    import sys
    lines = sys.stdin
    if sys.argv[3] == "gevent":  # as in gunicorn's gevent workers: the listener thread is a greenlet
        from gevent import monkey
        monkey.patch_all()
        from gevent.fileobject import FileObject
        lines = FileObject(sys.stdin.fileno(), "r", close=False)  # waiting for a line lets the listener run
    from conversations_mock.store.redis import RedisStore
    store = RedisStore(sys.argv[1])
    for line in lines:
        if line.strip() == "spin":
            for _ in range(20000):
                store.generation()
        print(store.generation(), store.get_chatbot("ns", sys.argv[2]), flush=True)
""")


@pytest.mark.parametrize("threads", ["threads", "gevent"])
def test_a_write_pushes_the_generation_to_a_store_in_another_process_without_polling(redis_server, redis_url, threads):
    reader = subprocess.Popen([sys.executable, "-c", READER, redis_url, BOT, threads], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)

    def ask(command):
        reader.stdin.write(command + "\n")
        reader.stdin.flush()
        return reader.stdout.readline().split()

    try:
        before, data = ask("read")
        assert data == "None"
        commands = redis_server.client.info("stats")["total_commands_processed"]
        ask("spin")
        # 20,000 generation() calls: a few listener pings and one GET, no round trip per call.
        assert redis_server.client.info("stats")["total_commands_processed"] - commands < 100
        writer = RedisStore(redis_url)
        started = time.monotonic()
        writer.put_chatbot("ns", BOT, b"[7]")
        assert time.monotonic() - started < 0.5  # acknowledged at once, not after the 2 s wait
        after, data = ask("read")
        assert after != before and data == "b'[7]'"
        writer.close()
    finally:
        reader.stdin.close()
        reader.wait(10)
        reader.stdout.close()
    assert reader.returncode == 0


def test_a_hundred_thousand_records_keep_redis_memory_bounded(redis_server, redis_url):
    store = RedisStore(redis_url, journal_size=100)
    store.record("ns", {"path": "/warm-up"})
    store.journal("ns")
    memory = redis_server.used_memory()
    commands = redis_server.client.info("stats")["total_commands_processed"]
    entry = {"method": "GET", "path": f"/chatbots/{BOT}/conversations", "query": "page=1", "status": 200}
    for number in range(100_000):
        store.record("ns", {**entry, "n": number})
    journal = store.journal("ns")
    assert [item["n"] for item in journal] == list(range(99_999, 99_899, -1))
    assert redis_server.client.llen("conversations-mock:journal:ns") == 100
    # Buffered and flushed in batches: far fewer commands than records.
    assert redis_server.client.info("stats")["total_commands_processed"] - commands < 10_000
    assert redis_server.used_memory() - memory < 200_000
    store.close()


def test_servers_flushing_thousands_of_namespaces_at_once_keep_at_most_the_bound(redis_server, redis_url):
    servers = [RedisStore(redis_url, journal_namespaces=20) for _ in range(3)]

    def journal_many(server, number):
        for n in range(2000):
            server.record(f"{number}-{n}", {"path": "/a", "n": n})
            if n % 100 == 0:
                time.sleep(0.005)  # spread over several flushes of every server's listener

    threads = [threading.Thread(target=journal_many, args=pair) for pair in zip(servers, range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    servers[0].journal("0-0")  # every server flushes what it still holds
    client = redis_server.client
    lists = list(client.scan_iter(match="conversations-mock:journal:*", count=1000))
    assert len(lists) == 20 and client.zcard("conversations-mock:journalled") == 20
    assert {key.decode().rsplit(":", 1)[1] for key in lists} == {
        member.decode() for member in client.zrange("conversations-mock:journalled", 0, -1)
    }
    for server in servers:
        server.close()


def test_a_write_returns_when_a_listener_is_stopped_after_waiting_a_bounded_time(redis_url):
    store = RedisStore(redis_url)
    stopped = subprocess.Popen([sys.executable, "-c", READER, redis_url, BOT, "threads"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        stopped.stdin.write("read\n")
        stopped.stdin.flush()
        stopped.stdout.readline()
        stopped.send_signal(19)  # SIGSTOP: subscribed, but acknowledges nothing
        wait_until_stopped(stopped.pid)  # a signal is delivered when it is: running on the other core, the
        started = time.monotonic()       # reader could still acknowledge the write, which then need not wait
        store.put_chatbot("ns", BOT, b"[1]")
        assert 1.5 < time.monotonic() - started < 3.5
        assert store.get_chatbot("ns", BOT) == b"[1]"
    finally:
        stopped.send_signal(18)
        stopped.stdin.close()
        stopped.wait(10)
        stopped.stdout.close()
    store.close()


def test_a_journal_read_while_the_listener_flushes_lists_the_newest_first(redis_url, monkeypatch):
    store = RedisStore(redis_url, journal_size=10)
    store.record("order", {"n": -1})
    store.journal("order")  # the listener is up
    flushing = threading.Event()
    pipeline = store._client.pipeline

    def slow_in_the_listener(*args, **kwargs):
        pipe = pipeline(*args, **kwargs)
        if threading.current_thread().name == "redis-store-listener" and not flushing.is_set():
            flushing.set()
            execute = pipe.execute
            pipe.execute = lambda: time.sleep(0.3) or execute()
        return pipe

    monkeypatch.setattr(store._client, "pipeline", slow_in_the_listener)
    for n in range(5):
        store.record("order", {"n": n})
    assert flushing.wait(2)  # the listener took 0..4 and is writing them, slowly
    for n in range(5, 10):
        store.record("order", {"n": n})
    # Read now: this thread's flush of 5..9 must not land before the listener's of 0..4.
    assert [entry["n"] for entry in store.journal("order")] == list(range(9, -1, -1))
    store.close()


def test_redis_py_parses_and_packs_with_hiredis():
    """pyproject asks for redis[hiredis]: the journal flush packs its entries in C (docs/benchmarks.md)."""
    import redis.connection
    from redis.utils import HIREDIS_AVAILABLE

    assert HIREDIS_AVAILABLE, "hiredis is missing or too old for redis-py: reinstall with `make setup`"
    assert redis.connection.DefaultParser.__name__ == "_HiredisParser"


def _until_lost(store, namespace, within=5.0):
    """The store's Loss for `namespace` once its listener has noticed (bounded), or None."""
    deadline = time.monotonic() + within
    while store.lost(namespace) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return store.lost(namespace)


def test_a_flushed_redis_loses_what_each_namespace_set_until_reset_or_set_again(redis_server, redis_url):
    writer, reader = RedisStore(redis_url), RedisStore(redis_url)  # as two servers
    late = None
    try:
        reader.generation()  # listening, as a worker is from its start
        writer.put_chatbot("bots", BOT, b"[1]")
        writer.put_faults("both", b"[]", [])
        writer.put_rate_limit("both", "5/s")
        writer.put_rate_limit("again", "5/s")
        assert reader.get_chatbot("bots", BOT) == b"[1]" and reader.lost("bots") is None
        redis_server.client.flushall()
        # A read finds the loss at once (the epoch comes with it), before the listener's next look.
        with pytest.raises(StoreLost) as raised:
            writer.chatbots("bots")
        assert f"lost this namespace's chatbot {BOT} (" in str(raised.value)
        for store in (writer, reader):
            loss = _until_lost(store, "bots")
            assert (loss.kinds, loss.chatbots) == (("chatbots",), (BOT,))
            assert _until_lost(store, "both").kinds == ("fault rules", "rate limit")
            assert store.lost("nothing-set") is None
        late = RedisStore(redis_url)  # a server started after the loss reports it too
        stores = (writer, reader, late)
        late.generation()
        assert late.lost("both").kinds == ("fault rules", "rate limit") and late.lost("nothing-set") is None
        writer.reset("bots")
        writer.put_rate_limit("again", "1/s")
        for store in stores:
            assert store.lost("bots") is None and store.lost("again") is None
            assert store.lost("both") is not None
            assert store.chatbots("bots") == {} and store.get_rate_limit("again") == "1/s"
        writer.reset_all()
        assert reader.lost("both") is None and late.lost("both") is None
        latest = RedisStore(redis_url)
        latest.generation()
        assert latest.lost("both") is None
        latest.close()
    finally:
        for store in (writer, reader, late):
            if store is not None:
                store.close()


def test_setting_one_kind_again_ends_its_loss_only_on_every_server_and_one_started_later(redis_server, server_store):
    writer, reader = server_store(), server_store()  # as two servers
    stores = [writer, reader]
    writer.put_chatbot("ns", BOT, b"[1]")
    writer.put_faults("ns", b"[]", [])
    writer.put_rate_limit("ns", "5/s")
    redis_server.client.flushall()
    for store in stores:
        assert _until_lost(store, "ns").kinds == ("chatbots", "fault rules", "rate limit")
    remaining = [("fault rules", "rate limit"), ("rate limit",)]
    for setter, set_again, left in ((reader, lambda: reader.put_chatbot("ns", BOT, b"[2]"), remaining[0]),
                                    (writer, lambda: writer.put_faults("ns", b"[]", []), remaining[1])):
        set_again()
        stores.append(server_store())  # a server started now reports what is still lost
        for store in stores:
            assert _holds_within(lambda: getattr(store.lost("ns"), "kinds", None) == left), (
                setter, store.lost("ns"))
            with pytest.raises(StoreLost) as raised:
                store.get_chatbot("ns", BOT)
            assert f"lost this namespace's {' and '.join(left)} " in str(raised.value)
            assert str(raised.value).endswith(f"or set its {' and '.join(left)} again.")
    writer.put_rate_limit("ns", "1/s")
    stores.append(server_store())
    for store in stores:
        assert _holds_within(lambda: store.lost("ns") is None)
        assert store.get_chatbot("ns", BOT) == b"[2]" and store.get_rate_limit("ns") == "1/s"


def test_setting_one_chatbot_again_ends_its_loss_only_and_the_namespace_answers_none_until_all_are_back(
        redis_server, server_store):
    writer, reader = server_store(), server_store()  # as two servers
    stores = [writer, reader]
    writer.put_chatbot("ns", BOT, b"[1]")
    writer.put_chatbot("ns", OTHER, b"[2]")
    redis_server.client.flushall()
    for store in stores:
        assert _until_lost(store, "ns").chatbots == tuple(sorted((BOT, OTHER)))
    reader.put_chatbot("ns", BOT, b"[3]")
    stores.append(server_store())  # a server started now reports what is still lost
    for store in stores:
        assert _holds_within(lambda: getattr(store.lost("ns"), "chatbots", None) == (OTHER,)), store.lost("ns")
        assert store.lost("ns").kinds == ("chatbots",)
        # Even the chatbot set again: a namespace answering half of what its test set would mislead it.
        with pytest.raises(StoreLost) as raised:
            store.get_chatbot("ns", BOT)
        assert f"lost this namespace's chatbot {OTHER} (" in str(raised.value)
        assert BOT not in str(raised.value)
        assert str(raised.value).endswith("or set that chatbot again.")
    writer.put_chatbot("ns", OTHER, b"[4]")
    for store in stores:
        assert _holds_within(lambda: store.lost("ns") is None), store.lost("ns")
        assert store.chatbots("ns") == {BOT: b"[3]", OTHER: b"[4]"}


def test_what_a_namespace_deleted_before_the_loss_is_not_reported_lost(redis_server, server_store):
    writer, reader = server_store(), server_store()  # as two servers
    writer.put_chatbot("deleted", BOT, b"[1]")
    writer.put_faults("deleted", b"[]", [])
    writer.put_rate_limit("deleted", "5/s")
    writer.put_chatbot("kept", BOT, b"[1]")
    writer.put_chatbot("kept", OTHER, b"[2]")
    reader.delete_chatbot("deleted", BOT)
    reader.delete_faults("deleted")
    reader.delete_rate_limit("deleted")
    writer.delete_chatbot("kept", BOT)
    middle = server_store()  # started after the deletes: learns which chatbots are set (HKEYS)
    redis_server.client.flushall()
    stores = [writer, reader, middle]
    for store in stores:
        loss = _until_lost(store, "kept")
        assert (loss.kinds, loss.chatbots) == (("chatbots",), (OTHER,)), loss
        assert store.lost("deleted") is None and store.get_chatbot("deleted", BOT) is None
    late = server_store()  # a server started after the loss
    stores.append(late)
    assert late.lost("kept").chatbots == (OTHER,) and late.lost("deleted") is None
    # Deleting a lost chatbot ends its loss too: the store holds none for it, as the test asks.
    reader.delete_chatbot("kept", OTHER)
    for store in stores:
        assert _holds_within(lambda: store.lost("kept") is None), store.lost("kept")
    assert server_store().lost("kept") is None


def test_a_loss_of_many_chatbots_names_the_first_few_and_counts_the_others(redis_server, redis_url):
    many = sorted(f"{number:08x}-0000-4000-8000-000000000000" for number in range(SHOWN_CHATBOTS + 3))
    writer = RedisStore(redis_url)
    late = None
    try:
        for chatbot in many:
            writer.put_chatbot("many", chatbot, b"[]")
        writer.put_faults("many", b"[]", [])
        redis_server.client.flushall()
        writer.put_chatbot("many", many[0], b"[]")  # noticed by the write: its chatbot is set again
        late = RedisStore(redis_url)  # reads what is left from the record in Redis
        late.generation()
        for store in (writer, late):
            with pytest.raises(StoreLost) as raised:
                store.chatbots("many")
            detail = str(raised.value)
            shown = ", ".join(many[1:SHOWN_CHATBOTS + 1])
            assert f"lost this namespace's chatbots ({shown} and 2 more) and fault rules (" in detail, detail
            assert many[0] not in detail and many[-1] not in detail
            assert detail.endswith("or set those chatbots and its fault rules again.")
    finally:
        for store in (writer, late):
            if store is not None:
                store.close()


def _holds_within(condition, within=5.0):
    """Whether `condition()` became true within `within` seconds (a bound, not a measurement)."""
    deadline = time.monotonic() + within
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_every_store_on_one_redis_follows_one_digest_key_made_anew_when_it_comes_back_empty(
        redis_server, redis_url):
    first, second = RedisStore(redis_url), RedisStore(redis_url)  # as two servers
    followed = {first: [], second: []}
    late = None
    try:
        keys = [store.digest_key(followed[store].append) for store in (first, second)]
        kept = redis_server.client.get("conversations-mock:digest-key")
        assert len(keys[0]) == 32 and keys[0] == keys[1] == kept
        for store in (first, second):
            store.generation()  # listening, as a worker is from its start
        redis_server.client.flushall()
        # Each listener looks at the epoch twice a second: both follow the one key the first to notice made.
        assert _holds_within(lambda: followed[first] and followed[second]), followed
        new = redis_server.client.get("conversations-mock:digest-key")
        assert followed[first] == followed[second] == [new] and new not in keys
        late = RedisStore(redis_url)  # a server started after the loss reads the same one
        assert late.digest_key(lambda key: None) == new
    finally:
        for store in (first, second, late):
            if store is not None:
                store.close()


def test_a_store_started_while_redis_is_unreachable_gives_its_digest_key_once_reached():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert store.digest_key(lambda key: None) is None  # the server starts, its journal keyed on its own
    finally:
        store.close()
