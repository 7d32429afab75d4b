#!/usr/bin/env bash
# Quick start: set up what is missing, run the default benchmark, write its report, and show it.
#   On a terminal: the GUI's live view follows the sweep, then the report is written and the GUI
#   serves the result set until Ctrl-C. Not on a terminal (a script, CI): it ends after printing
#   the commands that open the report and the GUI. Arguments go to `streambench run`.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh

# The result set the sweep writes: results/<benchmark name>, unless --results says otherwise.
set_dir=results/stream-sweep
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --results) set_dir="${args[i + 1]:-$set_dir}" ;;
    --results=*) set_dir="${args[i]#--results=}" ;;
  esac
done

terminal=false
[ -t 1 ] && terminal=true
# The GUI's port: 8080 when free (the live view's page then keeps working once the sweep is over),
# else any free one.
port=8080
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then port=0; fi

ui_args=()
# stdin from /dev/null: `run --ui` would otherwise keep serving after the sweep, before the report is written.
if $terminal; then ui_args=(--ui --port "$port"); fi
rc=0
bin/streambench.js run examples/stream-sweep.yaml "${ui_args[@]}" "$@" </dev/null || rc=$?
# 0: all ok; 1: some points failed; 3: stopped on a failure. The points recorded are worth a report;
# anything else (bad input, Ctrl-C, an unusable set or disk) ends here with the run's code.
case $rc in 0 | 1 | 3) ;; *) exit "$rc" ;; esac

report="$set_dir/report.html"
bin/streambench.js report "$set_dir" --out "$report"
echo
echo "Open the report (one file, no server needed):  xdg-open $report   (or open file://$(realpath "$report") in a browser)"
echo "Open the GUI over this result set:             bin/streambench.js ui $set_dir   (then open the address it prints)"
if $terminal; then
  echo
  echo "Serving the GUI now; Ctrl-C ends it."
  exec bin/streambench.js ui "$set_dir" --port "$port"
fi
exit "$rc"
