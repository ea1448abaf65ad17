# The perl worker: fork, setpgrp, redirect, exec, waitpid. The fallback where
# python3 is missing (perl-base is Essential in Debian, so slim images have it).
#
# perl cannot vfork, so each job copies the worker's page tables (about 5 MB
# resident): 0.9 ms a job against python's 0.7 ms on this machine.
#
# The child sets its own process group (setpgrp), and so does the parent
# before it prints `S`, so that Node can signal the group as soon as it hears
# of the pid. A child that cannot exec writes the error to a pipe the worker
# made once at start (close-on-exec, like every perl descriptor above 2) and
# exits 127; the worker reads it only for a 127 status and only if bytes are
# there, so a program exiting 127 on its own is not mistaken for one. (A pipe
# per job, read until end of file, was simpler and cost 0.1 ms a job.) Stdin
# is /dev/null; stdout and stderr are appended to the log, opened before chdir
# so errors about the cwd land there. Time::HiRes is optional (perl-base lacks
# it): without it the worker sends `-` and Node uses its own clock.
# No `use warnings`: loading it makes every fork a little dearer. Run as
# `perl worker.pl GRACE_MS MEASURE ARCH` (see ../worker-program.ts); it speaks the line
# protocol of ../pool-protocol.ts.
#
# What a command used (issue 16) comes from wait4, called through perl's
# `syscall` (no module has it): its number is the kernel's for Node's
# `process.arch` (x86_64: 61, aarch64: 260), and struct rusage is read as
# longs, so only a Linux perl with 8-byte longs uses it. Elsewhere the CPU
# comes from `times` (the children's, before and after the wait: 10 ms
# ticks) and peak RSS and blocks are unknown (`-`). MEASURE `0`
# (WFC_MEASURE=0) reaps with waitpid and sends no figures. Nothing beyond Fcntl is loaded at start:
# POSIX alone costs every worker start 5-10 ms.
use strict;
use Fcntl qw(F_GETFL F_SETFL O_APPEND O_CREAT O_NONBLOCK O_TRUNC O_WRONLY);
# WNOHANG is 1 on Linux, macOS and the BSDs; loading POSIX for it costs every worker start 5-10 ms.
sub WNOHANG () { 1 }
my $hires = eval { require Time::HiRes; 1 } ? 1 : 0;
sub now { $hires ? sprintf('%.3f', Time::HiRes::time() * 1000) : '-' }
my $grace = @ARGV ? $ARGV[0] : 2000;
my $measure = @ARGV > 1 ? $ARGV[1] ne '0' : 1;
my $wait4 = $^O eq 'linux' && length(pack('l!', 0)) == 8 && @ARGV > 2 ? { x64 => 61, arm64 => 260 }->{$ARGV[2]} : undef;
binmode STDIN;
binmode STDOUT;
$| = 1;
# Node gone: a write to it fails (EPIPE) instead of killing the worker, which must stop its job first.
$SIG{PIPE} = 'IGNORE';
pipe(my $errors_in, my $errors_out) or die "wfc worker: cannot create a pipe: $!\n";
my $select_errors = '';
vec($select_errors, fileno($errors_in), 1) = 1;
# SIGCHLD wakes select() through this pipe, so a job's end and Node's going away are waited for at once.
pipe(my $wake_in, my $wake_out) or die "wfc worker: cannot create a pipe: $!\n";
for my $fh ($wake_in, $wake_out) { fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK) }
$SIG{CHLD} = sub { syswrite($wake_out, 'c') };
my $select_wait = '';
vec($select_wait, 0, 1) = 1;
vec($select_wait, fileno($wake_in), 1) = 1;
my @groups;
my %spools;
# Requests are read with sysread into this buffer: select() cannot see what PerlIO has buffered.
my $inbuf = '';
sub fill {
  while (1) {
    my $got = sysread(STDIN, $inbuf, 65536, length $inbuf);
    return $got > 0 ? 1 : 0 if defined $got;
    die "wfc worker: cannot read requests: $!\n" unless $!{EINTR};
  }
}
sub read_line {
  while (1) {
    my $i = index($inbuf, "\n");
    return substr($inbuf, 0, $i + 1, '') if $i >= 0;
    return undef unless fill();
  }
}
sub read_exactly {
  my ($size) = @_;
  while (length($inbuf) < $size) { last unless fill() }
  return substr($inbuf, 0, $size, '');
}
sub remove_spools { unlink(map { "$_/.wfc-spool-$$" } keys %spools) }
# Node is gone (kill -9, a crash) while a job runs: nobody will stop it or read its end, so it goes too.
sub orphaned {
  kill('TERM', -$_) for @groups;
  for (1 .. int($grace / 20)) {
    1 while waitpid(-1, WNOHANG) > 0;
    last unless grep { kill(0, -$_) || $! == 1 } @groups;
    select(undef, undef, undef, 0.02);
  }
  kill('KILL', -$_) for @groups;
  remove_spools();
  exit 1;
}
# Reaps the job if it ended: its wait status and what `E` says it used (see ../pool-protocol.ts), else nothing.
sub reap {
  my ($pid) = @_;
  if (!$measure) {
    return waitpid($pid, WNOHANG) == $pid ? ($?, '') : ();
  }
  if (defined $wait4) {
    my $status = pack('i', 0);
    my $usage = "\0" x 256;
    my $got = syscall($wait4, $pid + 0, $status, WNOHANG, $usage);
    # user s, µs, system s, µs, max RSS (KiB), ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock
    my @r = unpack('l!13', $usage);
    return (unpack('i', $status), sprintf(' %d %d %d %d %d', $r[0] * 1e6 + $r[1], $r[2] * 1e6 + $r[3], @r[4, 11, 12])) if $got == $pid;
    return () if $got == 0 || $!{EINTR};
    $wait4 = undef; # not the syscall it was thought to be: `times` from now on
  }
  my @before = times;
  return () unless waitpid($pid, WNOHANG) == $pid;
  my @after = times;
  return ($?, sprintf(' %d %d - - -', ($after[2] - $before[2]) * 1e6, ($after[3] - $before[3]) * 1e6));
}
# The job's wait status and figures; reads Node's requests meanwhile (a next job), and notices Node going away.
sub wait_job {
  my ($pid) = @_;
  while (1) {
    my @reaped = reap($pid);
    return @reaped if @reaped;
    next if select(my $ready = $select_wait, undef, undef, undef) <= 0;
    sysread($wake_in, my $junk, 512) if vec($ready, fileno($wake_in), 1);
    orphaned() if vec($ready, 0, 1) && !fill();
  }
}
sub folder_of { $_[0] =~ m{\A(.*)/}s ? $1 : '.' }
# The job's log for appending, and the spool linked as the log, if it is one (see process-pool.ts).
sub open_log {
  my ($log) = @_;
  my $folder = folder_of($log);
  my $spool = "$folder/.wfc-spool-$$";
  my $fh = delete $spools{$folder};
  if (!$fh) {
    sysopen($fh, $spool, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0666) or return;
  }
  return ($fh, $spool) if link($spool, $log);
  $spools{$folder} = $fh;
  sysopen(my $plain, $log, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0666) or return;
  fcntl($plain, F_SETFL, fcntl($plain, F_GETFL, 0) & ~O_NONBLOCK);
  return ($plain, undef);
}
# A job that succeeded without a word leaves no log; its spool serves the next job.
sub close_log {
  my ($fh, $log, $spool, $keep, @groups) = @_;
  # A process the job left running in the background may yet write to the log: it keeps its file.
  $keep ||= grep { kill(0, -$_) || $! == 1 } @groups; # 1: EPERM, the group is there
  if (defined $spool && !$keep && (stat($fh))[7] == 0 && unlink($log)) {
    $spools{folder_of($log)} = $fh;
    return;
  }
  unlink($spool) if defined $spool;
  close($fh);
}
# An E line of a command that succeeded goes with the next command's S: one wake-up of Node per command.
my $held = '';
sub reply { print($held, @_) or orphaned(); $held = '' }
print "R $$ $hires\n";
my $ok = 1;
while (defined(my $header = read_line())) {
  my ($tag, $seq, $len) = $header =~ /\A([JK]) (\d+) (\d+)\n\z/ or die "wfc worker: bad request header\n";
  my $payload = read_exactly($len);
  die "wfc worker: truncated request\n" unless length($payload) == $len;
  if ($tag eq 'K' && !$ok) {
    reply "X $seq ", now(), "\n";
    next;
  }
  $ok = 0;
  my ($cwd, $log, $count, @rest) = split /\0/, $payload, -1;
  my ($logfh, $spool) = open_log($log);
  if (!$logfh) {
    reply "F $seq ", now(), ' ', unpack('H*', "cannot open log $log: $!"), "\n";
    next;
  }
  my $ran = 0;
  @groups = ();
  for my $step (1 .. $count) {
    my ($nenv, $nargv) = splice(@rest, 0, 2);
    my @env = splice(@rest, 0, 2 * $nenv);
    my @argv = splice(@rest, 0, $nargv);
    my $t0 = now();
    my $pid = fork();
    if (!defined $pid) {
      my $message = "cannot fork: $!";
      syswrite($logfh, "wfc: $message\n");
      close_log($logfh, $log, $spool, 1);
      reply "F $seq ", now(), ' ', unpack('H*', $message), "\n";
      last;
    }
    if ($pid == 0) {
      my $logged = 0;
      my $fail = sub {
        syswrite($errors_out, substr($_[0], 0, 2048));
        print STDERR "wfc: $_[0]\n" if $logged;
        exit 127;
      };
      setpgrp(0, 0);
      $SIG{PIPE} = 'DEFAULT';
      open(STDOUT, '>&', $logfh) or $fail->("cannot open log $log: $!");
      open(STDERR, '>&', \*STDOUT) or $fail->("cannot send stderr to log $log: $!");
      $logged = 1;
      open(STDIN, '<', '/dev/null') or $fail->("cannot open /dev/null: $!");
      chdir($cwd) or $fail->("cannot change directory to $cwd: $!");
      while (@env) {
        my $name = shift @env;
        $ENV{$name} = shift @env;
      }
      exec { $argv[0] } @argv;
      $fail->("cannot execute $argv[0]: $!");
    }
    setpgrp($pid, $pid);
    push @groups, $pid;
    reply "S $seq $pid $t0\n";
    my ($status, $figures) = wait_job($pid);
    my $t1 = now();
    my $error = '';
    if ($status == 127 << 8 && select(my $ready = $select_errors, undef, undef, 0) > 0) {
      sysread($errors_in, $error, 4096);
    }
    # The log is final before the job's last line: Node may read it then.
    close_log($logfh, $log, $spool, $status != 0, @groups) if $status != 0 || $step == $count;
    my $line = $error eq '' ? "E $seq $status $t1$figures\n" : "F $seq $t1 " . unpack('H*', $error) . "\n";
    $ran++ if $status == 0;
    if ($status == 0 && $step < $count) {
      $held = $line;
      next;
    }
    reply $line;
    last if $status != 0;
  }
  $ok = $ran == $count ? 1 : 0;
}
remove_spools();
