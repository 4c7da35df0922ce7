"""What a tracked actor runs on a worker imports Ray alone: no IPython, no ipywidgets.

A node whose Python has Ray but not IPython must run tracked actors. Here neither the
driver nor Ray's workers can import IPython or ipywidgets (a `sitecustomize` on their
`PYTHONPATH` refuses them), and a tracked actor still counts its calls.
"""

import subprocess
import sys
import textwrap

from .processes import reports

REFUSE = textwrap.dedent('''
    import sys

    class RefuseFrontEnds:
        """An import hook: IPython and ipywidgets are not installed, as on a bare Ray node."""

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("IPython", "ipywidgets"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, RefuseFrontEnds())
''')

DRIVER = textwrap.dedent('''
    import json, sys
    import ray
    import ray_magics

    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR")

    @ray_magics.actor
    class Counter:
        def __init__(self):
            self.n = 0

        def add(self):
            self.n += 1
            return self.n

        def imports(self):
            try:
                import IPython  # noqa: F401
            except ModuleNotFoundError:
                return sorted(name for name in sys.modules if name.startswith("ray_magics"))
            return "IPython imported on the worker"

    counter = Counter.remote()
    ray.get([counter.add.remote() for _ in range(3)])
    print("REPORT", json.dumps({
        "worker": ray.get(counter.imports.remote()),
        "calls": dict(ray_magics.calls(counter)),
        "driver": sorted(name for name in sys.modules if name.startswith(("IPython", "ipywidgets"))),
    }))
    ray.shutdown()
''')


def test_a_tracked_actor_runs_where_ipython_and_ipywidgets_cannot_be_imported(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(REFUSE)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(tmp_path), "RAY_AUTH_MODE": "token"}
    refused = subprocess.run([sys.executable, "-c", "import IPython"], env=env, capture_output=True, text=True,
                             check=False)
    assert "No module named 'IPython'" in refused.stderr  # the hook works

    assert reports(sys.executable, DRIVER, env=env, timeout=120) == [{
        "worker": ["ray_magics", "ray_magics.classes", "ray_magics.classes.counting", "ray_magics.classes.submissions",
                   "ray_magics.classes.tagged_output", "ray_magics.ray_internals"],
        "calls": {"add": 3, "imports": 1},
        "driver": [],
    }]
