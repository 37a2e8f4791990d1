"""Unit tests of the retry de-duplication and button memory, on a scaled-down clock.

WeChat's real timings (5 s per delivery, 3 deliveries) are scaled by 1/50 here:
`WECHAT_CUTOFF` is how long a simulated WeChat waits before hanging up and retrying.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from channels.wechat.state import RecentButtons, ReplyCache, SharedReplies

WECHAT_CUTOFF = 0.1
LATE = "正在查询，答案稍后发给您。"
UNSENT = "正在查询，答案有所延迟。"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Bot:
    """A bot turn that takes `seconds` and counts how often it ran."""

    def __init__(self, seconds: float = 0.0, answer: str = "第23条 税费综合申报（区税务局）"):
        self.seconds, self.answer, self.turns = seconds, answer, 0

    async def turn(self) -> str:
        self.turns += 1
        await asyncio.sleep(self.seconds)
        return self.answer


def scaled_cache(**overrides) -> ReplyCache:
    settings = {"late_reply": LATE, "reply_budget": 0.09, "hold": 0.12} | overrides
    return ReplyCache(**settings)


class Outbox:
    """Where late answers go (the customer-service messages), as `send_later`."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, answer: str) -> None:
        self.sent.append(answer)


async def deliver(cache: ReplyCache, key: str, bot: Bot, outbox: Outbox | None = None) -> str | None:
    """One delivery as WeChat makes it: hang up (None) when no reply within the cutoff."""
    send_later = outbox.send if outbox is not None else None
    try:
        return await asyncio.wait_for(cache.answer(key, bot.turn, send_later), WECHAT_CUTOFF)
    except asyncio.TimeoutError:
        return None


async def test_fast_turn_is_answered_on_the_first_delivery() -> None:
    cache, bot = scaled_cache(), Bot()
    assert await deliver(cache, "msg:1", bot) == bot.answer


async def test_retry_of_an_answered_message_gets_the_same_reply_without_a_new_turn() -> None:
    cache, bot = scaled_cache(), Bot()
    first = await deliver(cache, "msg:1", bot)
    bot.answer = "a different answer"
    assert await deliver(cache, "msg:1", bot) == first
    assert bot.turns == 1


async def test_concurrent_deliveries_share_one_turn() -> None:
    cache, bot = scaled_cache(), Bot(seconds=0.03)
    replies = await asyncio.gather(*(deliver(cache, "msg:1", bot) for _ in range(3)))
    assert replies == [bot.answer] * 3 and bot.turns == 1


async def test_slow_turn_is_delivered_on_a_retry_instead_of_a_wait_message() -> None:
    cache, bot = scaled_cache(), Bot(seconds=0.15)  # > one delivery, < two
    assert await deliver(cache, "msg:1", bot) is None  # WeChat hangs up and retries
    assert await deliver(cache, "msg:1", bot) == bot.answer
    assert bot.turns == 1


async def test_turn_slower_than_all_deliveries_gets_the_late_reply_in_time() -> None:
    cache, bot = scaled_cache(), Bot(seconds=1.0)
    replies = [await deliver(cache, "msg:1", bot) for _ in range(3)]
    assert replies == [None, None, LATE]
    assert bot.turns == 1


async def test_a_late_last_delivery_says_the_answer_follows_and_it_is_sent_once() -> None:
    cache, bot, outbox = scaled_cache(), Bot(seconds=0.6), Outbox()
    replies = [await deliver(cache, "msg:1", bot, outbox) for _ in range(3)]
    assert replies == [None, None, LATE]
    # A stray extra delivery before the turn ends arranges no second message.
    assert await deliver(cache, "msg:1", bot, outbox) == LATE
    assert outbox.sent == []
    await asyncio.sleep(0.4)
    assert outbox.sent == [bot.answer] and bot.turns == 1
    assert await deliver(cache, "msg:1", bot, outbox) == bot.answer  # later retries: the answer
    await asyncio.sleep(0.05)
    assert outbox.sent == [bot.answer]


async def test_an_answer_in_time_for_the_last_delivery_is_not_sent_again() -> None:
    cache, bot, outbox = scaled_cache(), Bot(seconds=0.25), Outbox()
    replies = [await deliver(cache, "msg:1", bot, outbox) for _ in range(3)]
    assert replies == [None, None, bot.answer]
    await asyncio.sleep(0.1)
    assert outbox.sent == []


async def test_without_a_way_to_send_later_the_last_delivery_says_the_answer_is_delayed() -> None:
    cache, bot = scaled_cache(unsent_late_reply=UNSENT), Bot(seconds=0.6)
    assert [await deliver(cache, "msg:1", bot) for _ in range(3)] == [None, None, UNSENT]


async def test_a_failing_send_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Unreachable(Outbox):
        async def send(self, answer: str) -> None:
            raise ConnectionError("WeChat unreachable")

    cache, bot = scaled_cache(), Bot(seconds=0.35)
    assert [await deliver(cache, "msg:1", bot, Unreachable()) for _ in range(3)] == [None, None, LATE]
    await asyncio.sleep(0.2)
    assert "sending the late answer to msg:1 failed" in caplog.text


async def test_hanging_up_does_not_cancel_the_turn() -> None:
    cache, bot = scaled_cache(), Bot(seconds=0.15)
    await deliver(cache, "msg:1", bot)
    await asyncio.sleep(0.1)
    # The turn finished in the background: a late retry is answered at once.
    assert await asyncio.wait_for(cache.answer("msg:1", bot.turn), 0.01) == bot.answer


async def test_answers_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache, bot = scaled_cache(ttl=60, clock=clock), Bot()
    await deliver(cache, "msg:1", bot)
    clock.now += 61
    await deliver(cache, "msg:1", bot)
    assert bot.turns == 2 and len(cache) == 1


async def test_cache_is_bounded() -> None:
    cache, bot = scaled_cache(max_entries=5), Bot()
    for n in range(20):
        await deliver(cache, f"msg:{n}", bot)
    assert len(cache) == 5


def test_typed_button_title_maps_to_its_payload() -> None:
    buttons = RecentButtons()
    buttons.remember(
        "oA", [{"title": "更多", "payload": "/more"}, {"title": "人工服务", "payload": "/human"}]
    )
    assert buttons.payload_for("oA", "更多") == "/more"
    assert buttons.payload_for("oA", " “人工服务” ") == "/human"
    assert buttons.payload_for("oA", "更多的税收优惠") is None
    assert buttons.payload_for("oB", "更多") is None


def test_a_reply_without_buttons_forgets_the_old_ones() -> None:
    buttons = RecentButtons()
    buttons.remember("oA", [{"title": "更多", "payload": "/more"}])
    buttons.remember("oA", [])
    assert buttons.payload_for("oA", "更多") is None


@pytest.mark.parametrize("elapsed, expected", [(60.0, "/more"), (1801.0, None)])
def test_remembered_buttons_expire(elapsed: float, expected: str | None) -> None:
    clock = FakeClock()
    buttons = RecentButtons(ttl=1800, clock=clock)
    buttons.remember("oA", [{"title": "更多", "payload": "/more"}])
    clock.now += elapsed
    assert buttons.payload_for("oA", "更多") == expected


def test_button_memory_is_bounded() -> None:
    buttons = RecentButtons(max_users=3)
    for n in range(10):
        buttons.remember(f"o{n}", [{"title": "更多", "payload": "/more"}])
    assert buttons.payload_for("o0", "更多") is None
    assert buttons.payload_for("o9", "更多") == "/more"


REDIS = "redis://127.0.0.1:6379/13"


def replica(url: str = REDIS, prefix: str = "") -> ReplyCache:
    """The reply cache of one Rasa replica, sharing replies through Redis."""
    return scaled_cache(shared=SharedReplies(url, ttl=2, poll=0.005, prefix=prefix))


async def connected_replicas(count: int, prefix: str) -> list[ReplyCache]:
    """Replicas whose Redis connections are open: the scaled 0.1 s clock leaves no time to connect."""
    caches = [replica(prefix=prefix) for _ in range(count)]
    for cache in caches:
        assert cache.shared is not None and await cache.shared.ping()
    return caches


@pytest.mark.redis
async def test_a_retry_on_another_replica_joins_the_first_turn() -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    a, b = await connected_replicas(2, prefix)
    bot_a, bot_b = Bot(seconds=0.03, answer="A 的回答"), Bot(seconds=0.03, answer="B 的回答")
    replies = await asyncio.gather(deliver(a, "msg:1", bot_a), deliver(b, "msg:1", bot_b))
    assert bot_a.turns + bot_b.turns == 1, "one bot turn for the message across replicas"
    assert replies[0] == replies[1] and replies[0] in ("A 的回答", "B 的回答")
    later = Bot(answer="第三次")
    (c,) = await connected_replicas(1, prefix)
    assert await deliver(c, "msg:1", later) == replies[0] and later.turns == 0


@pytest.mark.redis
async def test_a_slow_turn_on_one_replica_reaches_a_retry_on_the_other() -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    a, b = await connected_replicas(2, prefix)
    slow, idle = Bot(seconds=0.15), Bot(answer="不该出现")
    assert await deliver(a, "msg:1", slow) is None  # WeChat hangs up on replica A…
    assert await deliver(b, "msg:1", idle) == slow.answer  # …and its retry lands on B
    assert (slow.turns, idle.turns) == (1, 0)


@pytest.mark.redis
@pytest.mark.parametrize("order", ["aba", "abb", "abab"])
async def test_a_late_answer_is_sent_once_across_replicas(order: str) -> None:
    # WeChat's deliveries of one slow message reach replicas in `order`; the turn runs on A.
    prefix = f"test:{uuid.uuid4().hex}:"
    replicas = dict(zip("ab", await connected_replicas(2, prefix), strict=True))
    outboxes = {"a": Outbox(), "b": Outbox()}
    slow, idle = Bot(seconds=0.6), Bot(answer="不该出现")
    replies = []
    for name in order:
        bot = slow if name == "a" else idle
        replies.append(await deliver(replicas[name], "msg:1", bot, outboxes[name]))
    assert replies == [None, None] + [LATE] * (len(order) - 2)
    await asyncio.sleep(0.5)
    assert outboxes["a"].sent + outboxes["b"].sent == [slow.answer]
    assert (slow.turns, idle.turns) == (1, 0)
    # The replica that answered the last delivery late is the one that sends.
    assert outboxes[order[2]].sent == [slow.answer]


async def test_without_redis_each_replica_still_answers() -> None:
    down = "redis://127.0.0.1:1/0"
    a, b = replica(down), replica(down)
    bot_a, bot_b = Bot(answer="A"), Bot(answer="B")
    assert [await deliver(a, "msg:1", bot_a), await deliver(b, "msg:1", bot_b)] == ["A", "B"]
