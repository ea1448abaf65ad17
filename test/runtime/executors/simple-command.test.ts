// Which shell commands run without a shell, and that the argv built for them
// is exactly the one /bin/sh would build (checked against a real sh).
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { shellQuote } from "../../../contract/shell/quote.js";
import { simpleCommandArgv } from "../../../runtime/executors/simple-command.js";
import { tempDir } from "./helpers.js";

const { dir, cleanup } = tempDir();
afterAll(cleanup);
// Prints each argument NUL-terminated: what sh passed to it.
const printer = join(dir, "args");
writeFileSync(printer, "#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done\n");
chmodSync(printer, 0o755);
const viaSh = (words: string): string[] => {
  const out = spawnSync("/bin/sh", ["-c", `${printer} ${words}`], { encoding: "utf8" });
  return out.stdout.split("\0").slice(0, -1);
};

describe("simpleCommandArgv", () => {
  test.each([
    ["touch out/1.txt", ["touch", "out/1.txt"]],
    ["cp  s0/3.txt\ts1/3.txt ", ["cp", "s0/3.txt", "s1/3.txt"]],
    ["sleep 0.05", ["sleep", "0.05"]],
    ["cp 'a b.txt' c", ["cp", "a b.txt", "c"]],
    ["grep 'it'\\''s' x", ["grep", "it's", "x"]],
    ["tool --opt=a,b:c@d%e+f ''", ["tool", "--opt=a,b:c@d%e+f", ""]],
    ["x'y'z 'p''q'", ["xyz", "pq"]],
  ])("%j runs directly as %j", (command, argv) => {
    expect(simpleCommandArgv(command)).toEqual(argv);
  });

  test.each([
    "echo {i} > out.txt",
    "ls out | wc -l",
    "a; b",
    "a && b",
    "rm *.tmp",
    "cat ~/x",
    'grep "quoted" x',
    "echo $HOME",
    "echo `date`",
    "a # comment",
    "cd /tmp",
    "export X=1",
    "FOO=1 tool",
    "echo plain words",
    "printf x",
    "for x in a b",
    "exit 3",
    "unclosed 'quote",
    "back\\slash",
    "",
    "   ",
    "ünïcødé",
    "a\nb",
  ])("%j goes through sh", (command) => {
    expect(simpleCommandArgv(command)).toBeNull();
  });

  test("any words shellQuote produces come back unchanged, as sh would split them", () => {
    const word = fc.string({ unit: fc.constantFrom(..."ab/._-=:,@%+'\"\\ $`*?~#;&|<>(){}[]!\t\nü"), maxLength: 8 });
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), (words) => {
        const command = [printer, ...words].map(shellQuote).join(" ");
        const argv = simpleCommandArgv(command);
        if (argv !== null) expect(argv).toEqual([printer, ...words]);
        // Whether or not it qualified, sh agrees on the words.
        expect(viaSh(words.map(shellQuote).join(" "))).toEqual(words);
      }),
      { numRuns: 200 },
    );
  });

  test("words that qualify are split as sh splits them", () => {
    const command = fc.stringMatching(/^[a-z '.\\=-]{0,20}$/);
    fc.assert(
      fc.property(command, (rest) => {
        const argv = simpleCommandArgv(`${printer} ${rest}`);
        if (argv !== null) expect(argv.slice(1)).toEqual(viaSh(rest));
      }),
      { numRuns: 300 },
    );
  });
});
