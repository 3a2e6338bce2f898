"""The hermetic lab: an AWS endpoint (moto + ECS Anywhere add-ons) and a systemd-nspawn fleet."""
