"""The daphne and autobahn internals signaling.transport relies on are still
the ones it was written for (it overrides them; daphne has no settings)."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version

import pytest
from daphne import ws_protocol

from signaling import transport


@pytest.mark.parametrize("dotted", sorted(transport.RELIES_ON))
def test_the_overridden_methods_keep_their_signatures(dotted: str):
    module_name, class_name, method = dotted.rsplit(".", 2)
    cls = getattr(importlib.import_module(module_name), class_name)
    parameters = tuple(inspect.signature(getattr(cls, method)).parameters)
    assert parameters == transport.RELIES_ON[dotted], f"{dotted} changed: re-check transport.py"


@pytest.mark.parametrize("package", sorted(transport.WRITTEN_FOR))
def test_daphne_and_autobahn_are_the_versions_transport_was_written_for(package: str):
    assert version(package) == transport.WRITTEN_FOR[package], (
        f"{package} was upgraded: check signaling/transport.py against it, then update WRITTEN_FOR"
    )


def test_daphnes_factory_builds_meets_protocol_with_the_protocols_frame_limit(settings):
    protocol = ws_protocol.WebSocketFactory.protocol
    assert issubclass(protocol, ws_protocol.WebSocketProtocol)
    assert protocol.maxMessagePayloadSize == settings.SIGNALING["MAX_FRAME"]
    assert protocol.maxFramePayloadSize == settings.SIGNALING["MAX_FRAME"]
