# A host with sops secrets: a service's secrets and an environment file rendered from them
# (the service restarts when they change), and a user password read before users are created.
# The secrets are in secrets/secrets.yaml, encrypted (see .sops.yaml) to the age key
# ../keys/age-key.txt, a throwaway demo key; on a real host use its ssh host key
# (`sops-install recipient` prints the line to put in .sops.yaml).
{ config, pkgs, ... }:
{
  sops = {
    defaultSopsFile = ./secrets/secrets.yaml;
    # The ed25519 ssh host key is used by default when openssh is enabled; an age key
    # file works too (a string: a Nix path would copy the key into the store).
    age.keyFile = "/var/lib/sops-nix/key.txt";

    secrets = {
      "myapp/api-token" = {
        owner = "myapp";
        restartUnits = [ "myapp.service" ];
      };
      "myapp/db-password".restartUnits = [ "myapp.service" ];
      # Read before the users exist (users.mutableUsers = false needs it then).
      alice-password.neededForUsers = true;
    };

    templates."myapp.env" = {
      owner = "myapp";
      content = ''
        API_TOKEN=${config.sops.placeholder."myapp/api-token"}
        DATABASE_URL=postgres://myapp:${config.sops.placeholder."myapp/db-password"}@localhost/myapp
      '';
      restartUnits = [ "myapp.service" ];
    };
  };

  systemd.services.myapp = {
    description = "Example service reading its secrets";
    wantedBy = [ "multi-user.target" ];
    serviceConfig = {
      User = "myapp";
      EnvironmentFile = config.sops.templates."myapp.env".path;
      ExecStart = "${pkgs.coreutils}/bin/sleep infinity";
    };
  };

  users.mutableUsers = false;
  users.users.myapp = {
    isSystemUser = true;
    group = "myapp";
  };
  users.groups.myapp = { };
  users.users.alice = {
    isNormalUser = true;
    hashedPasswordFile = config.sops.secrets.alice-password.path;
  };

  services.openssh.enable = true;
  boot.loader.grub.enable = false;
  fileSystems."/".device = "/dev/null";
  system.stateVersion = "25.11";
}
