"""Ray Client's calls and creations announced as a driver's are (`classes.submissions`), for
Stop and the prints in the calling cell alike.

Through Ray Client (`ray://`) a call is made, and an actor class creates, on Ray's server,
where nothing listens; `ray_internals.announce_through_client` makes the client's own stubs
announce instead. They are installed at the start of the first cell once Ray Client is
connected: the calls of the cell that connected are not announced.
"""

from ..classes.counting import COUNTS_METHOD
from ..classes.submissions import announce, announce_creation
from ..ray_internals import announce_through_client, stop_announcing_through_client, through_client
from ..session.ray_import import ray_imported
from .cell_events import CellBehaviour


class RayClientAnnounces(CellBehaviour):
    """Installs Ray Client's announcing stubs on `shell`'s cell starts, once connected."""

    def listen(self, on: bool) -> None:
        if not on:
            stop_announcing_through_client()

    def cell_starts(self, info) -> None:
        if ray_imported() and through_client():
            announce_through_client(announce, announce_creation, COUNTS_METHOD)
