"""What the benchmarks share: the shell they run cells in and how they print tables."""


def new_shell():
    """The IPython shell a notebook kernel would run cells in."""
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


def print_table(headers, rows, indent="  "):
    """Print rows under headers: the first column left-aligned, the others right-aligned."""
    table = [headers, *rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(headers))]
    for row in table:
        cells = [
            f"{cell!s:<{width}}" if i == 0 else f"{cell!s:>{width}}"
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print(indent + "  ".join(cells).rstrip())
