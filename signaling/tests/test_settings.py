"""The channel-layer and signaling settings the deployment relies on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from channels_redis.core import RedisChannelLayer

from meet.settings import channel_layers_for
from tests.servers import ROOT


def test_core_layer_reads_outlast_its_blocking_pop():
    """redis-py's default 5 s read timeout would race the layer's 5 s BZPOPMIN
    and kill idle consumers."""
    config = channel_layers_for("redis://127.0.0.1:6379/0", "core", 86400)["default"]["CONFIG"]
    (host,) = config["hosts"]
    assert host["socket_timeout"] > RedisChannelLayer.brpop_timeout
    assert config["group_expiry"] == 86400


def test_one_redis_only():
    for layer in ("core", "pubsub"):
        config = channel_layers_for("redis://r:6379/0", layer, 86400)["default"]["CONFIG"]
        assert len(config["hosts"]) == 1


def test_no_redis_means_in_memory():
    backend = channel_layers_for("", "pubsub", 60)["default"]["BACKEND"]
    assert backend == "signaling.layers.InMemoryChannelLayer"


def settings_in_child(**env: str) -> str:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.SIGNALING, settings.CHANNEL_LAYERS['default']['BACKEND']]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_environment_overrides_signaling_values_and_picks_pubsub_by_default():
    import json

    signaling, backend = json.loads(
        settings_in_child(
            SIGNALING_TICK="0.25", SIGNALING_RATE="80", REDIS_URL="redis://127.0.0.1:1/0"
        )
    )
    assert signaling["TICK"] == 0.25
    assert signaling["RATE"] == 80
    assert signaling["HEARTBEAT_TIMEOUT"] == 25
    assert backend == "signaling.layers.RedisPubSubChannelLayer"


def test_unknown_layer_is_refused():
    with pytest.raises(subprocess.CalledProcessError):
        settings_in_child(REDIS_URL="redis://127.0.0.1:1/0", CHANNEL_LAYER="sharded")
