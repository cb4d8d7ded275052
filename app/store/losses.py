"""What a namespace set in a shared store, part by part, and what it lost when the store came back empty.

A part is what one write sets: ("chatbots", the chatbot's id), ("fault rules", "") or ("rate limit", "").
A RedisStore process knows the parts each namespace set in the store's epoch; when the epoch changes, they
are its Loss, which ends part by part as each is set again (or deleted). The Loss is also kept in Redis
(`lost`, one JSON record per namespace) for servers started afterwards, and narrowed there by FOUND_AGAIN.

Usage::

    loss = loss_of("redis://127.0.0.1:6379/0", {("chatbots", chatbot_id), ("fault rules", "")}, time.time())
    left = loss_of(loss.store, parts_of(loss) - {("fault rules", "")}, loss.since)
"""

import orjson

from conversations_mock.store import Loss

# What a namespace still has lost once it sets (or deletes) one part again: a chatbot (ARGV[2] "chatbots",
# ARGV[3] its id) leaves the record's chatbots, and the kind goes with the last of them; "fault rules" or
# "rate limit" (ARGV[3] '') leaves its kinds; the record goes with its last kind. Atomic, so two servers
# setting two parts at once leave neither behind. KEYS[1]: the `lost` hash; ARGV[1]: the namespace.
# cjson writes an empty table as {}, not []: an empty list of chatbots is left out.
FOUND_AGAIN = """
local recorded = redis.call('HGET', KEYS[1], ARGV[1])
if not recorded then return 0 end
local loss = cjson.decode(recorded)
local chatbots = {}
if type(loss.chatbots) == 'table' then
  for _, id in ipairs(loss.chatbots) do
    if ARGV[2] ~= 'chatbots' or id ~= ARGV[3] then table.insert(chatbots, id) end
  end
end
local kinds = {}
for _, kind in ipairs(loss.kinds) do
  if kind ~= ARGV[2] or (kind == 'chatbots' and #chatbots > 0) then table.insert(kinds, kind) end
end
if #kinds == 0 then return redis.call('HDEL', KEYS[1], ARGV[1]) end
loss.kinds = kinds
loss.chatbots = nil
if #chatbots > 0 then loss.chatbots = chatbots end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(loss))
return 1
"""


def loss_of(store: str, parts: frozenset, since: float) -> Loss | None:
    """The Loss of these parts, noticed at `since` in the store at `store`; None when there are none."""
    kinds = tuple(sorted({kind for kind, _ in parts}))
    chatbots = tuple(sorted(chatbot for kind, chatbot in parts if kind == "chatbots"))
    return Loss(store, kinds, since, chatbots) if kinds else None


def parts_of(loss: Loss | None) -> frozenset:
    """The parts a Loss names (none for None)."""
    if loss is None:
        return frozenset()
    return frozenset({(kind, "") for kind in loss.kinds if kind != "chatbots"} |
                     {("chatbots", chatbot) for chatbot in loss.chatbots})


def record(loss: Loss) -> bytes:
    """The Loss as kept in Redis's `lost` hash (the store's location is each reader's own)."""
    return orjson.dumps({"kinds": loss.kinds, "chatbots": loss.chatbots, "since": loss.since})


def from_record(store: str, recorded: bytes) -> Loss:
    """The Loss a `lost` record keeps (FOUND_AGAIN leaves out an empty list of chatbots)."""
    found = orjson.loads(recorded)
    return Loss(store, tuple(found["kinds"]), found["since"], tuple(found.get("chatbots") or ()))
