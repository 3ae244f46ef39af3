"""The coturn configuration in docs/deployment.md, run by the real coturn:
it relays only to public addresses, accepts the credentials meet mints until
they expire, and holds one account to its quota."""

from __future__ import annotations

import ipaddress
import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from signaling.turn import ice_config
from tests.servers import ROOT, CoturnServer
from tests.turn_client import TurnClient

SECRET = "documented-coturn-secret-for-tests"
# A user id per test: coturn frees a released allocation's quota only later.
USER_IDS = itertools.count(1)
DEPLOYMENT = ROOT / "docs" / "deployment.md"
# What only a production host has (its addresses, certificates, port range,
# secret) is replaced by loopback values; everything else runs as written.
HOST_SPECIFIC = {
    "listening-port", "tls-listening-port", "external-ip", "cert", "pkey",
    "static-auth-secret", "min-port", "max-port",
}  # fmt: skip


def documented_config() -> str:
    match = re.search(r"```ini\n(# turnserver\.conf.*?)```", DEPLOYMENT.read_text(), re.DOTALL)
    assert match, "docs/deployment.md has the turnserver.conf block"
    return match[1]


def options(config: str) -> list[tuple[str, str]]:
    pairs = []
    for line in config.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs.append((key, value))
    return pairs


class DocumentedCoturn(CoturnServer):
    def command(self) -> list[str]:
        lines = [f"{k}={v}" if v else k for k, v in options(documented_config())]
        lines = [line for line in lines if line.partition("=")[0] not in HOST_SPECIFIC]
        lines += [
            "listening-ip=127.0.0.1", "relay-ip=127.0.0.1", f"listening-port={self.port}",
            "min-port=49152", "max-port=49500", f"static-auth-secret={self.secret}",
            "no-tls", "no-dtls", "log-file=stdout", "simple-log",
            f"pidfile={self.workdir}/turn-{self.port}.pid", f"db={self.workdir}/turndb-{self.port}",
        ]  # fmt: skip
        path = self.workdir / f"turnserver-{self.port}.conf"
        path.write_text("\n".join(lines) + "\n")
        return ["turnserver", "-c", str(path)]


@pytest.fixture(scope="module")
def coturn(artifacts_dir: Path) -> Iterator[DocumentedCoturn]:
    server = DocumentedCoturn(artifacts_dir / "coturn", SECRET)
    with server:
        yield server


@pytest.fixture
def credential(coturn: DocumentedCoturn, settings):
    """``credential(user_id, expires_in=3600)``: username and password as meet mints them."""
    settings.TURN_URLS = [coturn.url]
    settings.TURN_SECRET = SECRET

    def mint(user_id: int, expires_in: float = 3600) -> tuple[str, str]:
        now = time.time() - settings.TURN_CREDENTIAL_TTL + expires_in
        turn = ice_config(user_id, now=now)["servers"][0]
        return turn["username"], turn["credential"]

    return mint


@pytest.fixture
def clients(coturn: DocumentedCoturn) -> Iterator:
    opened: list[TurnClient] = []

    def open_(username: str, password: str) -> TurnClient:
        client = TurnClient(coturn.port, username, password)
        opened.append(client)
        return client

    yield open_
    for client in opened:
        client.close()


def test_every_documented_line_is_valid_for_this_coturn(coturn: DocumentedCoturn):
    assert "Bad configuration format" not in coturn.output()


def test_the_documented_denials_cover_every_non_public_range():
    ranges = []
    for key, value in options(documented_config()):
        if key == "denied-peer-ip":
            first, _, last = value.partition("-")
            ranges.append((ipaddress.ip_address(first), ipaddress.ip_address(last or first)))
    for network in [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.168.0.0/16", "198.18.0.0/15", "240.0.0.0/4",
        "::1/128", "::ffff:0:0/96", "::a00:0/104", "64:ff9b::/96", "fc00::/7", "fe80::/10",
        "2001:db8::/32", "2002::/16",
    ]:  # fmt: skip
        net = ipaddress.ip_network(network)
        covered = any(
            type(low) is type(net.network_address)
            and low <= net.network_address  # type: ignore[operator]
            and net.broadcast_address <= high  # type: ignore[operator]
            for low, high in ranges
        )
        assert covered, network
    assert ("no-multicast-peers", "") in options(documented_config())
    assert "allow-loopback-peers" not in documented_config().replace("Never set allow", "")


@pytest.mark.parametrize(
    "peer",
    [
        "0.0.0.0",  # noqa: S104 (a peer address to refuse, not a bind)
        "0.1.2.3", "10.1.2.3", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.1.2.3",
        "169.254.169.254", "172.16.0.1", "172.31.255.254", "192.0.0.1", "192.0.2.1",
        "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.51.100.1", "203.0.113.1",
        "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    ],
)  # fmt: skip
def test_no_relay_into_private_loopback_link_local_or_reserved_addresses(peer, credential, clients):
    client = clients(*credential(next(USER_IDS)))
    assert client.allocate() == 200
    assert client.permit(peer) == 403


@pytest.mark.parametrize(
    "peer", ["1.1.1.1", "8.8.8.8", "11.0.0.1", "100.128.0.1", "172.32.0.1", "223.255.255.1"]
)
def test_relay_to_public_addresses(peer, credential, clients):
    client = clients(*credential(next(USER_IDS)))
    assert client.allocate() == 200
    assert client.permit(peer) == 200


def test_a_credential_opens_relays_until_it_expires_and_running_ones_outlive_it(
    credential, clients
):
    user = next(USER_IDS)
    username, password = credential(user, expires_in=1)
    running = clients(username, password)
    assert running.allocate() == 200
    expires = int(username.split(":")[0])
    # coturn's clock has to pass the credential's expiry: nothing to await.
    time.sleep(max(0.0, expires + 1.2 - time.time()))
    assert clients(username, password).allocate() == 401
    assert running.refresh() == 200
    assert running.permit("8.8.8.8") == 200
    assert clients(*credential(user, expires_in=-60)).allocate() == 401
    assert clients(credential(user)[0], "not-the-password").allocate() == 401


def test_one_account_holds_at_most_user_quota_relays_whatever_its_credentials(credential, clients):
    quota = int(dict(options(documented_config()))["user-quota"])
    # Each refresh mints a new username (<expires>:<user id>); coturn counts the user id.
    user = next(USER_IDS)
    for index in range(quota):
        assert clients(*credential(user, expires_in=3600 + index)).allocate() == 200
    assert clients(*credential(user, expires_in=7200)).allocate() == 486
    assert clients(*credential(next(USER_IDS))).allocate() == 200
