"""The lab AWS endpoint: moto 5.2.5 with ECS Anywhere add-ons, served by moto's own server.

- ``lab.aws.core``: clock, settings, caller identity, reset hooks, faults and counters, install().
- ``lab.aws.ssm``: SSM activations and managed instances (the agent's registration and heartbeat).
- ``lab.aws.ecs``: ECS add-ons for external (mi-) container instances.
- ``lab.aws.control``: the ``/_lab/`` control API.
- ``lab.aws.server``: the WSGI app (moto's dispatcher + control API + faults) and the launcher.
- ``lab.aws.testing``: ``LabAWS``, an in-process server for tests; ``lab.aws.pytest_plugin``: fixtures.
"""
