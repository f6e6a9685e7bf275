# `make stress` runs with the system tests' suite set-up: a private image
# store, state directory and cgroup parent, the test images, the leak check
# at the end.
# shellcheck source=tests/system/setup_suite.bash
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../system" && pwd)/setup_suite.bash"
