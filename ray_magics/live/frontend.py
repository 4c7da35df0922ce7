"""Whether displays reach a widget front end, or only text (terminal, script, plain export).

Widgets are shown inside a Jupyter kernel. `RAY_MAGICS_WIDGETS=0` forces text (for
non-interactive runs such as nbconvert or nbval), `RAY_MAGICS_WIDGETS=1` forces widgets.
"""

import os

from IPython import get_ipython

SWITCH = "RAY_MAGICS_WIDGETS"
OFF = ("0", "false", "no", "off")


def widget_frontend() -> bool:
    setting = os.environ.get(SWITCH, "").strip().lower()
    if setting:
        return setting not in OFF
    return getattr(get_ipython(), "kernel", None) is not None
