"""Notebooks whose live widgets the real-front-end tests watch finish."""

import nbformat

STEPS_ACTOR = """%%actor
class Steps:
    def __init__(self, total):
        self.total = total
        self.done = 0

    def get_progress(self):
        self.done = min(self.total, self.done + 1)
        return self.done, self.total"""

BUSY_ACTOR = """%%actor
import time

class Busy:
    def __init__(self):
        self.done = 0

    def work(self, steps):
        for _ in range(steps):
            time.sleep(0.1)
            self.done += 1

    def get_progress(self):
        return self.done, 60"""

SUPERVISOR_ACTOR = """%%actor
class Supervisor:
    def __init__(self):
        self.polls = 0

    def state(self):
        self.polls += 1
        return ["DONE" if self.polls > 3 * worker else "RUNNING" for worker in (1, 2, 3)]"""


def live_notebook(cells) -> nbformat.NotebookNode:
    """A Python 3 notebook of these code cells."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook
