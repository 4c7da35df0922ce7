"""The live widgets: one refresher thread, the views it polls, how they draw, and their Python API."""
