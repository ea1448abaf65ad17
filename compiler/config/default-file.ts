import { builtinWorkers } from "./executors.js";

/**
 * The built-in default as a commented config file, for `wfc config init`.
 * Every key is explained where it is written, and the optional ones are
 * shown commented out, so the file doubles as a reference. It loads back
 * as exactly the built-in default (a test checks).
 */
export function defaultConfigText(cpus: number): string {
  const workers = builtinWorkers(cpus);
  const cores = `${cpus} CPU${cpus === 1 ? "" : "s"}`;
  return `# wfc config file: executors, and which stages run on them.
# Written by \`wfc config init\`; wfc never writes a config file on its own.
#
# wfc merges every config file it finds; the first one to set a value wins:
#   1. --config FILE
#   2. $WFC_CONFIG
#   3. ./wfc.config.toml, in the current directory
#   4. $XDG_CONFIG_HOME/wfc/config.toml (default ~/.config/wfc/config.toml)
#   5. DIR/wfc/config.toml for each DIR in $XDG_CONFIG_DIRS (default /etc/xdg)
#   6. the built-in default, which is what this file contains.
# An executor is taken whole from the first file that defines it; each
# mapping below is taken on its own. \`wfc config show\` prints the merged
# result and where each value came from. An executor defined here replaces
# a workflow's executor of the same name, so one workflow runs unchanged on
# a laptop and on a cluster.

# ---------------------------------------------------------------- executors
# [executors.NAME] defines an executor that stages can run on.
#   type         threads    a pool of worker threads on this machine
#                processes  a pool of worker processes on this machine
#                slurm      a SLURM cluster, jobs submitted as job arrays
#   max          at most this many jobs at once on this executor (optional;
#                without it, a local pool follows the machine that runs the
#                plan: \`--jobs N\` when given, else its CPUs - 1, at least 1)
#   runs         which kinds of stage it accepts: ["run", "fn"] (the default),
#                ["run"] (commands only) or ["fn"] (JavaScript functions only)
#   description  what this executor is for (optional)
#
# This machine has ${cores}, so the built-in executors get ${workers} worker${workers === 1 ? "" : "s"} each.
# Uncomment \`max\` to fix the number wherever the file is copied.

[executors.threads]
type = "threads"
# max = ${workers}

[executors.processes]
type = "processes"
# max = ${workers}

# A SLURM executor also takes (all optional):
#   partition, account, qos  sbatch's --partition, --account, --qos
#   time                     default --time for jobs that set none: "1h30m" or "01:30:00"
#   mem                      default --mem for jobs that set none: "4G", or megabytes
#   cpus                     default --cpus-per-task for jobs that set none
#   options                  extra sbatch options, e.g. ["--constraint=avx2"]
#   licenses                 false if the cluster has no SLURM licenses for named
#                            limits (they are then enforced by serializing arrays)
#   max_array_size           the cluster's MaxArraySize (default: from scontrol, else 1001)
#
# [executors.cluster]
# type = "slurm"
# partition = "short"
# time = "01:00:00"
# mem = "4G"
# max = 100

# --------------------------------------------------------------- containers
# A \`run\` stage with \`container: IMAGE\` runs in that image. Its engine is
# its executor's \`container_engine\` (any executor table above takes it),
# else [containers] engine, else the built-in one: podman for threads and
# processes, apptainer for slurm. Engines: podman, docker, apptainer, singularity.
#
# [containers]
# engine = "podman"
#
# Extra options per engine, placed before the image (bind paths, GPU flags):
# [containers.options]
# podman = ["--security-opt=label=disable"]
# apptainer = ["--nv", "-B", "/scratch"]
#
# This site's copy of an image; a copy that is an image file (.sif) is used
# by apptainer and singularity executors only:
# [containers.images]
# "docker.io/biocontainers/bwa:0.7.17" = "/shared/sif/bwa.sif"

# -------------------------------------------------------------------- conda
# A stage with \`conda: ENV\` activates that environment first; frontend is
# the program that creates and activates it: conda (the built-in), mamba or
# micromamba.
#
# [conda]
# frontend = "conda"

# ------------------------------------------------------------------ mapping
# [map.stages] maps a stage, by name, to an executor; [map.labels] maps
# every stage carrying a label (the stage's \`labels\`) to one. An \`executor\`
# set in the workflow (on the stage or in \`defaults\`) overrides both, and a
# stage's name wins over its labels. An executor named here may be
# defined in any config file, be built in (threads, processes), or be
# defined by the workflow.
#
# [map.stages]
# search = "processes"
#
# [map.labels]
# gpu = "cluster"

# ---------------------------------------------------------------- resources
# What a stage's jobs request, by stage name: mem, time and cpus replace the
# stage's own (and defaults'). \`wfc suggest -o FILE\` writes them from what
# measured runs used; stack that file on this one with a second --config.
#
# [resources.align]
# mem = "1G"
# time = "30m"
# cpus = 4
`;
}
