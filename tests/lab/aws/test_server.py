"""The launcher: ``python -m lab aws`` serves moto, the add-ons and the control API in the foreground."""
import json
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import urllib.request

import boto3
import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]


def first_line(stream, timeout):
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


@pytest.fixture
def launched():
    process = subprocess.Popen([sys.executable, "-m", "lab", "aws", "--host", "127.0.0.1", "--port", "0"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = first_line(process.stdout, timeout=30)
        assert line.startswith("lab aws endpoint serving on http://127.0.0.1:"), line + process.stderr.read()
        yield process, line.rsplit(" ", 1)[1].strip().rstrip("/")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
        process.stderr.close()


def test_launcher_serves_moto_add_ons_and_control_api(launched):
    process, url = launched
    with urllib.request.urlopen(url + "/_lab/health", timeout=30) as answer:
        assert json.loads(answer.read()) == {"ok": True}
    ssm = boto3.client("ssm", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    created = ssm.create_activation(IamRole="ecsAnywhereRole")
    register = urllib.request.Request(url + "/", method="POST", data=json.dumps({
        "ActivationId": created["ActivationId"], "ActivationCode": created["ActivationCode"], "PublicKey": "k",
        "PublicKeyType": "Rsa", "Fingerprint": "f"}).encode(), headers={
        "X-Amz-Target": "AmazonSSM.RegisterManagedInstance", "Content-Type": "application/x-amz-json-1.1"})
    with urllib.request.urlopen(register, timeout=30) as answer:
        instance_id = json.loads(answer.read())["InstanceId"]
    listed = ssm.describe_instance_information()["InstanceInformationList"]
    assert [i["InstanceId"] for i in listed] == [instance_id]
    with urllib.request.urlopen(url + "/_lab/counters", timeout=30) as answer:
        assert json.loads(answer.read())["calls"]["RegisterManagedInstance"] == 1


def test_launcher_stops_cleanly_on_sigterm(launched):
    process, _ = launched
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_launcher_help_names_its_options():
    result = subprocess.run([sys.executable, "-m", "lab", "aws", "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=60, check=True)
    assert "--host" in result.stdout and "--port" in result.stdout
