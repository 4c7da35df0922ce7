"""Ray's authentication as each Ray needs it: token for the embedded Ray and for clusters that
ask for one, none for clusters without, and the embedded Ray's token kept private.

This process's mode is `RAY_AUTH_MODE`, which Ray reads from the environment (and caches:
`refresh_ray_config`). A mode the user set is theirs and is never changed. The
one set here is taken back once its Ray is shut down or failed to start (never while a host
thread still talks to that Ray), so it does not reach the processes the user starts later
(`!ray start ...`); the next start sets the mode it needs.

An embedded Ray with token authentication and no token yet would have Ray write one to
`~/.ray/auth_token` readable by every local user (mode 0644). The token is made here first,
readable by its owner only, and a token file already there that others can read is narrowed
to its owner. A token given in `RAY_AUTH_TOKEN` or `RAY_AUTH_TOKEN_PATH` is the user's to manage.
"""

import contextlib
import os
import stat
import sys
from pathlib import Path

from ..ray_internals import refresh_config

MODE = "RAY_AUTH_MODE"
TOKEN = "token"  # noqa: S105 - the name of a mode, not a secret
PRIVATE = 0o600
TOKEN_BYTES = 32  # as Ray makes them: 64 hex digits

_mode_set_here = False  # whether `RAY_AUTH_MODE` in the environment is the one `follow` set


def follow(token: bool) -> None:
    """Authenticate with a token (`token`) or as Ray decides for the address, unless the user set the mode.

    Without a token, the mode set here is taken back: Ray then uses none for a cluster at an
    address, and for `auto` a token only if one is found, by its own rule.
    """
    global _mode_set_here
    if MODE in os.environ and not _mode_set_here:
        return
    if token:
        os.environ[MODE] = TOKEN
    else:
        os.environ.pop(MODE, None)
    _mode_set_here = token
    refresh_ray_config()


def refresh_ray_config() -> None:
    """Make this process's Ray see a changed `RAY_AUTH_MODE` (Ray caches its config when first read)."""
    if "ray" in sys.modules:
        refresh_config()


def default_token_path() -> Path:
    return Path.home() / ".ray" / "auth_token"


def keep_token_private() -> None:
    """Make sure the token an embedded Ray will use exists and only its owner can read it."""
    if os.environ.get(MODE, "").lower() != TOKEN:
        return
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return
    path = default_token_path()
    with contextlib.suppress(OSError):  # (a home not writable: Ray then says what it lacks)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _made_private(path):
            facts = path.stat()
            if facts.st_uid == os.getuid() and stat.S_IMODE(facts.st_mode) & 0o077:
                path.chmod(PRIVATE)


def _made_private(path: Path) -> bool:
    """Write a new token to `path` readable by its owner only; False if a file is there already."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as token_file:
        token_file.write(os.urandom(TOKEN_BYTES).hex())  # what `secrets.token_hex` does, without its 9 ms import
    return True
