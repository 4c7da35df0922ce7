"""Background widget updates reach the front end: a notebook run by nbclient in a real
ipykernel stores the widget state the kernel sent, which must show the finished bar."""

from nbclient import NotebookClient

from .live_notebooks import STEPS_ACTOR, live_notebook

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CELLS = [
    "%load_ext ray_magics",
    "%ray_init --num-cpus 1",
    STEPS_ACTOR,
    "steps = Steps.remote(10)",
    "%actor_progress steps --interval 0.05 --unit steps --wait --timeout 60",
    "%ray_shutdown",
]


def test_background_updates_reach_the_front_end(tmp_path):
    notebook = live_notebook(CELLS)
    client = NotebookClient(
        notebook, timeout=180, kernel_name="python3", store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    models = notebook.metadata["widgets"][WIDGET_STATE]["state"].values()
    [bar] = [m["state"] for m in models if m["model_name"] == "FloatProgressModel"]
    assert bar["value"] == 1.0
    assert bar["bar_style"] == "success"
    infos = [m["state"]["value"] for m in models if m["model_name"] == "HTMLModel"]
    assert any(info.startswith("100% · 10/10 steps") for info in infos)
    shown = notebook.cells[4].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in shown
