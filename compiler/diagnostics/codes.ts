/**
 * Every diagnostic code wfc can report, each with its one-line meaning.
 * `Diagnostic.code` is a `DiagnosticCode`, so a typo or a code missing here
 * fails the build; test/unit/diagnostic-codes.test.ts checks that
 * docs/errors.md lists exactly these codes with these meanings. Codes are
 * never reused: a retired code leaves this table and stays in docs/errors.md,
 * marked retired.
 */
export const CODES = {
  // Reading and parsing a file.
  WFC001: "YAML syntax error",
  WFC002: "TOML syntax error",
  WFC003: "JSON syntax error",
  WFC004: "duplicate key (YAML, TOML or JSON)",
  WFC005: "the file cannot be read (missing, a directory, no permission)",
  WFC006: "unknown file extension (expected .yaml, .yml, .toml or .json)",
  // Schema violations.
  WFC100: "schema violation not covered by a more specific code",
  WFC101: "wrong type or shape",
  WFC102: "unknown key (with a did-you-mean)",
  WFC103: "missing required key",
  WFC104: "value not among the allowed ones",
  WFC105: "number, length or count out of range",
  WFC106: "invalid name or format (durations, memory sizes, `fn` references)",
  WFC107: "unsupported language version (`wfc:`)",
  WFC108: "repeated item in a list that must be unique",
  // Workflow checks beyond the schema.
  WFC201: "unknown stage in `after`",
  WFC202: "unknown limit",
  WFC203: "unknown executor",
  WFC204: "dependency cycle (with the whole trail), or a stage depending on itself",
  WFC205: "a template placeholder that resolves to nothing",
  WFC206: "two stages write the same output",
  WFC207: "an output does not use every fan-out variable, so jobs would overwrite each other",
  WFC208: "the stage's executor cannot run this kind of stage (`runs`)",
  WFC209: "a limit below 1",
  WFC210: "a stage with both `run` and `fn`, or neither",
  WFC211: "`zip` names something that is not a foreach variable of the stage",
  WFC212: "a `foreach` variable with no source, or with several (`range`, `glob`, `sheet`)",
  WFC213: "a sample sheet that cannot be read (no such file, no permission)",
  WFC214: "`fn` module not found",
  WFC215: "a stage's weight on a limit exceeds the limit's capacity",
  WFC216: "`--param` or the params file names no param of the workflow",
  WFC217: "a fan-out with no elements (empty list, empty range, glob matching nothing)",
  WFC218: "more than one inline cap in a stage's `limit`",
  WFC219: "a limit no stage uses",
  WFC220: "a reserved name (`params`, `inputs`, `outputs`, `stage`) used as a foreach variable",
  WFC221: "a glob in an output",
  WFC222: "a malformed template (unclosed `{`, unmatched `}`, not a placeholder)",
  WFC223: "an output that uses `..`, is empty, is the workflow's folder or is inside `.wfc/`",
  WFC224: "an absolute output (outputs are relative to the workflow's folder)",
  WFC225: "a glob (a `foreach` source or an input) that is absolute or uses `..`",
  WFC228: "a placeholder in a shell command where no quoting holds (see below)",
  WFC229: "a placeholder right after `\\` or `$` in a shell command: it would undo the quoting",
  WFC230: "a placeholder after shell code wfc cannot follow (see below)",
  WFC232: "too many elements: over 10,000,000 in a stage, 50,000,000 in a workflow",
  WFC233: "a range bound beyond ±2^53, where integers are rounded",
  WFC234: "a sample sheet that is not a plain file (a device, a pipe)",
  WFC235: "a `timeout` of 0 or over 24 days, a `time` or `expected` over 10 years",
  WFC236: "`key` on a `foreach` source that is not a `sheet`",
  WFC237: "a `foreach` source or a range bound that is text, not a `{params.name}` reference",
  WFC238: "a `foreach` source param that is not a list, or a range bound param not an integer",
  WFC239: "a range step of 0",
  WFC240: "a `foreach` glob that uses its variable more than once",
  WFC241: "a placeholder a `foreach` glob cannot use (only its variable and `{params.name}`)",
  WFC242: "a sample sheet that is malformed (rows of different lengths, bad quoting) or empty",
  WFC243: "a sample sheet without the key column",
  WFC244: "a sample sheet with a key in two rows",
  WFC245: "a sample sheet over 256 MiB",
  WFC246: "`zip` of variables with different numbers of values",
  WFC247: "a `--param` or params-file value that is not of the param's type",
  WFC248: "a list param in an input or output path",
  WFC249: "`{inputs…}` or `{outputs…}` in an input or output path",
  WFC250: "a params file that is not a map of param names to plain values",
  // `wfc run` targets (`TARGET…`, `--until`, `--forcerun`).
  WFC261: "a malformed target, or `stage[var=value]` given to `--forcerun`",
  WFC262: "a target, `--until` or `--forcerun` that names no stage of the workflow",
  WFC263: "a target that gives a value to a variable its stage does not fan out over",
  WFC264: "a target whose values no element of its stage has",
  WFC265: "a target path that no stage writes",
  // Config files.
  WFC301:
    "a config file cannot be read: `--config` or `$WFC_CONFIG` names no file, or a file on the search path is a directory or unreadable",
  WFC302: "a config file named by `--config` or `$WFC_CONFIG` has an extension other than .toml, .yaml, .yml or .json",
  WFC303: "`[map.stages]` or `[map.labels]` names an executor no config file defines, so the workflow must define it",
} as const;

export type DiagnosticCode = keyof typeof CODES;
