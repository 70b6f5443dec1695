"""Free loopback ports for a local stack started on the side (tests, benches)."""
from __future__ import annotations

import socket


def free_ports(count: int) -> tuple[int, ...]:
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:  # all held open at once, so no port is handed out twice
            probe.bind(("127.0.0.1", 0))
        return tuple(probe.getsockname()[1] for probe in probes)
    finally:
        for probe in probes:
            probe.close()
