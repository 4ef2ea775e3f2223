# `restartUnits` and `reloadUnits` of a secret or template (`what`): system units on NixOS,
# the user's own in home-manager (`userMode`): systemd user units on Linux (`systemctl
# --user`), launchd agent labels on macOS (`launchctl kickstart -k` / `kill SIGHUP`).
{ lib, userMode }:
what:
let
  inherit (lib) mkOption types;
  units = if userMode then "User units (launchd labels on macOS)" else "Units";
  example =
    if userMode then
      [
        "syncthing.service"
        "org.nix-community.home.syncthing"
      ]
    else
      [ "sshd.service" ];
in
{
  restartUnits = mkOption {
    type = types.listOf types.str;
    default = [ ];
    inherit example;
    description = "${units} to restart when ${what} is added or changes.";
  };
  reloadUnits = mkOption {
    type = types.listOf types.str;
    default = [ ];
    inherit example;
    description = "${units} to reload when ${what} is added or changes.";
  };
}
