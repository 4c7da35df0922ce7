"""The embedded Ray's token, kept private to its user.

An embedded Ray with token authentication and no token yet would have Ray write one to
`~/.ray/auth_token` readable by every local user (mode 0644). The token is made here first,
readable by its owner only, and a token file already there that others can read is
narrowed to its owner. A token given in `RAY_AUTH_TOKEN` or `RAY_AUTH_TOKEN_PATH` is the
user's to manage.
"""

import contextlib
import os
import secrets
import stat
from pathlib import Path

PRIVATE = 0o600
TOKEN_BYTES = 32  # as Ray makes them: 64 hex digits


def default_token_path() -> Path:
    return Path.home() / ".ray" / "auth_token"


def keep_token_private() -> None:
    """Make sure the token an embedded Ray will use exists and only its owner can read it."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
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
        token_file.write(secrets.token_hex(TOKEN_BYTES))
    return True
