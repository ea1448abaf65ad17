/**
 * What a SLURM job's steps used (issue 16), measured by the job's own
 * script around each step (`via: "script"`): the cluster's accounting is
 * optional (many clusters, and the tests' one, have no `sacct`), the
 * script is always there.
 *
 * The bash function `wfc_measured FILE COMMAND…` runs COMMAND through a
 * small perl program that forks, execs it and reaps it with wait4 (its
 * number by `uname -m`, asked once per job: x86_64 61, aarch64 260, read
 * as longs only where perl's are 8 bytes), as the local pool's perl worker
 * does; elsewhere it
 * waits with waitpid and takes the CPU from `times`. It appends one line
 * to FILE, `START END USER_US SYS_US MAX_RSS_KB IN_BLOCKS OUT_BLOCKS`
 * (START and END in seconds since the epoch; `-` for what it cannot tell)
 * and returns COMMAND's status as bash would report it (128 + the signal
 * for one killed by a signal). SLURM's SIGTERM (scancel, the time limit)
 * reaches the command as before: perl keeps waiting for it (a handler,
 * which exec resets). A node without perl, or WFC_MEASURE=0 in the job's
 * environment, runs COMMAND as it is and records only its times.
 *
 * perl-base is Essential in Debian, and RHEL's minimal images have perl
 * too. A step costs one more fork and exec (perl, which loads no module)
 * and no other process: the clock is bash 5's EPOCHREALTIME, the figures
 * pass through `FILE.part` (read with `read`), removed with the job.
 */

import { readFileSync } from "node:fs";
import type { JobUsage } from "../state/usage.js";

/** The perl program: no single quote in it, as bash gives it in single quotes. 4 is EINTR (Linux, the BSDs, macOS): Errno is a module to load. */
const WAIT4 = `
my ($into, $machine) = (shift, shift);
$SIG{TERM} = sub {};
my $pid = fork;
if (!defined $pid) { print STDERR "wfc: cannot fork: $!\\n"; exit 126 }
if (!$pid) { exec { $ARGV[0] } @ARGV; print STDERR "wfc: cannot execute $ARGV[0]: $!\\n"; exit 127 }
my $nr = { x86_64 => 61, aarch64 => 260 }->{$machine};
$nr = undef unless $^O eq "linux" && length(pack("l!", 0)) == 8;
my ($status, $line);
if (defined $nr) {
  my ($st, $ru, $got) = (pack("i", 0), "\\0" x 256);
  do { $got = syscall($nr, $pid + 0, $st, 0, $ru) } while ($got == -1 && $! == 4);
  if ($got == $pid) {
    my @r = unpack("l!13", $ru);
    $status = unpack("i", $st);
    $line = sprintf("%d %d %d %d %d", $r[0] * 1e6 + $r[1], $r[2] * 1e6 + $r[3], @r[4, 11, 12]);
  }
}
if (!defined $line) {
  my @before = times;
  1 while waitpid($pid, 0) == -1 && $! == 4;
  $status = $?;
  my @after = times;
  $line = sprintf("%d %d - - -", ($after[2] - $before[2]) * 1e6, ($after[3] - $before[3]) * 1e6);
}
if (open(my $out, ">", $into)) { print $out "$line\\n"; close $out }
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);
`;

/**
 * bash: defines `wfc_measured` (see above). `$WFC_MEASURE` is read on the
 * node; the figures go through a temporary file beside FILE.
 */
export const MEASURE_FUNCTION = `if [ "\${WFC_MEASURE:-1}" != 0 ] && command -v perl > /dev/null 2>&1; then wfc_perl=1; else wfc_perl=0; fi
wfc_machine=$(uname -m 2> /dev/null) || wfc_machine=
# bash 5 has the clock as a variable (with the locale's decimal point); an older one forks date.
wfc_now() {
  if [ -n "\${EPOCHREALTIME:-}" ]; then wfc_clock=\${EPOCHREALTIME/,/.}; else wfc_clock=$(date +%s.%N); fi
}
wfc_measured() {
  local into=$1 start code figures='- - - - -'
  shift
  wfc_now
  start=$wfc_clock
  if [ "$wfc_perl" = 1 ]; then
    : 2> /dev/null > "$into.part"
    perl -e '${WAIT4.trim()}' "$into.part" "$wfc_machine" "$@"
    code=$?
    read -r figures 2> /dev/null < "$into.part" || figures='- - - - -'
  else
    "$@"
    code=$?
  fi
  wfc_now
  printf '%s %s %s\\n' "$start" "$wfc_clock" "$figures" 2> /dev/null >> "$into"
  return "$code"
}`;

/** One step's line of a usage file, as wfc_measured writes it. */
export interface StepFigures {
  /** Epoch milliseconds. */
  readonly start: number;
  readonly end: number;
  readonly userUs: number | null;
  readonly sysUs: number | null;
  readonly maxRssKb: number | null;
  readonly inBlocks: number | null;
  readonly outBlocks: number | null;
}

const LINE = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?)((?: (?:-|\d+)){5})$/;

/** A usage file's lines, one per step that ended, in order; a line that is not one (torn) ends the list. */
export function parseUsageLines(text: string): StepFigures[] {
  const steps: StepFigures[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = LINE.exec(line.trim());
    if (m === null) break;
    const [u, s, rss, i, o] = m[3]!
      .trim()
      .split(" ")
      .map((x) => (x === "-" ? null : Number(x)));
    steps.push({
      start: Number(m[1]) * 1000,
      end: Number(m[2]) * 1000,
      userUs: u ?? null,
      sysUs: s ?? null,
      maxRssKb: rss ?? null,
      inBlocks: i ?? null,
      outBlocks: o ?? null,
    });
  }
  return steps;
}

/** A step's usage from its line: its wall time by the node's clock, the rest as wait4 (or `times`) said; blocks are 512 bytes. */
export function usageOfStep(f: StepFigures): JobUsage {
  return {
    wallMs: Math.max(0, Math.round((f.end - f.start) * 1000) / 1000),
    ...(f.userUs !== null ? { userMs: f.userUs / 1000 } : {}),
    ...(f.sysUs !== null ? { sysMs: f.sysUs / 1000 } : {}),
    ...(f.maxRssKb !== null ? { maxRssKb: f.maxRssKb } : {}),
    ...(f.inBlocks !== null ? { readBytes: f.inBlocks * 512 } : {}),
    ...(f.outBlocks !== null ? { writeBytes: f.outBlocks * 512 } : {}),
    via: "script",
  };
}

/** What each step of an element used, from its usage file (none if it wrote none). */
export function readStepUsage(file: string): JobUsage[] {
  try {
    return parseUsageLines(readFileSync(file, "utf8")).map(usageOfStep);
  } catch {
    return [];
  }
}
