import { expect, test } from "vitest";
import { encodeRequest, parseReply } from "../../../runtime/executors/pool-protocol.js";

test("a request is a header with the byte length, then NUL-separated fields, commands in order", () => {
  const spec = {
    id: "x",
    commands: [
      { argv: ["printf", "%s", "ü"], env: [["A", "1"] as const] },
      { argv: ["true"], env: [] },
    ],
    cwd: "/w d",
    log: "/l",
  };
  const buf = encodeRequest(7, spec);
  const text = buf.toString("utf8");
  // cwd, log, 2 commands; then per command: env pairs, argv items, the pairs, the argv.
  const payload = "/w d\0/l\x002\x001\x003\0A\x001\0printf\0%s\0ü\x000\x001\0true";
  expect(text).toBe(`J 7 ${Buffer.byteLength(payload)}\n${payload}`);
});

test("replies parse; anything else, or a pid that would signal everyone, is not the protocol", () => {
  expect(parseReply("R 42 1")).toEqual({ type: "ready", pid: 42, hires: true });
  expect(parseReply("S 3 1234 1700000000000.125")).toEqual({ type: "started", seq: 3, pid: 1234, at: 1700000000000.125 });
  expect(parseReply("E 3 36608 -")).toEqual({ type: "exited", seq: 3, status: 36608, at: null, usage: null });
  expect(parseReply(`F 3 5.5 ${Buffer.from("no ü").toString("hex")}`)).toEqual({ type: "failed", seq: 3, at: 5.5, message: "no ü" });
  for (const bad of ["", "S 3 0 1", "S 3 1 1", "S 3 -5 1", "E 3 x 1", "F 3 1 abc", "X 1", "S 3 12 1 extra", "R 1"]) {
    expect(parseReply(bad)).toBeNull();
  }
});
