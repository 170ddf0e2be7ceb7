#!/bin/sh
# Entry of the HSI Home Assistant add-on (PID 1 is tini). dist/ops/addon-entry.js asks the Supervisor for the MQTT
# broker's credentials and the time zone and prints `export` lines; this shell applies them and replaces itself
# with HSI, so tini's signals (stop, restart) reach HSI directly. Arguments, when given, replace `hsi run`
# (e.g. `/run.sh node /app/dist/cli.js doctor`).
set -eu

app_dir="${HSI_APP_DIR:-/app}"
exports="$(node "$app_dir/dist/ops/addon-entry.js")"
eval "$exports"

if [ "$#" -eq 0 ]; then
  set -- node "$app_dir/dist/cli.js" run
fi
exec "$@"
