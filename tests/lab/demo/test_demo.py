"""`make demo`'s job (`python -m lab demo`) from a lab that is down: the rollout, the fleet through the
inventory plugin, a task's log lines and the summary table, then nothing left after `lab down`."""
import re

from lab.fleet.testing import lab, lab_state, leftovers

TABLE_ROW = re.compile(r'"(lab-host-0\d)\s+(mi-[0-9a-f]{17})\s+([0-9a-f-]{36})\s+([0-9a-f-]{36})\s+RUNNING\s+(10\.213\.\d+\.\d+:8080)"')


def test_demo_rolls_out_and_shows_the_fleet():
    assert "lab: down" in lab("status").stdout, "another lab is up; run `python -m lab down` first"
    try:
        demo = lab("demo", "--hosts", "3", timeout=900)
        output = demo.stdout + demo.stderr
        assert demo.returncode == 0, output[-6000:]
        state = lab_state()
    finally:
        lab("down")

    rows = TABLE_ROW.findall(output)
    assert sorted(row[0] for row in rows) == ["lab-host-01", "lab-host-02", "lab-host-03"], output[-4000:]
    assert len({row[1] for row in rows}) == 3 and len({row[3] for row in rows}) == 3
    assert "[lab] container web started from image public.ecr.aws/nginx/nginx:1.27" in output
    graph = output[output.index("--graph"):]
    assert re.search(r"@cluster_lab:\n(  \|  \|--lab-host-0\d\n){3}", graph), graph
    assert leftovers(state) == []
