import { describe, expect, test } from "vitest";
import { parseDuration, parseMemory } from "../../compiler/lower/units.js";

describe("parseDuration (seconds)", () => {
  test.each([
    [90, 90],
    [0, 0],
    [1.5, 1.5],
    ["90s", 90],
    ["5m", 300],
    ["1h30m", 5400],
    ["2d", 172_800],
    ["250ms", 0.25],
    ["1.5h", 5400],
    ["1d2h3m4s", 93_784],
  ] as const)("%j is %d s", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test.each([
    // SLURM's clock forms: MM:SS, HH:MM:SS, D-HH:MM:SS.
    ["05:30", 330],
    ["5:30", 330],
    ["01:30:00", 5400],
    ["00:00:01", 1],
    ["2-00:00:00", 172_800],
    ["1-02:03:04", 93_784],
  ] as const)("clock %j is %d s", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test("D-HH:MM is days, hours and minutes, as SLURM reads it", () => {
    // sbatch --time: "days-hours:minutes", so 2-12:30 is 2 days 12 hours 30 minutes.
    expect(parseDuration("2-12:30")).toBe(2 * 86_400 + 12 * 3600 + 30 * 60);
  });

  test.each(["", "90", "1h 30m", "h", "1:2:3", "1:2", "-5s", "5 s", "1h30", "1x", "01:30:00:00"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test("a negative number of seconds is not a duration", () => {
    expect(parseDuration(-1)).toBeUndefined();
  });
});

describe("parseMemory (megabytes)", () => {
  test.each([
    [512, 512],
    ["512M", 512],
    ["512m", 512],
    ["4G", 4096],
    ["4GiB", 4096],
    ["4gb", 4096],
    ["4 G", 4096],
    ["1.5G", 1536],
    ["1T", 1_048_576],
    ["2048K", 2],
    // Below a megabyte rounds up: a job never gets less than it asked for.
    ["1K", 1],
    ["1500K", 2],
  ] as const)("%j is %d MB", (text, megabytes) => {
    expect(parseMemory(text)).toBe(megabytes);
  });

  test.each([0, -1, 1.5, "", "4", "4X", "G", "4 GB B", "-4G", "4Gi"])("%j is not a memory size", (value) => {
    expect(parseMemory(value)).toBeUndefined();
  });
});
