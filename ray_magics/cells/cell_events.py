"""What the package does around every cell: behaviours on the shell's cell events, each
registered and unregistered in the one way written here."""

EVENTS = {"pre_run_cell": "cell_starts", "post_run_cell": "cell_ends"}  # IPython's event -> the callback's name


class CellBehaviour:
    """Callbacks on `shell`'s cell events: `cell_starts` on `pre_run_cell` and `cell_ends` on
    `post_run_cell`, each where a subclass defines it. `settings` are the magics' settings
    (`RaySettings`), read when a cell needs one, so a `%config` change counts at once."""

    def __init__(self, shell, settings):
        self.shell = shell
        self.settings = settings

    def register(self) -> None:
        self.listen(True)
        for event, callback in self._callbacks():
            self.shell.events.register(event, callback)

    def unregister(self) -> None:
        for event, callback in self._callbacks():
            if callback in self.shell.events.callbacks[event]:
                self.shell.events.unregister(event, callback)
        self.listen(False)

    def listen(self, on: bool) -> None:
        """Start (or stop) what the behaviour listens to besides the cell events; nothing by default."""

    def _callbacks(self) -> list:
        return [(event, getattr(self, name)) for event, name in EVENTS.items() if hasattr(self, name)]
