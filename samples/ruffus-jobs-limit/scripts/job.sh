#!/bin/sh
# One job of the Ruffus @jobs_limit sample: sleep a little, then write OUTPUT as
# a copy of INPUT (if any) plus one line with this job's own timing:
#
#   STAGE <tab> ITEM <tab> START_MS <tab> END_MS
#
# so the final work/N.stage3 holds the whole chain of file N (make_files,
# stage1_small or stage1_big, stage2), and a test can measure concurrency from
# the jobs' own clocks instead of the scheduler's.
#
#   sh scripts/job.sh STAGE ITEM SECONDS OUTPUT [INPUT]
set -eu

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
  echo "usage: sh scripts/job.sh STAGE ITEM SECONDS OUTPUT [INPUT]" >&2
  exit 2
fi
stage=$1
item=$2
seconds=$3
out=$4

# Milliseconds since the epoch. `date +%s%N` is GNU only (BSD date prints a
# literal N); Node is always there, but costs a process start, so it is the fallback.
now_ms() {
  ns=$(date +%s%N)
  case $ns in
    *[!0-9]*) node -p 'Date.now()' ;;
    *) echo "${ns%??????}" ;;
  esac
}

start=$(now_ms)
echo "$stage: start $item"
sleep "$seconds"
mkdir -p "$(dirname "$out")"
end=$(now_ms)
{
  if [ $# -eq 5 ]; then cat "$5"; fi
  printf '%s\t%s\t%s\t%s\n' "$stage" "$item" "$start" "$end"
} > "$out"
echo "$stage: done $item"
