"""Whether displays reach a widget front end, or only text (terminal, script, plain export).

`%config RayMagics.display` chooses: "widgets", "text", or "auto" (the default): widgets inside
a Jupyter kernel, text elsewhere. `RAY_MAGICS_WIDGETS=1` (or `0`) in the environment forces
widgets (or text) over the setting, for runs that cannot set it (benchmarks, nbconvert).
"""

import os

from IPython import get_ipython

from ..settings import in_force

SWITCH = "RAY_MAGICS_WIDGETS"
OFF = ("0", "false", "no", "off")


def widget_frontend() -> bool:
    forced = os.environ.get(SWITCH, "").strip().lower()
    if forced:
        return forced not in OFF
    chosen = in_force().display
    if chosen != "auto":
        return chosen == "widgets"
    return getattr(get_ipython(), "kernel", None) is not None
