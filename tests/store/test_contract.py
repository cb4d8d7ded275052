"""The Store contract (app/store/__init__.py), held by every kind of store `store_factory` makes."""

import multiprocessing
import uuid

import orjson
import pytest

from conversations_mock.store import Store

CHATBOT = "0b7c4c8e-3f57-4c2a-9f0e-5d7f1c2a9b11"
OTHER = "9d5b1c0e-6a43-4f7e-8d21-0c3e5f4a7b99"
DATA = orjson.dumps([{"id": "a"}])
RULES = orjson.dumps([{"times": 2, "answer": {"code": 503}}, {"answer": {"delay": 10}}])


@pytest.fixture
def ns():
    """A namespace of this test's own, so stores shared between tests (a Redis server) never mix them."""
    return f"t-{uuid.uuid4().hex[:12]}"


def entry(path, n):
    return {"method": "GET", "path": path, "query": {}, "status": 200, "n": n}


def test_a_store_keeps_the_contract(store):
    assert isinstance(store, Store)


def test_put_then_get_returns_the_bytes(store, ns):
    store.put_chatbot(ns, CHATBOT, DATA)
    assert store.get_chatbot(ns, CHATBOT) == DATA
    assert store.get_chatbot(ns, OTHER) is None


def test_put_replaces(store, ns):
    store.put_chatbot(ns, CHATBOT, DATA)
    store.put_chatbot(ns, CHATBOT, b"[]")
    assert store.get_chatbot(ns, CHATBOT) == b"[]"


def test_delete_says_whether_anything_was_set(store, ns):
    store.put_chatbot(ns, CHATBOT, DATA)
    assert store.delete_chatbot(ns, CHATBOT) is True
    assert store.get_chatbot(ns, CHATBOT) is None
    assert store.delete_chatbot(ns, CHATBOT) is False


def test_chatbots_lists_a_namespace(store, ns):
    assert store.chatbots(ns) == {}
    store.put_chatbot(ns, CHATBOT, DATA)
    store.put_chatbot(ns, OTHER, b"[]")
    assert store.chatbots(ns) == {CHATBOT: DATA, OTHER: b"[]"}


def test_reset_forgets_data_and_journal_of_one_namespace(store, ns):
    store.put_chatbot(ns, CHATBOT, DATA)
    store.record(ns, entry("/a", 1))
    store.put_chatbot(ns + "x", CHATBOT, DATA)
    store.reset(ns)
    assert (store.chatbots(ns), store.journal(ns)) == ({}, [])
    assert store.chatbots(ns + "x") == {CHATBOT: DATA}


def test_reset_all_forgets_data_and_journal_of_every_namespace(store, ns):
    for namespace in (ns + "-a", ns + "-b"):
        store.put_chatbot(namespace, CHATBOT, DATA)
        store.record(namespace, entry("/a", 1))
    store.reset_all()
    for namespace in (ns + "-a", ns + "-b"):
        assert (store.chatbots(namespace), store.journal(namespace)) == ({}, [])
    store.record(ns + "-a", entry("/a", 2))  # and the journal goes on afterwards
    assert [e["n"] for e in store.journal(ns + "-a")] == [2]


@pytest.mark.parametrize("write", ["put", "delete", "reset", "reset_all", "put_faults", "delete_faults"])
def test_generation_changes_on_every_data_write(store, ns, write):
    store.put_chatbot(ns, CHATBOT, DATA)
    store.put_faults(ns, RULES, [2, None])
    before = store.generation()
    {
        "put": lambda: store.put_chatbot(ns, CHATBOT, b"[]"),
        "delete": lambda: store.delete_chatbot(ns, CHATBOT),
        "reset": lambda: store.reset(ns),
        "reset_all": store.reset_all,
        "put_faults": lambda: store.put_faults(ns, RULES, [2, None]),
        "delete_faults": lambda: store.delete_faults(ns),
    }[write]()
    assert store.generation() != before


def test_generation_stays_while_only_the_journal_changes(store, ns):
    before = store.generation()
    store.record(ns, entry("/a", 1))
    store.journal(ns)
    assert store.generation() == before


def test_journal_is_a_bounded_ring_newest_first(store_factory, ns):
    store = store_factory(journal_size=3)
    for n in range(5):
        store.record(ns, entry("/a", n))
    assert [e["n"] for e in store.journal(ns)] == [4, 3, 2]
    assert [e["n"] for e in store.journal(ns, limit=2)] == [4, 3]


def test_journal_filters_by_path(store, ns):
    for n, path in enumerate(["/a", "/b", "/a"]):
        store.record(ns, entry(path, n))
    assert [e["n"] for e in store.journal(ns, path="/a")] == [2, 0]
    assert store.journal(ns, path="/c") == []


def test_clear_journal_keeps_data(store, ns):
    store.put_chatbot(ns, CHATBOT, DATA)
    store.record(ns, entry("/a", 1))
    store.clear_journal(ns)
    assert store.journal(ns) == [] and store.get_chatbot(ns, CHATBOT) == DATA


def test_namespaces_never_see_each_other(store, ns):
    store.put_chatbot(ns + "-a", CHATBOT, DATA)
    store.record(ns + "-a", entry("/a", 1))
    assert store.get_chatbot(ns + "-b", CHATBOT) is None
    assert store.chatbots(ns + "-b") == {} and store.journal(ns + "-b") == []


def test_each_namespace_has_its_own_ring(store_factory, ns):
    store = store_factory(journal_size=2)
    for n in range(3):
        store.record(ns + "-a", entry("/a", n))
    store.record(ns + "-b", entry("/b", 9))
    assert [e["n"] for e in store.journal(ns + "-a")] == [2, 1]
    assert [e["n"] for e in store.journal(ns + "-b")] == [9]


def _child(store, ns, commands, answers):
    # In another process: do what the parent asks, and answer what it reads.
    for command, *args in iter(commands.get, None):
        if command == "put":
            store.put_chatbot(ns, CHATBOT, args[0])
            answers.put("done")
        else:
            answers.put((store.generation(), store.get_chatbot(ns, CHATBOT), len(store.journal(ns))))


def test_a_write_in_one_process_is_read_in_another_as_soon_as_it_returns(store, ns):
    context = multiprocessing.get_context("fork")  # as gunicorn forks its workers
    commands, answers = context.Queue(), context.Queue()
    child = context.Process(target=_child, args=(store, ns, commands, answers))
    child.start()
    try:
        for n in range(20):
            body = orjson.dumps([n])
            commands.put(("put", body))
            assert answers.get(timeout=10) == "done"
            assert store.get_chatbot(ns, CHATBOT) == body  # the child wrote, the parent reads
            generation = store.generation()
            store.put_chatbot(ns, CHATBOT, body + b" ")
            store.record(ns, entry("/a", n))
            commands.put(("read",))
            seen_generation, seen, journalled = answers.get(timeout=10)
            assert (seen, journalled) == (body + b" ", min(n + 1, 1000))
            assert seen_generation != generation
    finally:
        commands.put(None)
        child.join(10)
    assert child.exitcode == 0


# -- rate limits: a namespace's own limit, and each subject's fixed window ------------------------------

T0 = 1_765_000_000_000  # a test's clock, in ms: the stores' windows follow what they are given
SUBJECT = "9f86d081884c7d65"


def test_a_subjects_window_opens_at_its_first_request_and_counts_each_one(store, ns):
    assert [store.take(ns, SUBJECT, 1000, T0 + step) for step in (0, 10, 999)] == [(1, 1000), (2, 990), (3, 1)]


@pytest.mark.parametrize("late", [1000, 1001, 60_000])
def test_the_first_request_past_a_window_opens_the_next(store, ns, late):
    store.take(ns, SUBJECT, 1000, T0)
    store.take(ns, SUBJECT, 1000, T0 + 500)
    assert store.take(ns, SUBJECT, 1000, T0 + late) == (1, 1000)
    assert store.take(ns, SUBJECT, 1000, T0 + late + 1) == (2, 999)


def test_a_clock_that_went_back_opens_a_new_window(store, ns):
    store.take(ns, SUBJECT, 60_000, T0)
    assert store.take(ns, SUBJECT, 60_000, T0 - 5) == (1, 60_000)


def test_subjects_and_namespaces_count_apart(store, ns):
    store.take(ns, SUBJECT, 1000, T0)
    assert store.take(ns, SUBJECT + "x", 1000, T0) == (1, 1000)
    assert store.take(ns + "-b", SUBJECT, 1000, T0) == (1, 1000)
    assert store.take(ns, SUBJECT, 1000, T0) == (2, 1000)


def test_the_stores_own_clock_counts_without_a_given_one(store, ns):
    first, left = store.take(ns, SUBJECT, 3_600_000)
    assert first == 1 and 3_590_000 < left <= 3_600_000
    assert store.take(ns, SUBJECT, 3_600_000)[0] == 2


def test_a_namespaces_rate_limit_is_set_read_and_forgotten(store, ns):
    assert store.get_rate_limit(ns) is None
    store.put_rate_limit(ns, "3/s")
    assert (store.get_rate_limit(ns), store.get_rate_limit(ns + "-b")) == ("3/s", None)
    store.put_rate_limit(ns, "off")
    assert store.get_rate_limit(ns) == "off"
    assert store.delete_rate_limit(ns) is True
    assert store.get_rate_limit(ns) is None
    assert store.delete_rate_limit(ns) is False


@pytest.mark.parametrize("change", ["put", "delete", "reset", "reset_all"])
def test_changing_a_namespaces_limit_starts_its_budgets_afresh(store, ns, change):
    store.put_rate_limit(ns, "3/s")
    store.take(ns, SUBJECT, 60_000, T0)
    store.take(ns + "-b", SUBJECT, 60_000, T0)
    before = store.generation()
    {
        "put": lambda: store.put_rate_limit(ns, "5/min"),
        "delete": lambda: store.delete_rate_limit(ns),
        "reset": lambda: store.reset(ns),
        "reset_all": store.reset_all,
    }[change]()
    assert store.generation() != before  # workers caching the namespace's limit read it again
    assert store.take(ns, SUBJECT, 60_000, T0 + 1) == (1, 60_000)
    assert store.take(ns + "-b", SUBJECT, 60_000, T0 + 1)[0] == (1 if change == "reset_all" else 2)
    assert store.get_rate_limit(ns) == {"put": "5/min"}.get(change)


def _count(store, ns, takes, results):
    results.put([store.take(ns, SUBJECT, 3_600_000, T0)[0] for _ in range(takes)])


def test_counts_are_exact_across_processes(store, ns):
    context = multiprocessing.get_context("fork")  # as gunicorn forks its workers
    results = context.Queue()
    children = [context.Process(target=_count, args=(store, ns, 50, results)) for _ in range(4)]
    for child in children:
        child.start()
    counts = sorted(count for _ in children for count in results.get(timeout=30))
    for child in children:
        child.join(10)
    assert counts == list(range(1, 201))  # each request its own count: none lost, none twice


# -- fault rules -------------------------------------------------------------------------------------


def test_faults_are_read_back_with_what_is_left_of_each(store, ns):
    assert store.faults(ns) is None
    version = store.put_faults(ns, RULES, [2, None])
    assert store.faults(ns) == (version, RULES, (2, None))
    assert store.faults(ns + "x") is None


def test_put_faults_replaces_the_set_and_its_counts(store, ns):
    first = store.put_faults(ns, RULES, [2, None])
    store.spend(ns, first, 0)
    second = store.put_faults(ns, b"[{}]", [5])
    assert second != first
    assert store.faults(ns) == (second, b"[{}]", (5,))
    assert store.spend(ns, first, 0) is False  # a spend meant for the replaced set counts against nothing
    assert store.faults(ns).left == (5,)


def test_spend_takes_exactly_times_then_refuses(store, ns):
    version = store.put_faults(ns, RULES, [2, None])
    assert [store.spend(ns, version, 0) for _ in range(4)] == [True, True, False, False]
    assert store.spend(ns, version, 1) is False  # a rule without times has nothing to take
    assert store.spend(ns, version, 7) is False  # nor a rule the set does not have
    assert store.faults(ns).left == (0, None)


def test_spend_leaves_the_generation(store, ns):
    version = store.put_faults(ns, RULES, [2, None])
    before = store.generation()
    store.spend(ns, version, 0)
    assert store.generation() == before


def test_delete_faults_says_whether_any_were_set(store, ns):
    store.put_faults(ns, RULES, [2, None])
    assert store.delete_faults(ns) is True
    assert store.faults(ns) is None
    assert store.delete_faults(ns) is False


@pytest.mark.parametrize("reset", ["reset", "reset_all"])
def test_resets_forget_fault_rules(store, ns, reset):
    version = store.put_faults(ns, RULES, [2, None])
    store.put_faults(ns + "-other", RULES, [2, None])
    store.reset(ns) if reset == "reset" else store.reset_all()
    assert store.faults(ns) is None
    assert store.spend(ns, version, 0) is False
    assert (store.faults(ns + "-other") is None) == (reset == "reset_all")


def _spender(store, ns, version, tries, taken):
    taken.put(sum(store.spend(ns, version, 0) for _ in range(tries)))


def test_spend_is_exact_across_concurrent_processes(store, ns):
    context = multiprocessing.get_context("fork")  # as gunicorn forks its workers
    version = store.put_faults(ns, RULES, [37, None])
    taken = context.Queue()
    children = [context.Process(target=_spender, args=(store, ns, version, 20, taken)) for _ in range(4)]
    for child in children:
        child.start()
    counts = [taken.get(timeout=30) for _ in children]
    for child in children:
        child.join(10)
    assert sum(counts) == 37 and all(child.exitcode == 0 for child in children)
    assert store.faults(ns).left == (0, None)


# -- counters --------------------------------------------------------------------------------------


def test_count_counts_from_one_per_name_and_namespace(store, ns):
    assert [store.count(ns, "a") for _ in range(3)] == [1, 2, 3]
    assert store.count(ns, "b") == 1
    assert store.count(ns + "x", "a") == 1


@pytest.mark.parametrize("reset", ["reset", "reset_all"])
def test_resets_start_counters_again(store, ns, reset):
    store.count(ns, "a")
    store.count(ns, "a")
    store.reset(ns) if reset == "reset" else store.reset_all()
    assert store.count(ns, "a") == 1


def _counter(store, ns, tries, seen):
    seen.put([store.count(ns, "a") for _ in range(tries)])


def test_count_gives_each_call_its_own_value_across_concurrent_processes(store, ns):
    context = multiprocessing.get_context("fork")
    seen = context.Queue()
    children = [context.Process(target=_counter, args=(store, ns, 25, seen)) for _ in range(4)]
    for child in children:
        child.start()
    values = [value for _ in children for value in seen.get(timeout=30)]
    for child in children:
        child.join(10)
    assert sorted(values) == list(range(1, 101))


def test_journal_keeps_an_entrys_times_to_the_microsecond_and_its_retry_after(store, ns):
    # The verdicts (web/verdicts.py) compare when requests arrived with an answer's Retry-After.
    kept = {"time": 1765000000.123456, "received": 1765000000.000789, "retry_after": 2, "status": 503,
            "path": "/a", "request_id": "r1"}
    store.record(ns, kept)
    [read] = store.journal(ns)
    assert (read["time"], read["received"], read["retry_after"]) == (1765000000.123456, 1765000000.000789, 2)
