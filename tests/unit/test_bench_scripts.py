"""The benchmarks under bench/ are run by hand, not by `make test`: each must at least start (its imports from the
lab and the collection still resolve) and parse its arguments. A rename in lab.fleet.testing broke one once."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", sorted(path.name for path in BENCH.glob("*.py")))
def test_the_benchmark_starts_and_describes_itself(script):
    result = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {script} ")
