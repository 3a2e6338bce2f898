"""`make demo`'s job (`python -m lab demo`) from a lab that is down: the rollout with the web task on every host
behind HAProxy, the answers of requests sent through it, the containers' own log lines, the summary table and
the fleet through the inventory plugin, then nothing left after `lab down`."""
import re

import pytest

from lab.fleet.testing import lab, lab_state, leftovers

TABLE_ROW = re.compile(r'"(lab-host-0\d)\s+(mi-[0-9a-f]{17})\s+([0-9a-f-]{36})\s+([0-9a-f-]{36})\s+RUNNING\s+(10\.213\.\d+\.\d+):(\d+)"')
ANSWER = re.compile(r'"task=([0-9a-f-]{36}) arn=arn:aws:ecs:us-east-1:123456789012:task/lab/\1 host=[0-9a-f]{12} version=1"')
LOG_LINE = re.compile(r'"  web: serving on :80 as task ([0-9a-f-]{36}) \(version 1\)"')

pytestmark = pytest.mark.fleet


def test_demo_rolls_out_and_shows_the_fleet(no_lab):
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
    tasks = {row[3] for row in rows}
    assert all(int(row[5]) >= 32768 for row in rows)  # Docker's ephemeral ports (hostPort 0)
    lb_output = output[output.index("HAProxy on lab-host-01"):]
    answers = ANSWER.findall(lb_output)
    # Six requests through HAProxy, round robin over the three tasks: every task answered, naming itself.
    assert len(answers) == 6 and set(answers) == tasks, lb_output[:3000]
    # The containers' own first lines, read back from CloudWatch Logs by ecs_task_logs.
    assert set(LOG_LINE.findall(output)) == tasks, output[-4000:]
    graph = output[output.index("--graph"):]
    assert re.search(r"@cluster_lab:\n(  \|  \|--lab-host-0\d\n){3}", graph), graph
    assert leftovers(state) == []
