"""The ``trackio`` command line (built with typer in this package)."""


def main() -> None:
    """Console-script entry point."""
    import sys

    sys.stderr.write("Error: the trackio CLI is not available yet in this build.\n")
    raise SystemExit(1)
