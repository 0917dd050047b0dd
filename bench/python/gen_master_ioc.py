#!/usr/bin/env python3
"""Write a fictional Master IoC CSV file for the Python benchmark harness.

A throwaway stand-in for the project's Rust generator, so that the harness in
this folder can be exercised without it. Output follows the Master IoC format
(header ``uid,publication,indicator,detection_date,indicator_type``, comma
separated, quote character ``'``). Everything is made up: hashes are random hex
strings, addresses come from the documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and domains sit under
example.com. The same seed and row count always give the same bytes.

Usage: gen_master_ioc.py ROWS OUT.csv [--seed N]
"""

import argparse
import csv
import datetime
import random
import sys

HEADER = ["uid", "publication", "indicator", "detection_date", "indicator_type"]

# Share of each indicator type, in percent; all four are types the importer maps.
TYPE_WEIGHTS = [("md5Hash", 30), ("sha1Hash", 10), ("sha256Hash", 25), ("networkActivity", 35)]

IPV4_PREFIXES = ["192.0.2.", "198.51.100.", "203.0.113."]

ADJECTIVES = ["Amber", "Cobalt", "Dusky", "Fallow", "Gilded", "Hollow", "Ivory", "Juniper"]
ANIMALS = ["heron", "marten", "newt", "osprey", "plover", "quail", "shrike", "vole"]

GROUP_MIN = 100
GROUP_MAX = 1000

YEAR_START = datetime.date(2024, 1, 1)
DAYS_IN_YEAR = 366


def publication_name(rng: random.Random, index: int) -> str:
    """Return a fictional publication name; about one in five contains a comma."""
    actor = rng.choice(ADJECTIVES) + rng.choice(ANIMALS)
    name = f"{actor} infrastructure update {index:04d}"
    if rng.random() < 0.2:
        name += ", stage 2"
    return name


def network_value(rng: random.Random, serial: int) -> str:
    """Return a domain (mostly), an IPv4 or an IPv6 address from reserved ranges."""
    roll = rng.random()
    if roll < 0.15:
        return rng.choice(IPV4_PREFIXES) + str(rng.randrange(1, 255))
    if roll < 0.20:
        return f"2001:db8::{rng.randrange(1, 0xFFFF):x}:{rng.randrange(1, 0xFFFF):x}"
    return f"host{serial}.{rng.choice(ANIMALS)}.example.com"


def indicator_value(rng: random.Random, indicator_type: str, serial: int) -> str:
    """Return a fictional value of the given Master IoC indicator type."""
    if indicator_type == "md5Hash":
        return f"{rng.getrandbits(128):032x}"
    if indicator_type == "sha1Hash":
        return f"{rng.getrandbits(160):040x}"
    if indicator_type == "sha256Hash":
        return f"{rng.getrandbits(256):064x}"
    return network_value(rng, serial)


def generate(rows: int, seed: int, out) -> int:
    """Write ``rows`` data rows after the header; return the number of groups."""
    rng = random.Random(seed)
    types = [t for t, _ in TYPE_WEIGHTS]
    weights = [w for _, w in TYPE_WEIGHTS]
    writer = csv.writer(out, delimiter=",", quotechar="'", lineterminator="\n")
    writer.writerow(HEADER)

    written = 0
    group = 0
    while written < rows:
        size = min(rng.randint(GROUP_MIN, GROUP_MAX), rows - written)
        name = publication_name(rng, group)
        for _ in range(size):
            indicator_type = rng.choices(types, weights)[0]
            day = YEAR_START + datetime.timedelta(days=rng.randrange(DAYS_IN_YEAR))
            uid = f"{rng.getrandbits(128):032x}"
            value = indicator_value(rng, indicator_type, written)
            writer.writerow([uid, name, value, day.isoformat(), indicator_type])
            written += 1
        group += 1
    return group


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, help="number of data rows to write")
    parser.add_argument("out", help="output CSV path ('-' for standard output)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args()

    if args.out == "-":
        groups = generate(args.rows, args.seed, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            groups = generate(args.rows, args.seed, out)
    print(f"wrote {args.rows} rows in {groups} groups", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
