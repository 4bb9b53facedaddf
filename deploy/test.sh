#!/usr/bin/env bash
# deploy/test.sh: installs what is missing, builds innsync and runs every
# test (ctest: cmocka unit tests and multi-process integration tests), then
# builds again with AddressSanitizer + UndefinedBehaviorSanitizer and runs
# the whole suite once more.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/deps.sh
innsync_install_deps

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINNSYNC_TESTS=ON >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure --timeout 300

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DINNSYNC_SANITIZE=ON -DINNSYNC_TESTS=ON >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests under ASan + UBSan"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure --timeout 600
