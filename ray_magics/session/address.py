"""Whether a cluster address answers at all, checked before Ray's own long, retrying connect."""

import socket

from ..errors import RayUnavailableError

CLIENT_SCHEME = "ray://"


def host_and_port(address: str) -> tuple[str, int] | None:
    """The host and port of `HOST:PORT` or `ray://HOST:PORT`; None for `auto` and other forms."""
    host, colon, port = address.removeprefix(CLIENT_SCHEME).rpartition(":")
    if not colon or not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float) -> None:
    """Raise `RayUnavailableError` unless something accepts a TCP connection at `address` in time."""
    target = host_and_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise RayUnavailableError(f"could not reach {address}: {reason}") from None
