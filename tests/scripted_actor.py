"""`Scripted`: the live views' test actor, which returns whatever it was last set to."""

SCRIPTED = """
import time
class Scripted:
    '''Returns whatever it was last set to (raises it, if it is an exception), `delay` s late, counting the reads.'''
    def __init__(self, value=0.0):
        self.value = value
        self.delay = 0.0
        self.calls = 0
    def set(self, value, delay=0.0):
        self.value, self.delay = value, delay
    def get(self):
        self.calls += 1
        time.sleep(self.delay)
        if isinstance(self.value, Exception):
            raise self.value
        return self.value
    def get_calls(self):
        return self.calls
    def get_progress(self):
        return self.get()
    def slow_progress(self):
        time.sleep(3)
        return 0.5
"""
