import { describe, expect, test } from "vitest";
import { configLocations } from "../../compiler/config/locations.js";

const base = { cwd: "/work/project", home: "/home/ana" };
const rows = (env: Record<string, string | undefined>, explicit?: string) =>
  configLocations({ ...base, env, explicit }).map((l) => [l.level, l.path, l.absolute, l.required]);

describe("the config search path", () => {
  test("with nothing set: the current directory, then XDG's defaults", () => {
    expect(rows({})).toEqual([
      ["current directory", "./wfc.config.toml", "/work/project/wfc.config.toml", false],
      ["user", "/home/ana/.config/wfc/config.toml", "/home/ana/.config/wfc/config.toml", false],
      ["site", "/etc/xdg/wfc/config.toml", "/etc/xdg/wfc/config.toml", false],
    ]);
  });

  test("--config and $WFC_CONFIG come first, shown as given, resolved against the current directory, and required", () => {
    expect(rows({ WFC_CONFIG: "../shared/wfc.yaml" }, "conf/local.toml").slice(0, 2)).toEqual([
      ["--config", "conf/local.toml", "/work/project/conf/local.toml", true],
      ["$WFC_CONFIG", "../shared/wfc.yaml", "/work/shared/wfc.yaml", true],
    ]);
  });

  test("XDG_CONFIG_HOME and every XDG_CONFIG_DIRS entry, in order", () => {
    expect(rows({ XDG_CONFIG_HOME: "/cfg", XDG_CONFIG_DIRS: "/site/a:/site/b" }).slice(1)).toEqual([
      ["user", "/cfg/wfc/config.toml", "/cfg/wfc/config.toml", false],
      ["site", "/site/a/wfc/config.toml", "/site/a/wfc/config.toml", false],
      ["site", "/site/b/wfc/config.toml", "/site/b/wfc/config.toml", false],
    ]);
  });

  test("empty variables mean unset, and relative XDG paths are ignored, as the XDG spec says", () => {
    const levels = (env: Record<string, string>) => configLocations({ ...base, env }).map((l) => l.path);
    expect(levels({ WFC_CONFIG: "", XDG_CONFIG_HOME: "", XDG_CONFIG_DIRS: "" })).toEqual([
      "./wfc.config.toml",
      "/home/ana/.config/wfc/config.toml",
      "/etc/xdg/wfc/config.toml",
    ]);
    expect(levels({ XDG_CONFIG_HOME: "rel/cfg", XDG_CONFIG_DIRS: "rel:/abs::" })).toEqual([
      "./wfc.config.toml",
      "/home/ana/.config/wfc/config.toml",
      "/abs/wfc/config.toml",
    ]);
  });
});
