"""How much memory the embedded Ray may take, and where its object store lives.

The object store is sized to the memory this process may really use (its cgroup's limit
where lower than the machine's), so a 2 GB Binder container works, and it lives in
/tmp where /dev/shm is too small for it.
"""

import contextlib
import os
import shutil
import tempfile

OBJECT_STORE_SHARE = 0.3
OBJECT_STORE_MINIMUM = 80 * 2**20
SHARED_MEMORY_DIR = "/dev/shm"  # noqa: S108 - only measured, never written
CGROUP_LIMIT_FILES = (
    "/sys/fs/cgroup/memory.max",  # cgroup v2
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
)


def memory_limit() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's if lower."""
    limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in CGROUP_LIMIT_FILES:
        with contextlib.suppress(OSError, ValueError):
            with open(path) as f:
                limit = min(limit, int(f.read().strip()))
    return limit


def object_store_size() -> int:
    """The embedded default's object store: a share of the memory this process may use."""
    return max(OBJECT_STORE_MINIMUM, int(memory_limit() * OBJECT_STORE_SHARE))


def plasma_directory(store_bytes: int) -> str | None:
    """Where the object store lives: /dev/shm unless it is too small (as on Binder)."""
    try:
        free = shutil.disk_usage(SHARED_MEMORY_DIR).free
    except OSError:
        return tempfile.gettempdir()
    return None if free >= store_bytes else tempfile.gettempdir()
