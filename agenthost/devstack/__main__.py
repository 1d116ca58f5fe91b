"""python -m agenthost.devstack run | test [pytest args]"""

from __future__ import annotations

import sys

USAGE = """usage: python -m agenthost.devstack run
       python -m agenthost.devstack test [pytest args]

run   start web, a worker and (if REDIS_URL is unset) an embedded Redis until Ctrl-C
test  run the test suite on PostgreSQL and Redis if they answer, else SQLite and an
      embedded Redis
"""


def main(argv: list[str]) -> int:
    if argv == ["run"]:
        from agenthost.devstack.run import stack_run

        return stack_run()
    if argv[:1] == ["test"]:
        from agenthost.devstack.suite import suite_run

        return suite_run(pytest_args=argv[1:])
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
