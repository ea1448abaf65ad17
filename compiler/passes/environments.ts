import type { ContainerEngine, PlanEngines, PlanEnvironment } from "../../contract/plan.js";
import type { CondaConfig, ContainersConfig, Origin } from "../config/config.js";
import { builtinEngine } from "../config/executors.js";
import type { ExecutorDef } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import type { Note } from "./executors.js";
import type { DraftTask } from "./tasks.js";

/** What config files contribute to environments: `[containers]` and `[conda]`; absent: the built-in defaults. */
export interface EnvironmentConfig {
  readonly containers?: ContainersConfig;
  readonly conda?: CondaConfig;
}

export interface Environments {
  /** Stage name → the plan step's environment; only stages that have one. */
  readonly steps: ReadonlyMap<string, PlanEnvironment>;
  /** Executor name → its engines; only executors with a step in a container or a conda environment. */
  readonly engines: ReadonlyMap<string, PlanEngines>;
  readonly notes: readonly Note[];
}

/** An executor's container engine and which rule chose it: its own `container_engine`, the config's `[containers] engine`, the built-in one. */
export function engineOf(def: ExecutorDef, containers: ContainersConfig | undefined): { engine: ContainerEngine; reason: string } {
  if (def.containerEngine !== undefined) return { engine: def.containerEngine, reason: `the executor's \`container_engine\`` };
  const configured = containers?.engine;
  if (configured !== undefined) return { engine: configured.value, reason: `\`[containers] engine\` in ${where(configured.origin)}` };
  return { engine: builtinEngine(def.type), reason: `built-in for ${def.type} executors` };
}

/** Whether an image names a file (Apptainer's `.sif`), which only Apptainer and Singularity run. */
export function isImageFile(image: string): boolean {
  return /^(\/|\.\.?\/)/.test(image) || /\.(sif|simg)$/.test(image);
}

function where(origin: Origin): string {
  return origin.kind === "file" ? origin.file : "the built-in config";
}

/**
 * Each step's environment as the plan records it, and each executor's
 * engines. A container becomes this site's copy when `[containers.images]`
 * maps it, per the step's executor: a mapping to an image file applies
 * only where the engine runs image files (Apptainer, Singularity), so one
 * config serves a podman laptop and an Apptainer cluster alike. An
 * executor gets `engines` only when one of its steps needs them, so plans
 * without environments stay as they were.
 */
export function resolveEnvironments(
  tasks: readonly DraftTask[],
  executors: ReadonlyMap<string, ExecutorDef>,
  config: EnvironmentConfig | undefined,
  sink: DiagnosticSink,
): Environments {
  const steps = new Map<string, PlanEnvironment>();
  const containerEngines = new Map<string, PlanEngines["container"]>();
  const condaExecutors = new Set<string>();
  const lines: string[] = [];
  const reported = new Set<string>();
  const frontend = config?.conda?.frontend ?? { value: "conda" as const, origin: { kind: "built-in" as const } };
  for (const task of tasks) {
    const name = task.executor!.name;
    const def = executors.get(name)!;
    for (const stage of task.stages) {
      const env = stage.environment;
      if (env === undefined) {
        lines.push(`\`${stage.name}\` runs ${stage.action?.kind === "fn" ? "in wfc's own Node worker" : "on the host as it is"}`);
        continue;
      }
      if (env.container !== undefined) {
        const { engine, reason } = engineOf(def, config?.containers);
        const mapping = config?.containers?.images.get(env.container.image);
        const usable = mapping !== undefined && (!isImageFile(mapping.value) || engine === "apptainer" || engine === "singularity");
        const image = usable ? mapping.value : env.container.image;
        const unusable = `${env.container.path.join(".")} on ${name}`;
        if (isImageFile(image) && engine !== "apptainer" && engine !== "singularity" && !reported.has(unusable)) {
          // Once per place and executor: a default image file is one mistake, however many stages take it.
          reported.add(unusable);
          // podman and docker run images from a store, never a file: the first job would fail.
          sink.error(
            "WFC294",
            `stage \`${stage.name}\` runs on \`${name}\`, whose engine ${engine} cannot run the image file \`${image}\``,
            env.container.path,
            {
              expected: "an image reference, like `docker.io/library/debian:12`, for podman and docker",
              help: `give \`${name}\` \`container_engine = "apptainer"\`, or map the image to a reference in \`[containers.images]\``,
              ...(env.container.path[0] === "defaults"
                ? { related: [{ path: stage.path, message: `stage \`${stage.name}\` takes it from \`defaults\``, part: "key" as const }] }
                : {}),
            },
          );
        }
        steps.set(stage.name, { container: image });
        containerEngines.set(name, { engine, options: [...(config?.containers?.options.get(engine)?.value ?? [])] });
        const mapped = usable
          ? ` (\`${env.container.image}\` mapped by \`[containers.images]\` in ${where(mapping.origin)})`
          : mapping !== undefined
            ? ` (\`[containers.images]\` maps it to an image file, which ${engine} does not run)`
            : "";
        lines.push(`\`${stage.name}\` runs in container \`${image}\`${mapped} with ${engine} on \`${name}\` (${reason})`);
        continue;
      }
      const modules = env.modules?.names;
      const conda = env.conda?.conda;
      steps.set(stage.name, { ...(modules !== undefined ? { modules: [...modules] } : {}), ...(conda !== undefined ? { conda } : {}) });
      const parts: string[] = [];
      if (modules !== undefined) parts.push(`loads module${modules.length === 1 ? "" : "s"} ${modules.map((m) => `\`${m}\``).join(", ")}`);
      if (conda !== undefined) {
        condaExecutors.add(name);
        const what =
          conda.kind === "file"
            ? `environment file \`${conda.path}\` (sha256 ${conda.sha256.slice(0, 12)}…)`
            : conda.kind === "prefix"
              ? `prefix \`${conda.path}\``
              : `environment \`${conda.name}\``;
        parts.push(
          `${modules !== undefined ? "then " : ""}activates conda ${what} with ${frontend.value} (${frontend.origin.kind === "built-in" ? "built-in" : `\`[conda] frontend\` in ${where(frontend.origin)}`})`,
        );
      }
      lines.push(`\`${stage.name}\` ${parts.join(", ")} on the host, on \`${name}\``);
    }
  }
  const engines = new Map<string, PlanEngines>();
  for (const name of [...new Set([...containerEngines.keys(), ...condaExecutors])].sort()) {
    const container = containerEngines.get(name);
    engines.set(name, {
      ...(container !== undefined ? { container } : {}),
      ...(condaExecutors.has(name) ? { conda: { frontend: frontend.value } } : {}),
    });
  }
  // Only a workflow with an environment has the section: other workflows' explanations stay as they were.
  const notes: Note[] = steps.size === 0 ? [] : lines.map((message) => ({ topic: "environment", message }));
  return { steps, engines, notes };
}
