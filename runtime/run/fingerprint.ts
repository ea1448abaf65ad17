/**
 * A step's fingerprint: everything a command of the step depends on but
 * the element, so that the journal can vouch for a command it has seen.
 *
 * An up-to-date check compares the hash of a unit's command now with the
 * hash its journal record keeps (freshness.ts). Building every command to
 * hash it is most of a no-op re-run's work (0.7 s of 50,000 units). A
 * record also keeps the fingerprint of its step when it was written; when
 * that is the step's fingerprint now, the command now is the command then
 * (it is a function of the fingerprint and of the element's identity, by
 * which the record is found), so its hash is the record's and the check
 * needs only the paths.
 *
 * The fingerprint covers the step's whole task as the plan writes it (its
 * templates, its elements' values and sheet fields, its `cpus`), the
 * plan's params, and wfc's version (the code that turns them into
 * commands). A step that reads a glob has none: what it gathers depends
 * on the file system or on other tasks' elements, so its command is built
 * every time.
 */
import { createHash } from "node:crypto";
import type { Plan } from "../../contract/plan.js";
import { canonicalJson } from "../../contract/canonical-json.js";
import { packageVersion } from "../../contract/package-root.js";

export class StepFingerprints {
  readonly #plan: Plan;
  /** Per task, per step: the fingerprint, null when it has none; made when first asked for. */
  readonly #known: ((string | null)[] | undefined)[];

  constructor(plan: Plan) {
    this.#plan = plan;
    this.#known = plan.tasks.map(() => undefined);
  }

  /** Step `step` of task `task`'s fingerprint, undefined when its commands must be built to be known. */
  of(task: number, step: number): string | undefined {
    let steps = this.#known[task];
    if (steps === undefined) {
      const t = this.#plan.tasks[task]!;
      // Keys sorted: a plan read from plan.json and the same plan compiled in memory order them differently.
      const whole = createHash("sha256")
        .update(canonicalJson([packageVersion(), this.#plan.params, t]))
        .digest("hex");
      steps = t.steps.map((s, i) => (s.inputs.some((x) => x.glob) ? null : `${whole.slice(0, 32)}.${i}`));
      this.#known[task] = steps;
    }
    return steps[step] ?? undefined;
  }
}
