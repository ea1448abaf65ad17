/**
 * Element identities (contract/identity.ts) and the log file names made
 * from them (runtime/run/logs.ts), fuzzed with hostile values: slashes,
 * `..`, newlines, NUL, separators, non-ASCII, very long values, repeats.
 * No two elements of a space share an identity; a log name is always one
 * safe file name, and two jobs' names never collide.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ElementIdentities, encodeValue } from "../../contract/identity.js";
import type { IndexSpace, PlanVar, Scalar } from "../../contract/plan.js";
import { logFileName } from "../../runtime/run/logs.js";

/** Values that break naive names: path parts, separators, control characters, long runs. */
const hostile = fc.oneof(
  fc.constantFrom(
    "",
    ".",
    "..",
    "/",
    "a/b",
    "../x",
    "x\ny",
    "\0",
    "\uD800",
    "\uDFFF",
    "\uFFFD",
    ",",
    "=",
    "a,b=c",
    "%",
    "%2C",
    "+1",
    "@2",
    "~",
    "-rf",
    " ",
    "é",
    "😀",
  ),
  fc.string({ unit: "grapheme-composite", maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.string({ maxLength: 2 }).map((s) => s.repeat(150)),
  fc.integer({ min: -5, max: 5 }),
  fc.boolean(),
);

const space = fc.array(fc.array(hostile, { minLength: 1, maxLength: 5 }), { minLength: 0, maxLength: 3 }).map((lists): IndexSpace => {
  const vars: PlanVar[] = lists.map((values, k) => ({ name: `v${k}`, values: values as Scalar[] }));
  return { vars, zip: [], size: lists.reduce((n, l) => n * l.length, 1) };
});

const safeName = (name: string) =>
  name !== "." && name !== ".." && !/[/\0\n\r]/.test(name) && Buffer.byteLength(name) <= 255 && name.endsWith(".log");

describe("element identities", () => {
  test("no two elements of a space share an identity, even when a list repeats a value", () => {
    fc.assert(
      fc.property(space, (s) => {
        const ids = new ElementIdentities(s);
        const all = Array.from({ length: s.size }, (_, i) => ids.of(i));
        expect(new Set(all).size).toBe(s.size);
      }),
    );
  });

  test("an identity does not depend on the element's position: a reordered list gives the same set", () => {
    fc.assert(
      fc.property(fc.uniqueArray(hostile, { minLength: 1, maxLength: 6, selector: (v) => encodeValue(v) }), (values) => {
        const of = (list: readonly Scalar[]) => {
          const ids = new ElementIdentities({ vars: [{ name: "s", values: list }], zip: [], size: list.length });
          return list.map((_, i) => ids.of(i));
        };
        expect(of(values.toReversed()).toSorted()).toEqual(of(values).toSorted());
      }),
    );
  });

  test("values are encoded unambiguously", () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        if (String(a) !== String(b)) expect(encodeValue(a)).not.toBe(encodeValue(b));
        expect(encodeValue(a)).toMatch(/^[\w.%-]*$/);
      }),
    );
    expect(
      new ElementIdentities({
        vars: [
          { name: "s", values: ["a,t=b"] },
          { name: "t", values: ["c"] },
        ],
        zip: [],
        size: 1,
      }).of(0),
    ).toBe("s=a%2Ct%3Db,t=c");
  });
});

describe("log file names", () => {
  test("one safe file name per job, never the same for two jobs", () => {
    fc.assert(
      fc.property(space, fc.integer({ min: 1, max: 4 }), (s, batch) => {
        const ids = new ElementIdentities(s);
        const names = new Set<string>();
        for (let first = 0; first < s.size; first += batch) {
          const name = logFileName(ids.of(first), Math.min(batch, s.size - first));
          expect(safeName(name), name).toBe(true);
          names.add(name);
        }
        expect(names.size).toBe(Math.ceil(s.size / batch));
      }),
    );
  });

  test("a very long identity becomes its start and a hash of all of it", () => {
    const long = (c: string) => `s=${"v".repeat(300)}${c}`;
    expect(logFileName(long("a"), 1)).not.toBe(logFileName(long("b"), 1));
    expect(logFileName(long("a"), 1)).toMatch(/^s=v+~[0-9a-f]{32}\.log$/);
    expect(logFileName("", 1)).toBe("_.log");
    expect(logFileName("s=a", 3)).toBe("s=a+2.log");
  });
});
