"""The lab fleet: Debian hosts booted with systemd-nspawn on a network island (a netns with no route out)."""
