# checks.<system>: the package, the tests that need no root (in the build sandbox), nixfmt over
# every .nix file, evaluation/build checks of the three modules (the manifest derivations run
# sops-install -check-mode=sopsfile on the test sops files), the host-recipient failure, and on
# Linux the NixOS VM tests. The home-manager and nix-darwin checks only when
# those flakes are given (the development flake nix/dev does; the public flake has neither).
{
  pkgs,
  lib,
  self,
  home-manager ? null,
  nix-darwin ? null,
}:
let
  inherit (pkgs.stdenv.hostPlatform) system isLinux isDarwin;
  assets = ./tests/assets;
  ageRecipient = "age19dv623ttvfx52krhzxqqcy6eta2q3wze2tf22qu7njx6y7e2up4ss5k5ak";

  nixos =
    extra:
    lib.nixosSystem {
      inherit system;
      modules = [
        self.nixosModules.sops
        {
          boot.loader.grub.enable = false;
          fileSystems."/".device = "/dev/null";
          system.stateVersion = "25.11";
          sops.age.keyFile = "/var/lib/sops-nix/key.txt";
          sops.defaultSopsFile = assets + "/secrets.yaml";
        }
        extra
      ];
    };

  evalSystem = nixos (
    { config, ... }:
    {
      users.users.someuser = {
        isSystemUser = true;
        group = "somegroup";
      };
      users.groups.somegroup = { };
      sops.hostRecipients = [ ageRecipient ];
      sops.secrets = {
        test_key.owner = "someuser";
        "nested/test/file" = { };
        json = {
          sopsFile = assets + "/secrets.json";
          format = "json";
          key = "test_key";
        };
        dotenv = {
          sopsFile = assets + "/secrets.env";
          format = "dotenv";
        };
        ini = {
          sopsFile = assets + "/secrets.ini";
          format = "ini";
        };
        bin = {
          sopsFile = assets + "/secrets.bin";
          format = "binary";
        };
        password = {
          key = "test_key";
          neededForUsers = true;
        };
      };
      sops.templates."app.env".content = "KEY=${config.sops.placeholder.test_key}\n";
    }
  );

  foreignSystem = nixos {
    sops.hostRecipients = [ ageRecipient ];
    sops.secrets.foreign = {
      sopsFile = assets + "/foreign.yaml";
      key = "test_key";
    };
  };

  package = pkgs.callPackage ./package.nix { };

  # Every .nix file of the flake (only tracked files are in a flake's source).
  nixFiles = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.fileFilter (file: file.hasExt "nix") ../.;
  };
in
{
  sops-install = package;

  # The library's unit tests and the test targets that need no root (issue 17 item 7).
  tests-without-root = pkgs.callPackage ./tests/without-root.nix { };

  # Every .nix file is as nixfmt (RFC 166 style, the flake's formatter) writes it; fix with
  # `nix fmt` (or `nixfmt FILE...`).
  nixfmt = pkgs.runCommand "sops-install-nixfmt" { nativeBuildInputs = [ pkgs.nixfmt ]; } ''
    cd ${nixFiles}
    find . -name '*.nix' -print0 | sort -z | xargs -0 nixfmt --check
    touch "$out"
  '';
  inherit (import ./packages.nix { inherit pkgs; }) sops-init-gpg-key ssh-to-pgp;

  # Both manifests of a system using every format, a template and host recipients build, which
  # runs sops-install -check-mode=sopsfile and the recipient check on them.
  nixos-manifest = evalSystem.config.system.build.sops-nix-manifest;
  nixos-users-manifest = evalSystem.config.system.build.sops-nix-users-manifest;

  # A sops file not encrypted to sops.hostRecipients fails the build with a hint.
  host-recipients-reject-foreign-file =
    pkgs.runCommand "host-recipients-reject-foreign-file"
      { failed = pkgs.testers.testBuildFailure foreignSystem.config.system.build.sops-nix-manifest; }
      ''
        grep -F "is not encrypted to this host" "$failed/testBuildFailure.log"
        grep -F "sops updatekeys" "$failed/testBuildFailure.log"
        touch "$out"
      '';

}
// lib.optionalAttrs (home-manager != null) {
  # sops-nix's checks/home-manager.nix: the activation package builds.
  home-manager =
    (home-manager.lib.homeManagerConfiguration {
      inherit pkgs;
      modules = [
        self.homeManagerModules.sops
        (
          { config, ... }:
          {
            home = {
              username = "sops-user";
              homeDirectory = if isDarwin then "/Users/sops-user" else "/home/sops-user";
              stateVersion = "25.05";
            };
            sops = {
              age.generateKey = true;
              age.keyFile = "${config.home.homeDirectory}/.age-key.txt";
              defaultSopsFile = assets + "/secrets.yaml";
              hostRecipients = [ ageRecipient ];
              secrets.test_key = { };
              templates."template.toml".content = ''
                password = "${config.sops.placeholder.test_key}"
              '';
            };
          }
        )
      ];
    }).activationPackage;
}
// lib.optionalAttrs (isDarwin && nix-darwin != null) {
  # sops-nix's checks/darwin.nix: the system builds.
  darwin-sops =
    (nix-darwin.lib.darwinSystem {
      inherit system;
      modules = [
        self.darwinModules.sops
        (
          { config, ... }:
          {
            system.stateVersion = 6;
            sops = {
              age.keyFile = "/var/lib/sops-nix/key.txt";
              age.generateKey = true;
              defaultSopsFile = assets + "/secrets.yaml";
              secrets.test_key = { };
              templates."template.toml".content = ''
                password = "${config.sops.placeholder.test_key}"
              '';
              templates."template-with-uid.toml" = {
                content = "password = \"${config.sops.placeholder.test_key}\"\n";
                uid = 1000;
              };
              templates."template-with-gid.toml" = {
                content = "password = \"${config.sops.placeholder.test_key}\"\n";
                gid = 1000;
              };
            };
          }
        )
      ];
    }).system;
}
// lib.optionalAttrs isLinux (import ./tests/nixos.nix { inherit pkgs lib; }).tests
