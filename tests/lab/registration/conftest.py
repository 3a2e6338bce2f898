"""Playbook tests of the registration modules against the in-process lab AWS endpoint (``run_play`` and
``PlayResult`` are tests/lab/conftest.py's)."""
from pathlib import Path


def files_containing(root, secret):
    """Every file under root whose bytes contain secret."""
    needle = secret.encode()
    return [str(path) for path in Path(root).rglob("*") if path.is_file() and needle in path.read_bytes()]
