"""Fail loudly (never skip) when the PostgreSQL the suite runs against is down."""

import sys

import dj_database_url
import psycopg


def main(url: str) -> int:
    config = dj_database_url.parse(url)
    try:
        psycopg.connect(
            dbname="postgres",
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            host=config["HOST"] or config.get("OPTIONS", {}).get("host") or None,
            port=config["PORT"] or None,
            connect_timeout=5,
        ).close()
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL is not reachable for {url}: {exc}", file=sys.stderr)
        print("Start it, or point PG_TEST_URL at one: make test PG_TEST_URL=...", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
