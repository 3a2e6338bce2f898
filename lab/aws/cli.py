"""``python -m lab aws``: serve the lab AWS endpoint in the foreground."""


def add_commands(subparsers):
    parser = subparsers.add_parser(
        "aws", help="serve moto with the ECS Anywhere add-ons and the /_lab/ control API",
        description="Serve moto with the ECS Anywhere add-ons and the /_lab/ control API until SIGINT/SIGTERM.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port to bind; 0 picks a free one (default 4566)")
    parser.set_defaults(func=run)


def run(args):
    from lab.aws import server

    return server.serve(args.host, args.port)
