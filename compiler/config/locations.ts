import { isAbsolute, join, resolve } from "node:path";
import type { ConfigEnvironment, ConfigLocation } from "./config.js";

/** The config file wfc looks for in the current directory, and the one `wfc config init` writes. */
export const PROJECT_CONFIG = "wfc.config.toml";

/**
 * The config search path, highest precedence first: each `--config FILE`,
 * `$WFC_CONFIG`, `./wfc.config.toml`, the user config dir, then each site
 * config dir. Pure: everything it depends on is in `environment`.
 *
 * The user and site dirs follow the XDG Base Directory spec: an unset or
 * empty variable means its default (`~/.config`, `/etc/xdg`), and relative
 * paths in either variable are ignored, as the spec requires.
 */
export function configLocations(environment: ConfigEnvironment): ConfigLocation[] {
  const { explicit, env, cwd, home } = environment;
  const out: ConfigLocation[] = [];
  // `--config site.toml --config suggested.toml`: each in the order given, the first winning.
  for (const path of typeof explicit === "string" ? [explicit] : (explicit ?? []))
    out.push({ level: "--config", path, absolute: resolve(cwd, path), required: true });
  // An empty `WFC_CONFIG=` counts as unset, like the XDG variables.
  const fromEnv = env.WFC_CONFIG;
  if (fromEnv !== undefined && fromEnv !== "") {
    out.push({ level: "$WFC_CONFIG", path: fromEnv, absolute: resolve(cwd, fromEnv), required: true });
  }
  out.push({ level: "current directory", path: `./${PROJECT_CONFIG}`, absolute: resolve(cwd, PROJECT_CONFIG), required: false });

  const configHome = absoluteOr(env.XDG_CONFIG_HOME, join(home, ".config"));
  const user = join(configHome, "wfc", "config.toml");
  out.push({ level: "user", path: user, absolute: user, required: false });

  const dirs = (env.XDG_CONFIG_DIRS ?? "").split(":").filter((dir) => dir !== "");
  const siteDirs = dirs.length === 0 ? ["/etc/xdg"] : dirs.filter((dir) => isAbsolute(dir));
  for (const dir of siteDirs) {
    const site = join(dir, "wfc", "config.toml");
    out.push({ level: "site", path: site, absolute: site, required: false });
  }
  return out;
}

function absoluteOr(value: string | undefined, fallback: string): string {
  return value !== undefined && isAbsolute(value) ? value : fallback;
}
