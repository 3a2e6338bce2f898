"""Stand-ins for amazon-ssm-agent and amazon-ecs-init, packaged as .deb files for the lab hosts."""
