"""The network guard of tests/conftest.py really guards."""

from __future__ import annotations

import socket

import pytest


def test_connecting_off_the_machine_fails_the_test() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        with pytest.raises(AssertionError, match="tried to reach the network"):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed anyway


def test_loopback_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.connect(server.getsockname())
