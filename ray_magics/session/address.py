"""A cluster address checked before Ray's own long, retrying connect: does it answer, and does
it ask for a token?"""

import socket

from ..errors import RayUnavailableError
from ..ray_internals import GCS_ALIVE_CHECK
from .waits import SLICE

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


def asks_for_token(address: str, timeout: float) -> bool | None:
    """Whether the GCS at `HOST:PORT` refuses a call without a token; None if it does not answer within `timeout`.

    False for `auto` and `ray://` addresses: Ray decides there.
    """
    target = host_and_port(address)
    if target is None or address.startswith(CLIENT_SCHEME):
        return False
    import grpc

    host, port = target
    with grpc.insecure_channel(f"{host}:{port}") as channel:
        answer = channel.unary_unary(GCS_ALIVE_CHECK).future(b"", timeout=timeout)
        try:
            while True:  # in slices, so that Ctrl-C is seen at once
                try:
                    answer.result(timeout=SLICE)
                    return False
                except grpc.FutureTimeoutError:
                    continue
                except grpc.RpcError as error:
                    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                        return None
                    return error.code() == grpc.StatusCode.UNAUTHENTICATED
        finally:
            answer.cancel()
