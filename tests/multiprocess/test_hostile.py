"""bench/hostile.py against a real server: no attack disturbs two members who
keep exchanging offers, answers and candidates throughout."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from accounts.models import User
from tests.servers import ROOT
from tests.sessions import session_for

from .conftest import Meeting

pytestmark = [pytest.mark.multiprocess, pytest.mark.redis]


# The core layer passes most runs, but a socket closing while its consumer
# holds the process-wide BZPOPMIN can take another socket's message with it
# (django/channels#1683); the connection churn here sometimes hits that. It is
# why pub/sub is the default (docs/deployment.md).
CORE_LOSES_UNDER_CHURN = pytest.mark.xfail(
    strict=False, reason="channels-redis core layer can drop a relay when another socket closes"
)


@pytest.mark.parametrize("layer", ["pubsub", pytest.param("core", marks=CORE_LOSES_UNDER_CHURN)])
def test_hostile_client_cannot_disturb_a_room(meeting: Meeting, start_server, layer: str):
    server = start_server(layer)
    outsider = User.objects.create_user("outsider", password="pw")
    command = [
        sys.executable, str(ROOT / "bench" / "hostile.py"),
        "--url", server.ws_url,
        "--room", meeting.room.slug,
        "--member", meeting.members[0].session,
        "--member", meeting.members[1].session,
        "--attacker", meeting.members[2].session,
        "--outsider", session_for(outsider),
        "--duration", "3",
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert finished.stdout, finished.stderr
    report = json.loads(finished.stdout)
    print(json.dumps(report, indent=2))
    failed = [attack for attack in report["attacks"] if not attack["ok"]]
    assert not failed, failed
    exchange = report["exchange"]
    assert exchange["violations"] == []
    assert exchange["member_closes"] == []
    assert exchange["round_trips"] > 10
    assert exchange["forged_frames_stamped_with_attacker"] == 4
    assert report["ok"], report
    assert finished.returncode == 0
