#!/usr/bin/env bash
# Runs the benchmark table of issue #7 and prints it (Markdown) on standard output.
#
# Usage:
#   bench/run.sh [--sizes quick|full] [--python FILE.json [--python-csv FILE.csv]]
#                [--no-publish]
#   bench/run.sh --help
#
# Builds the `table` bench target (release profile) and runs
# `cargo bench --bench table -- table "$@"`. Inputs are generated once into
# $BENCH_DATA (default: <target dir>/bench-data) and reused; progress goes to
# standard error. See bench/README.md for what each case measures.
#
# Environment:
#   BENCH_DATA         where generated inputs live
#   BENCH_AMQP_URL     the broker of the publish case
#                      (default amqp://guest:guest@127.0.0.1:5672/%2f)
#   CARGO_TARGET_DIR   cargo's target directory, as usual
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/.." && pwd)"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

for arg in "$@"; do
  case "$arg" in
    -h|--help)
      usage
      echo
      echo "Options of the table command:"
      cd "$repo_root"
      exec cargo bench --quiet --bench table -- table --help
      ;;
  esac
done

cd "$repo_root"
cargo bench --quiet --bench table --no-run
exec cargo bench --quiet --bench table -- table "$@"
