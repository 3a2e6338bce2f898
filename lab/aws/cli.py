"""``python -m lab aws``: serve the lab AWS endpoint in the foreground."""


def add_commands(subparsers):
    parser = subparsers.add_parser(
        "aws", help="serve moto with the ECS Anywhere add-ons and the /_lab/ control API",
        description="Serve moto with the ECS Anywhere add-ons and the /_lab/ control API until SIGINT/SIGTERM.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port to bind; 0 picks a free one (default 4566)")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=SECONDS",
                        help="a lab setting's value after start and after every /_lab/reset (repeatable)")
    parser.set_defaults(func=run)


def run(args):
    from lab.aws import core, server

    values = {}
    for item in args.setting:
        name, separator, value = item.partition("=")
        if not separator:
            raise SystemExit(f"--setting {item!r}: expected NAME=SECONDS")
        try:
            values[name] = float(value)
        except ValueError:
            raise SystemExit(f"--setting {item!r}: {value!r} is not a number of seconds") from None
    try:
        core.set_default_settings(values)
    except core.LabError as error:
        raise SystemExit(f"--setting: {error}") from None
    return server.serve(args.host, args.port)
