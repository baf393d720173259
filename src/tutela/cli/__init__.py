"""The `tutela` command line: Typer + Rich, a thin layer over the core."""
