#!/usr/bin/env bash
# Saves a PNG of the real editor window with the bundled sample decomposed, for the README.
# Needs Xvfb (apt install xvfb xauth) and a Vulkan or GL driver (mesa-vulkan-drivers works).
# Usage: scripts/screenshot.sh [OUT.png] [FRAME]   (defaults: docs/screenshot.png, frame 120)
# PROFILE=dev uses a dev build (shares the test builds' cache; default: release).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshot.png}"
frame="${2:-120}"
profile="${PROFILE:-release}"
cargo build --profile "$profile"
# Cargo puts the dev profile in target/debug, every other profile in target/<name>.
dir="$profile"
[ "$profile" = dev ] && dir=debug
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
# The window repaints every 100 ms while the sample is decomposed, so frame 120 comes after
# the layers are in. STRATA_SCREENSHOT makes the app capture itself and close.
STRATA_SCREENSHOT="$out" STRATA_SCREENSHOT_FRAME="$frame" \
    timeout 180 xvfb-run -a -s "-screen 0 1280x800x24" "./target/$dir/strata"
echo "saved $out"
