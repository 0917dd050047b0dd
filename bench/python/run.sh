#!/usr/bin/env bash
# Benchmark OpenCTI's Python Kaspersky connector (Master IoC importer) on a
# Master IoC CSV file, for the side-by-side comparison of issue #7.
#
# The Python connector is not part of this project: this script fetches its
# source and installs its requirements at run time, under bench-data/ (which
# git ignores). Nothing it fetches is ever committed.
#
# Usage:
#   bench/python/run.sh setup           export the connector source, build the venv
#   bench/python/run.sh gen ROWS [SEED] write bench-data/master_ioc_ROWS.csv (fictional)
#   bench/python/run.sh run FILE [ARGS] run the harness on FILE; ARGS go to
#                                       bench_master_ioc.py (see --help there)
#   bench/python/run.sh [FILE]          setup if needed, then run (default: 20000
#                                       generated rows)
#
# Environment:
#   BENCH_DATA           work folder (default: <repo>/bench-data)
#   PYTHON               interpreter for the venv (default: python3; 3.9-3.12)
#   CONNECTORS_GIT_DIR   a local git repository (bare or not) of
#                        OpenCTI-Platform/connectors to export the source from;
#                        default: the first of $DEFAULT_MIRRORS that exists
#   CONNECTORS_REF       commit or branch to export (default: HEAD)
#   CONNECTORS_URL       remote to clone when no local repository is found
#                        (default: https://github.com/OpenCTI-Platform/connectors);
#                        a shallow, sparse clone of external-import/kaspersky only
#   PYCTI_VERSION        install this pycti instead of the version pinned in the
#                        connector's requirements.txt
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
data="${BENCH_DATA:-$repo_root/bench-data}"
python="${PYTHON:-python3}"
venv="$data/pyvenv"
src_root="$data/python-connector"
connector_path="external-import/kaspersky"
connectors_ref="${CONNECTORS_REF:-HEAD}"
connectors_url="${CONNECTORS_URL:-https://github.com/OpenCTI-Platform/connectors}"
DEFAULT_MIRRORS=(/work/.mirror/OpenCTI-Platform+connectors/repo)

log() { printf 'run.sh: %s\n' "$*" >&2; }

# Find a local git repository of the connectors project, or print nothing.
find_local_repo() {
  if [[ -n "${CONNECTORS_GIT_DIR:-}" ]]; then
    printf '%s\n' "$CONNECTORS_GIT_DIR"
    return
  fi
  local candidate
  for candidate in "${DEFAULT_MIRRORS[@]}"; do
    if [[ -d "$candidate" ]]; then
      printf '%s\n' "$candidate"
      return
    fi
  done
}

# Export external-import/kaspersky into $src_root (src/, requirements, ...)
# and record the commit it came from in $src_root/COMMIT.
export_connector() {
  local git_dir commit
  git_dir="$(find_local_repo)"
  rm -rf "$src_root"
  mkdir -p "$src_root"

  if [[ -z "$git_dir" ]]; then
    # No local copy: a shallow clone that checks out only the connector.
    local clone="$data/connectors-clone"
    log "no local repository; cloning $connectors_url (sparse: $connector_path)"
    rm -rf "$clone"
    git clone --depth 1 --filter=blob:none --sparse "$connectors_url" "$clone"
    git -C "$clone" sparse-checkout set "$connector_path"
    git_dir="$clone"
  fi

  commit="$(git -C "$git_dir" rev-parse "$connectors_ref^{commit}")"
  log "exporting $connector_path at $commit from $git_dir"
  # Archive the connector's own tree only: a partial mirror may lack blobs
  # elsewhere in the repository.
  git -C "$git_dir" archive "$commit:$connector_path" | tar -x -C "$src_root"
  printf '%s\n' "$commit" > "$src_root/COMMIT"
}

# Build the venv with pycti and the connector's other requirements. The
# stamp file records what was installed, so a second setup is a no-op.
build_venv() {
  local reqs="$src_root/src/requirements.txt" stamp="$venv/.bench-stamp" want
  want="$(cat "$reqs"; printf 'PYCTI_VERSION=%s\n' "${PYCTI_VERSION:-}")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "venv up to date: $venv"
    return
  fi

  log "building venv $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  if [[ -n "${PYCTI_VERSION:-}" ]]; then
    grep -v '^pycti' "$reqs" > "$data/requirements-bench.txt"
    printf 'pycti==%s\n' "$PYCTI_VERSION" >> "$data/requirements-bench.txt"
    reqs="$data/requirements-bench.txt"
  fi
  "$venv/bin/python" -m pip install --quiet -r "$reqs"
  printf '%s\n' "$want" > "$stamp"
}

setup() {
  mkdir -p "$data"
  if [[ ! -f "$src_root/COMMIT" ]]; then
    export_connector
  else
    log "connector source present: $src_root (commit $(cat "$src_root/COMMIT"))"
  fi
  build_venv
}

generate() {
  local rows="$1" seed="${2:-7}" out="$data/master_ioc_$1.csv"
  mkdir -p "$data"
  "$python" "$here/gen_master_ioc.py" "$rows" "$out" --seed "$seed"
  printf '%s\n' "$out"
}

run_bench() {
  local file="$1"
  shift
  log "load before run: $(uptime)"
  "$venv/bin/python" "$here/bench_master_ioc.py" --connector-src "$src_root/src" "$file" "$@"
}

case "${1:-}" in
  setup)
    setup
    ;;
  gen)
    generate "${2:?rows}" "${3:-7}"
    ;;
  run)
    run_bench "${2:?file}" "${@:3}"
    ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    ;;
  *)
    setup
    file="${1:-}"
    if [[ -z "$file" ]]; then
      file="$(generate 20000)"
    fi
    run_bench "$file" "${@:2}"
    ;;
esac
