"""The lab's ECR stand-in: Debian's docker-registry on the gateway, with the images of lab/images pushed to it.

Hosts pull `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG` as they would from ECR: the name resolves to the
gateway (the lab's /etc/hosts), TLS is checked against the lab CA (/etc/docker/certs.d/NAME/ca.crt), and the
registry wants basic auth with the password of the lab endpoint's GetAuthorizationToken (moto's token).
`python -m lab.fleet.ecr push` (inside the island) builds and pushes the images.
"""
import json
import sys

from lab.fleet import config, debs
from lab.fleet.proc import in_island, lab_python, python_env, run
from lab.fleet import registry
from lab.images import build as images

# repository -> {tag: APP_VERSION}: two versions of the web image, for rolling deploys.
IMAGES = {"fleetops/web": {"1": "1", "2": "2"}}


def registry_dir():
    return config.STATE_DIR / "registry"


def url():
    return f"https://{config.GATEWAY}:{config.REGISTRY_PORT}"


def image_uri(repository="fleetops/web", tag="1", region=config.REGION):
    return f"{config.registry_host(region)}/{repository}:{tag}"


def prepare(log=print):
    """Write the registry's configuration, CA and credentials; return what `up` needs to start it."""
    binary = registry.extract_binary(debs.debs_dir(), config.CACHE_DIR / "docker-registry")
    paths = registry.write_config(
        registry_dir(), address=str(config.GATEWAY), port=config.REGISTRY_PORT,
        hostnames=[config.registry_host(), "lab-gateway", str(config.GATEWAY)],
        username=config.REGISTRY_USER, password=config.REGISTRY_PASSWORD)
    log(f"lab registry: {config.registry_host()} -> {url()}")
    return {"argv": registry.argv(binary, paths["config"]), "ca_pem": paths["ca"].read_text()}


def push_all(log=print):
    """Build and push the images from inside the island (the registry listens only there)."""
    result = run(in_island(lab_python("-m", "lab.fleet.ecr", "push")), env=python_env(), cwd=config.REPO_ROOT)
    pushed = json.loads(result.stdout)
    log("lab images: " + ", ".join(sorted(pushed)))
    return pushed


def _push():
    busybox = debs.unpack("busybox-static", config.CACHE_DIR / "busybox-static")
    ca = registry_dir() / "ca.crt"
    pushed = {}
    for repository, tags in IMAGES.items():
        for tag, version in tags.items():
            image = images.web_image(busybox, version_label=version)
            digest = registry.push_image(url(), ca, config.REGISTRY_USER, config.REGISTRY_PASSWORD,
                                         repository, tag, image)
            pushed[image_uri(repository, tag)] = digest
    return pushed


if __name__ == "__main__":
    if sys.argv[1:] != ["push"]:
        sys.exit("usage: python -m lab.fleet.ecr push")
    print(json.dumps(_push()))
