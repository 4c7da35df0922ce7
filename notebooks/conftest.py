"""nbval, taught what Jupyter front ends do with `update_display_data`.

A live view's `text/plain` follows what it shows through `update_display_data` messages
(`ray_magics.live.text_form`). JupyterLab and nbclient (`nbconvert --execute`) apply each to
the display it names, so a saved notebook holds the view's last drawn state; nbval ignores
them, and would compare the first text. Here a cell's iopub messages are held from its first
display that has a display id until the cell ends, each update is applied to the display it
names, and the messages then reach nbval in their order.
"""

from collections import deque

from nbval.kernel import RunningKernel

_get_message = RunningKernel.get_message
_held = deque()


def _display_id(message: dict) -> str | None:
    return message["content"].get("transient", {}).get("display_id")


def _get_message_with_updates(kernel, stream, timeout=None):
    if stream != "iopub":
        return _get_message(kernel, stream, timeout)
    if _held:
        return _held.popleft()
    first = _get_message(kernel, stream, timeout)
    if first["msg_type"] != "display_data" or not _display_id(first):
        return first
    cell = first["parent_header"].get("msg_id")
    displays = {_display_id(first): first}
    held = [first]
    while True:
        message = _get_message(kernel, stream, timeout)
        kind, content = message["msg_type"], message["content"]
        if kind == "update_display_data" and _display_id(message) in displays:
            displays[_display_id(message)]["content"]["data"] = content["data"]
            continue
        held.append(message)
        if kind == "display_data" and _display_id(message):
            displays[_display_id(message)] = message
        if kind == "status" and content["execution_state"] == "idle" and message["parent_header"].get("msg_id") == cell:
            break
    _held.extend(held[1:])
    return first


RunningKernel.get_message = _get_message_with_updates
