import asyncio
from typing import Any

import pytest
from channels import layers
from channels.layers import InMemoryChannelLayer as StockLayer

from signaling.layers import InMemoryChannelLayer, OriginAwareShard, RedisPubSubChannelLayer


async def test_relaying_does_not_sweep_every_channel_on_every_message(monkeypatch):
    sweeps = []
    monkeypatch.setattr(StockLayer, "_clean_expired", lambda self: sweeps.append(1))
    layer = InMemoryChannelLayer()
    for number in range(50):
        await layer.send("specific.test!a", {"type": "peer.signal", "n": number})
        assert (await layer.receive("specific.test!a"))["n"] == number
    assert len(sweeps) == 1


async def test_expired_messages_are_still_dropped_by_the_next_sweep(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(layers.time, "time", lambda: clock[0])
    layer = InMemoryChannelLayer(expiry=60)
    layer.sweep_interval = 0.0
    await layer.send("specific.test!gone", {"type": "peer.signal"})
    await layer.group_add("room.1", "specific.test!gone")
    clock[0] += 61
    await layer.send("specific.test!live", {"type": "peer.signal", "n": 1})
    assert (await layer.receive("specific.test!live"))["n"] == 1
    assert "specific.test!gone" not in layer.channels
    assert "specific.test!gone" not in layer.groups.get("room.1", {})


def two_processes(redis_url: str) -> tuple[RedisPubSubChannelLayer, RedisPubSubChannelLayer]:
    """Two layer instances on one Redis behave like two server processes."""
    config: dict[str, Any] = {"hosts": [redis_url], "prefix": "test"}
    return RedisPubSubChannelLayer(**config), RedisPubSubChannelLayer(**config)


async def receive(layer, channel: str) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout=5)


@pytest.mark.redis
async def test_sends_between_consumers_of_one_process_skip_redis(redis_url, monkeypatch):
    here, _ = two_processes(redis_url)
    published = []

    async def publish(self, channel, data):
        published.append(channel)

    monkeypatch.setattr(OriginAwareShard, "publish", publish)
    channel = await here.new_channel()
    await here.send(channel, {"type": "peer.signal", "text": "offer"})
    assert (await receive(here, channel))["text"] == "offer"
    assert published == []
    await here.flush()


@pytest.mark.redis
async def test_group_message_reaches_every_member_once_in_either_process(redis_url):
    here, elsewhere = two_processes(redis_url)
    local, remote = await here.new_channel(), await elsewhere.new_channel()
    await here.group_add("room.1", local)
    await elsewhere.group_add("room.1", remote)
    await here.group_send("room.1", {"type": "peer.joined", "n": 1})
    await here.group_send("room.1", {"type": "peer.joined", "n": 2})
    assert [(await receive(here, local))["n"] for _ in range(2)] == [1, 2]
    assert [(await receive(elsewhere, remote))["n"] for _ in range(2)] == [1, 2]
    # Our own group message came back from Redis too, and was not delivered twice.
    await elsewhere.group_send("room.1", {"type": "peer.left", "n": 3})
    assert (await receive(here, local))["n"] == 3
    assert (await receive(elsewhere, remote))["n"] == 3
    await here.flush()
    await elsewhere.flush()


@pytest.mark.redis
async def test_a_newcomers_announcement_arrives_before_its_offer_in_both_processes(redis_url):
    here, elsewhere = two_processes(redis_url)
    newcomer, local_peer = await here.new_channel(), await here.new_channel()
    remote_peer = await elsewhere.new_channel()
    for layer, channel in ((here, newcomer), (here, local_peer), (elsewhere, remote_peer)):
        await layer.group_add("room.1", channel)
    await here.group_send("room.1", {"type": "peer.joined"})
    await here.send(local_peer, {"type": "peer.signal"})
    await here.send(remote_peer, {"type": "peer.signal"})
    assert [(await receive(here, local_peer))["type"] for _ in range(2)] == [
        "peer.joined",
        "peer.signal",
    ]
    assert [(await receive(elsewhere, remote_peer))["type"] for _ in range(2)] == [
        "peer.joined",
        "peer.signal",
    ]
    await here.flush()
    await elsewhere.flush()


@pytest.mark.redis
async def test_a_pubsub_channel_nobody_reads_holds_at_most_its_capacity(redis_url, caplog):
    here, elsewhere = two_processes(redis_url)
    here.capacity = 10
    channel = await here.new_channel()
    await here.group_add("room.9", channel)
    for n in range(30):
        await here.send(channel, {"type": "peer.signal", "n": n})
        await elsewhere.group_send("room.9", {"type": "peer.joined", "n": 100 + n})
    queue = here._get_layer().channels[channel]
    for _ in range(100):  # the remote ones arrive through the subscriber
        if "dropped" in caplog.text and queue.full():
            break
        await asyncio.sleep(0.02)
    assert queue.qsize() == 10
    assert "channel full" in caplog.text
    assert [(await receive(here, channel))["n"] for _ in range(10)] == list(range(10))
    await here.flush()
    await elsewhere.flush()


@pytest.mark.redis
async def test_an_attached_receiver_gets_local_and_remote_messages_in_order(redis_url):
    here, elsewhere = two_processes(redis_url)
    channel = await here.new_channel()
    got: list[int] = []
    here.attach(channel, lambda message: got.append(message["n"]))
    await here.group_add("room.3", channel)
    await here.send(channel, {"type": "x", "n": 1})
    await here.group_send("room.3", {"type": "x", "n": 2})
    assert got == [1, 2]  # at once, in the sender's task
    await elsewhere.send(channel, {"type": "x", "n": 3})
    await elsewhere.group_send("room.3", {"type": "x", "n": 4})
    for _ in range(250):
        if len(got) == 4:
            break
        await asyncio.sleep(0.02)
    assert got == [1, 2, 3, 4]
    await here.detach(channel)
    assert channel not in here._get_layer().channels
    await here.flush()
    await elsewhere.flush()


@pytest.mark.redis
async def test_send_soon_keeps_the_senders_order_with_sends_and_group_sends(redis_url):
    here, elsewhere = two_processes(redis_url)
    channel = await elsewhere.new_channel()
    await elsewhere.group_add("room.4", channel)
    failures: list[BaseException] = []
    here.send_soon(channel, {"type": "x", "n": 1}, failures.append)
    await here.group_send("room.4", {"type": "x", "n": 2})
    here.send_soon(channel, {"type": "x", "n": 3}, failures.append)
    here.send_soon(channel, {"type": "x", "n": 4}, failures.append)
    await here.send(channel, {"type": "x", "n": 5})
    assert [(await receive(elsewhere, channel))["n"] for _ in range(5)] == [1, 2, 3, 4, 5]
    assert failures == []
    # To a channel of this process it is delivered at once.
    local: list[int] = []
    mine = await here.new_channel()
    here.attach(mine, lambda message: local.append(message["n"]))
    here.send_soon(mine, {"type": "x", "n": 6}, failures.append)
    assert local == [6]
    await here.flush()
    await elsewhere.flush()


async def test_a_send_soon_that_cannot_reach_redis_reports_its_failure():
    layer = RedisPubSubChannelLayer(hosts=["redis://127.0.0.1:1/0"], prefix="test")
    failed = asyncio.Event()
    failures: list[BaseException] = []

    def report(exc: BaseException) -> None:
        failures.append(exc)
        failed.set()

    layer.send_soon("specific.elsewhere!a", {"type": "x"}, report)
    layer.send_soon("specific.elsewhere!b", {"type": "x"}, report)
    await asyncio.wait_for(failed.wait(), timeout=10)
    assert len(failures) == 2
    with pytest.raises(Exception):  # noqa: B017, PT011  (whatever redis-py raises)
        await layer.send("specific.elsewhere!c", {"type": "x"})
    await layer.flush()


async def test_the_in_memory_layer_hands_attached_channels_their_messages_at_once():
    layer = InMemoryChannelLayer()
    got: list[dict] = []
    layer.attach("specific.test!a", got.append)
    await layer.group_add("room.1", "specific.test!a")
    await layer.group_add("room.1", "specific.test!b")
    message = {"type": "peer.joined", "n": 1}
    await layer.group_send("room.1", message)
    await layer.send("specific.test!a", {"type": "peer.signal", "n": 2})
    assert [m["n"] for m in got] == [1, 2]
    assert got[0] is message  # no copy
    assert (await layer.receive("specific.test!b"))["n"] == 1  # the others as before
    await layer.detach("specific.test!a")
    await layer.send("specific.test!a", {"type": "x"})
    assert len(got) == 2
