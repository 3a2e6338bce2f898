"""Offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test downloads get-pip.py from a host this machine cannot reach. This script does the same
job from the pip wheel that sits next to it (fetched from PyPI by hack/sanity.sh): it runs that pip
to install the requested packages. get-pip's own --no-setuptools/--no-wheel switches have no pip
equivalent and are dropped.
"""
import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, sorted(glob.glob(os.path.join(HERE, "pip-*.whl")))[-1])

from pip._internal.cli.main import main  # noqa: E402  pylint: disable=wrong-import-position

arguments = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall"] + arguments))
