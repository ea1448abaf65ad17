/** A user-facing reason the run cannot start (a lock held by another run, an invalid plan): exit 2, nothing run. */
export class RunError extends Error {}
