"""Command line of the lab. Each subcommand lives with the part of the lab it drives."""
import argparse


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    from lab.aws import cli as aws_cli

    aws_cli.add_commands(commands)
    try:
        from lab.fleet import cli as fleet_cli
    except ImportError:  # the fleet is optional until it is built
        fleet_cli = None
    if fleet_cli:
        fleet_cli.add_commands(commands)
        from lab import demo

        demo.add_commands(commands)

    args = parser.parse_args(argv)
    return args.func(args) or 0
