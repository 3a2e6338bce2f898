"""Build the stand-in .deb packages with dpkg-deb: `python -m lab.agents.build OUTDIR`.

Each package carries the shared modules (awsapi, hostinfo) in its own private directory, so the two never
own the same file. Both come in two versions, so that upgrades can be tested.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
PACKAGING = HERE / "packaging"
VERSIONS = ("1.0.0", "1.1.0")
SHARED = ("awsapi.py", "hostinfo.py")
MAINTAINER = "fleetops lab <lab@fleetops.invalid>"

PACKAGES = {
    "amazon-ssm-agent": {
        "module": "ssm_agent", "libdir": "usr/lib/amazon-ssm-agent", "command": "usr/bin/amazon-ssm-agent",
        "unit": "amazon-ssm-agent.service", "service": "amazon-ssm-agent",
        "files": {"etc/amazon/ssm/amazon-ssm-agent.json.template": "amazon-ssm-agent.json.template"},
        "dirs": ("var/lib/amazon/ssm", "var/log/amazon/ssm"),
        "description": "Amazon SSM Agent (fleetops lab stand-in)\n"
                       " Registers the host as a managed instance with -register, keeps its role credentials in\n"
                       " /root/.aws/credentials and sends heartbeats to the lab AWS endpoint.",
        # Like the real package: enabled and (re)started on install and upgrade.
        "depends": "",
        "postinst": "systemctl enable amazon-ssm-agent.service\n    systemctl restart amazon-ssm-agent.service",
    },
    "amazon-ecs-init": {
        "module": "ecs_agent", "libdir": "usr/lib/amazon-ecs-init", "command": "usr/libexec/amazon-ecs-init",
        "unit": "ecs.service", "service": "ecs",
        "files": {},
        "dirs": ("etc/ecs", "var/lib/ecs/data", "var/log/ecs", "var/cache/ecs"),
        "description": "Amazon ECS init and agent (fleetops lab stand-in)\n"
                       " Registers the host as an external container instance, serves the introspection API on\n"
                       " 127.0.0.1:51678 and runs the tasks placed on it as Docker containers.",
        # The real package needs Docker at run time, not as a package dependency (the install script
        # installs it); the stand-in drives the Engine API with the docker SDK and sets up iptables rules.
        "depends": "python3-docker, iptables",
        # The install script enables and starts ecs after writing its configuration; an upgrade restarts a
        # running agent so the new version takes over.
        "postinst": "systemctl try-restart ecs.service",
    },
}

# No bytecode: a cache the package does not own would outlive removal, and the two versions' files share
# sizes and build-time mtimes, so a stale cache could even pass for the new version.
WRAPPER = """#!/usr/bin/python3
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, "/{libdir}")
from {module} import main
sys.exit(main())
"""

POSTINST = """#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    {actions}
fi
"""

PRERM = """#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop {service}.service || true
    systemctl disable {service}.service || true
fi
"""

POSTRM = """#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
"""


def version_key(version):
    return tuple(int(part) for part in version.split("."))


def build_package(name, version, out_dir):
    spec = PACKAGES[name]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / name
        libdir = root / spec["libdir"]
        libdir.mkdir(parents=True)
        for module in (*SHARED, f"{spec['module']}.py"):
            shutil.copyfile(SOURCES / module, libdir / module)
        (libdir / "agent_version.py").write_text(f'VERSION = "{version}"\n')
        _write(root / spec["command"], WRAPPER.format(**spec), 0o755)
        _write(root / "lib/systemd/system" / spec["unit"], (PACKAGING / spec["unit"]).read_text())
        for target, source in spec["files"].items():
            _write(root / target, (PACKAGING / source).read_text())
        for directory in spec["dirs"]:
            (root / directory).mkdir(parents=True, exist_ok=True)
        control = root / "DEBIAN"
        size_kib = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) // 1024 + 1
        _write(control / "control", (
            f"Package: {name}\nVersion: {version}\nArchitecture: amd64\nMaintainer: {MAINTAINER}\n"
            f"Installed-Size: {size_kib}\nDepends: {', '.join(filter(None, ['python3 (>= 3.9)', spec['depends']]))}\nSection: admin\nPriority: optional\n"
            f"Description: {spec['description']}\n"
        ))
        _write(control / "postinst", POSTINST.format(actions=spec["postinst"]), 0o755)
        _write(control / "prerm", PRERM.format(**spec), 0o755)
        _write(control / "postrm", POSTRM, 0o755)
        out_dir.mkdir(parents=True, exist_ok=True)
        deb = out_dir / f"{name}_{version}_amd64.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)],
                       check=True, capture_output=True)
    return deb


def build_all(out_dir):
    return [build_package(name, version, Path(out_dir)) for name in PACKAGES for version in VERSIONS]


def _write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


if __name__ == "__main__":
    for built in build_all(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(built)
