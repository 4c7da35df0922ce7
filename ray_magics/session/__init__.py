"""Starting, reaching and stopping Ray: the lowest layer, which imports Ray and nothing of IPython."""
