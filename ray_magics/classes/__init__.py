"""Classes made into Ray actor classes: the `%%actor` cell, call tracking, reading the counts.

`counting` is what a tracked actor runs on a worker: it imports the standard library
alone, so nodes whose Python has Ray but neither IPython nor ipywidgets run tracked actors.
"""
