"""An AWX/AAP execution environment (EE) with this collection: `ansible-builder create` makes the build
context from the EE definition in docs/awx.md, and the context's own introspection script, run over the
installed artifact, finds what meta/execution-environment.yml declares. No image is built (no container
engine here); the steps up to the image build are the real ones."""
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from bindep.depends import Depends
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
EE_DOC = REPO_ROOT / "docs" / "awx.md"
# The fenced block of docs/awx.md that users copy as their EE definition.
EE_BLOCK = re.compile(r"```yaml\n(# execution-environment\.yml\n.*?)```", re.S)
# Platform profiles bindep would detect inside the usual EE bases (CentOS Stream/RHEL, Debian/Ubuntu).
PLATFORMS = {
    "rpm": ["platform:rpm", "platform:redhat", "platform:centos"],
    "dpkg": ["platform:dpkg", "platform:debian"],
}
# Controller-side commands of the roles (gpg/gpgv: roles/agent/tasks/keys.yml and fetch.yml) -> the packages
# that provide them on each platform.
CONTROLLER_PACKAGES = {
    "rpm": {"gpg and gpgv": "gnupg2", "cmp": "diffutils", "ssh": "openssh-clients"},
    "dpkg": {"gpg": "gnupg", "gpgv": "gpgv", "cmp": "diffutils", "ssh": "openssh-client"},
}


def run(*argv, cwd=None, env=None):
    result = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=300,
                            check=False, env=dict(os.environ, **(env or {})))
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """The collection artifact, built as `make build` builds it."""
    out = tmp_path_factory.mktemp("artifact")
    return Path(run(REPO_ROOT / "hack" / "build.sh", out).stdout.strip())


@pytest.fixture(scope="module")
def ee_definition():
    blocks = EE_BLOCK.findall(EE_DOC.read_text())
    assert len(blocks) == 1, f"{EE_DOC} must hold exactly one ```yaml block starting with '# execution-environment.yml'"
    return blocks[0]


@pytest.fixture(scope="module")
def context(tmp_path_factory, artifact, ee_definition):
    """`ansible-builder create` of the documented EE definition, with the artifact next to it as the docs say."""
    work = tmp_path_factory.mktemp("ee")
    (work / "execution-environment.yml").write_text(ee_definition)
    shutil.copy(artifact, work)
    run(VENV_BIN / "ansible-builder", "create", "--file", "execution-environment.yml", "--context", "context",
        "--output-filename", "Containerfile", cwd=work)
    return work / "context"


@pytest.fixture(scope="module")
def introspected(tmp_path_factory, artifact, context):
    """What the image build's introspection step finds: the artifact installed as the galaxy stage installs it,
    then the context's introspect.py over it, writing the combined pip and bindep files as the builder stage does."""
    work = tmp_path_factory.mktemp("introspect")
    collections = work / "collections"
    # Only the target path may be configured: `make test` points ANSIBLE_COLLECTIONS_PATH at the working tree's
    # link, where ansible-galaxy would find the collection "already installed" and install nothing.
    run(VENV_BIN / "ansible-galaxy", "collection", "install", "--offline", "--no-deps", "-p", collections, artifact,
        env={"ANSIBLE_COLLECTIONS_PATH": str(collections)})
    run(sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect", collections,
        "--write-pip", work / "requirements.txt", "--write-bindep", work / "bindep.txt")
    return {"pip": (work / "requirements.txt").read_text().splitlines(),
            "bindep": (work / "bindep.txt").read_text()}


def test_the_documented_definition_installs_the_artifact_it_names(ee_definition, artifact):
    definition = yaml.safe_load(ee_definition)
    assert definition["version"] == 3
    sources = [entry["src"] for entry in definition["additional_build_files"]]
    assert artifact.name in sources, f"docs/awx.md's EE definition must copy {artifact.name} (galaxy.yml version)"
    collections = definition["dependencies"]["galaxy"]["collections"]
    assert [c["type"] for c in collections if c["name"].endswith("/" + artifact.name)] == ["file"]


def test_create_makes_a_context_with_the_artifact_and_the_introspection_step(context, artifact):
    containerfile = (context / "Containerfile").read_text()
    # The builder stage runs introspection over the installed collections, the final stage installs its result.
    assert "introspect.py introspect" in containerfile
    assert "install-from-bindep" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [c["name"] for c in requirements["collections"]] == [f"/build/collections/{artifact.name}"]
    assert (context / "_build" / "collections" / artifact.name).read_bytes() == artifact.read_bytes()


def test_the_artifact_carries_the_ee_metadata_and_its_files(artifact, tmp_path):
    run("tar", "-xzf", artifact, "-C", tmp_path, "meta/execution-environment.yml", "requirements.txt", "bindep.txt",
        "MANIFEST.json")
    metadata = yaml.safe_load((tmp_path / "meta" / "execution-environment.yml").read_text())
    # Introspection resolves these against the collection root and refuses absolute paths.
    assert metadata["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    manifest = yaml.safe_load((tmp_path / "MANIFEST.json").read_text())
    assert "amazon.aws" in manifest["collection_info"]["dependencies"]


def test_introspection_collects_the_python_requirements(introspected):
    ours = [line for line in introspected["pip"] if "# from collection fleetops.ecs_anywhere" in line]
    names = {Requirement(line.split("#")[0]).name for line in ours}
    assert names == {"boto3", "botocore"}


def test_the_tested_toolchain_satisfies_the_python_requirements(introspected):
    # The lab and unit suites run with the pinned venv; the EE must accept those versions.
    for line in introspected["pip"]:
        requirement = Requirement(line.split("#")[0])
        assert requirement.specifier.contains(version(requirement.name)), f"{line} excludes the tested {requirement.name}"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_introspection_collects_the_controller_packages(introspected, platform):
    depends = Depends(introspected["bindep"])
    packages = {rule[0] for rule in depends.active_rules(PLATFORMS[platform] + ["default"])}
    missing = {command: package for command, package in CONTROLLER_PACKAGES[platform].items() if package not in packages}
    assert not missing, f"bindep.txt installs nothing providing {missing} on {platform} (got {sorted(packages)})"
