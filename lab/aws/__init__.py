"""The lab AWS endpoint: moto 5.2.5 with ECS Anywhere add-ons, served by moto's own server.

- ``lab.aws.core``: clock, settings, caller identity, reset hooks, faults and counters, lab routes, errors;
  it imports no other module of ``lab.aws`` (tests/lab/aws/test_import_graph.py keeps the graph acyclic).
- ``lab.aws.ssm``: SSM activations and managed instances (the agent's registration and heartbeat).
- ``lab.aws.ecs``: ECS add-ons for external (mi-) container instances.
- ``lab.aws.control``: the ``/_lab/`` control API.
- ``lab.aws.server``: install() of the add-ons, the WSGI app (moto's dispatcher + control API + faults), the launcher.
- ``lab.aws.testing``: ``LabAWS``, an in-process server for tests; ``lab.aws.pytest_plugin``: fixtures.
"""
