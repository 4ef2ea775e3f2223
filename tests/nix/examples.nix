# Example configurations the evaluation test runs through the modules. `kind` picks the stubs
# and module; `config` is the user's configuration.
{ lib }:
let
  assets = ../../nix/tests/assets;
  ageRecipient = "age19dv623ttvfx52krhzxqqcy6eta2q3wze2tf22qu7njx6y7e2up4ss5k5ak";
  sshRecipient = lib.removeSuffix "\n" (builtins.readFile (assets + "/ssh-ed25519-key.pub"));
  fakePlugin = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
in
{
  # The system of the behaviour spec, section 2.7.
  spec-example = {
    kind = "nixos";
    config = {
      services.openssh.enable = true;
      users.users = {
        postgres.group = "postgres";
        hass.group = "hass";
        grafana.group = "grafana";
      };
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets = {
          "db/password" = {
            owner = "postgres";
            restartUnits = [ "postgresql.service" ];
          };
          hass-secrets = {
            key = "";
            owner = "hass";
            path = "/var/lib/hass/secrets.yaml";
            sopsFile = assets + "/secrets.json";
            format = "json";
          };
          wg-private-key = {
            sopsFile = assets + "/secrets.bin";
            format = "binary";
            group = "systemd-network";
            mode = "0440";
            reloadUnits = [ "systemd-networkd.service" ];
          };
          admin-password.neededForUsers = true;
        };
        templates."grafana.env" = {
          owner = "grafana";
          content = "GF_DATABASE_PASSWORD=${"<SOPS:4c4bafe61f052e13a786eaf8b0a7ee0af7c39c5ccade2b24c9fbea4914962b9d:PLACEHOLDER>"}\n";
          restartUnits = [ "grafana.service" ];
        };
      };
    };
  };

  # Templates refer to config.sops.placeholder, and a secret whose `name` is not its attribute.
  placeholders = {
    kind = "nixos";
    config =
      { config, ... }:
      {
        sops = {
          age.keyFile = "/var/lib/sops-nix/key.txt";
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key = { };
          secrets.renamed = {
            name = "on-disk-name";
            key = "test_key";
          };
          templates.both.content = "${config.sops.placeholder.test_key} ${config.sops.placeholder.renamed}\n";
        };
      };
  };

  # systemd-sysusers: both manifests are installed from units ordered before sysinit.target.
  sysusers = {
    kind = "nixos";
    config = {
      systemd.sysusers.enable = true;
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        age.generateKey = true;
        age.plugins = [
          {
            type = "derivation";
            name = "age-plugin-yubikey";
            outPath = "/nix/store/00000000000000000000000000000000-age-plugin-yubikey";
          }
        ];
        defaultSopsFile = assets + "/secrets.yaml";
        environment.FOO = "bar";
        secrets.test_key = { };
        secrets.password = {
          key = "test_key";
          neededForUsers = true;
        };
      };
    };
  };

  # Activation scripts, our mount point and symlink path options, keepGenerations and log.
  custom-paths = {
    kind = "nixos";
    config = {
      sops = {
        age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];
        defaultSopsFile = assets + "/secrets.yaml";
        defaultSymlinkPath = "/run/keys/sops";
        defaultSecretsMountPoint = "/run/keys/sops.d";
        keepGenerations = 3;
        log = [ "secretChanges" ];
        useTmpfs = true;
        environment.SOPS_AGE_KEY_CMD = "$(cat /etc/cmd)";
        secrets.test_key = { };
        secrets.password = {
          key = "test_key";
          neededForUsers = true;
        };
      };
    };
  };

  # No validation: sops files may be strings outside the store; the check is manifest-only.
  no-validation = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        validateSopsFiles = false;
        secrets.runtime = {
          sopsFile = "/etc/secrets/runtime.yaml";
          uid = 1000;
          owner = "someone";
        };
      };
    };
  };

  # hostRecipients: one file is encrypted to this host, one is not.
  host-recipients = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        hostRecipients = [
          ageRecipient
          sshRecipient
        ];
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
        secrets.dotenv = {
          sopsFile = assets + "/secrets.env";
          format = "dotenv";
        };
        secrets.ini = {
          sopsFile = assets + "/secrets.ini";
          format = "ini";
        };
        secrets.json = {
          sopsFile = assets + "/secrets.json";
          format = "json";
          key = "test_key";
        };
        secrets.bin = {
          sopsFile = assets + "/secrets.bin";
          format = "binary";
        };
        secrets.foreign = {
          sopsFile = assets + "/foreign.yaml";
          key = "test_key";
        };
      };
    };
  };

  # Only the ssh recipient of this host: matched without its comment.
  host-recipients-ssh-only = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        hostRecipients = [ "${sshRecipient} extra-comment" ];
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
      };
    };
  };

  # Only the PGP fingerprint of this host, in lower case (secrets.yaml has a pgp entry).
  host-recipients-pgp-only = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        hostRecipients = [ (lib.toLower (lib.trim (builtins.readFile (assets + "/pgp-fingerprint")))) ];
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
        secrets.foreign = {
          sopsFile = assets + "/foreign.yaml";
          key = "test_key";
        };
      };
    };
  };

  # No key source at all.
  no-key-source = {
    kind = "nixos";
    config = {
      sops = {
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
      };
    };
  };

  # Hostile configuration (issue 12): colliding paths, unit names with a newline or an option,
  # an empty host recipient, an environment name that is not a shell variable name.
  hostile = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        validateSopsFiles = false;
        hostRecipients = [ " " ];
        environment."A B" = "x";
        secrets = {
          a.path = "/run/secrets/b";
          b.restartUnits = [ "b.service\nc.service" ];
          c.path = "/run/secrets.d/1/c";
          d.path = "/etc/x";
          e.reloadUnits = [
            "--root=/tmp"
            "nginx"
            "ok.service"
          ];
          f.path = "/run/secrets/f";
        };
        templates.t = {
          content = "x";
          path = "/etc//x/";
        };
      };
    };
  };

  # age.keyFile in the store, spelt so that a plain prefix check misses it.
  store-key-file = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/nix//store/./00000000000000000000000000000000-key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.a = { };
      };
    };
  };

  # age plugins on the installer's PATH, from both activation scripts.
  plugins = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        age.plugins = [
          (fakePlugin "age-plugin-yubikey")
          (fakePlugin "age-plugin-sopstest")
        ];
        environment.PATH = "/ignored";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
        secrets.password = {
          key = "test_key";
          neededForUsers = true;
        };
      };
    };
  };

  # The same for the home-manager unit (a PATH the user set stays after the plugins).
  home-plugins = {
    kind = "home";
    config = {
      sops = {
        age.keyFile = "/home/alice/.config/sops/age/keys.txt";
        age.plugins = [ (fakePlugin "age-plugin-sopstest") ];
        environment.PATH = "/home/alice/bin";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
      };
    };
  };

  # The home-manager example of the behaviour spec, section 2.8.
  home-example = {
    kind = "home";
    config =
      { config, ... }:
      {
        sops = {
          age.keyFile = "/home/alice/.config/sops/age/keys.txt";
          age.generateKey = true;
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.github_token = { };
          secrets.smtp_password.path = "%r/smtp_password";
          templates.git-credentials.content = "https://alice:${config.sops.placeholder.github_token}@github.com\n";
        };
      };
  };

  # home-manager restarts what changed (issue 18 item 4): user units of a secret and a template.
  home-restart-units = {
    kind = "home";
    config =
      { config, ... }:
      {
        systemd.user.systemctlPath = "/nix/store/00000000000000000000000000000000-systemd/bin/systemctl";
        sops = {
          age.keyFile = "/home/alice/.config/sops/age/keys.txt";
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key = {
            restartUnits = [ "app.service" ];
            reloadUnits = [ "web.service" ];
          };
          secrets.plain = {
            key = "test_key";
          };
          templates."app.env" = {
            content = "KEY=${config.sops.placeholder.test_key}\n";
            restartUnits = [ "app.service" ];
          };
        };
      };
  };

  # The same on macOS: launchd labels, launchctl from /bin.
  home-restart-units-darwin = {
    kind = "home";
    pkgs.stdenv = rec {
      buildPlatform = {
        system = "aarch64-darwin";
        isDarwin = true;
        isLinux = false;
      };
      hostPlatform = buildPlatform;
      isDarwin = true;
      isLinux = false;
    };
    config = {
      sops = {
        age.keyFile = "/Users/alice/.config/sops/age/keys.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key.restartUnits = [ "org.nix-community.home.app" ];
      };
    };
  };

  home-darwin = {
    kind = "home";
    pkgs.stdenv = {
      buildPlatform = {
        system = "aarch64-darwin";
        isDarwin = true;
        isLinux = false;
      };
      hostPlatform = {
        system = "aarch64-darwin";
        isDarwin = true;
        isLinux = false;
      };
      isDarwin = true;
      isLinux = false;
    };
    config = {
      sops = {
        gnupg.home = "/Users/alice/.gnupg";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
      };
    };
  };

  # The darwin check configuration of sops-nix (checks/darwin.nix), with a key file and a plugin.
  darwin = {
    kind = "darwin";
    config =
      { config, ... }:
      {
        sops = {
          age.keyFile = "/var/lib/sops-nix/key.txt";
          age.generateKey = true;
          age.plugins = [
            {
              type = "derivation";
              name = "age-plugin-yubikey";
              outPath = "/nix/store/00000000000000000000000000000000-age-plugin-yubikey";
            }
          ];
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key = { };
          secrets.password = {
            key = "test_key";
            neededForUsers = true;
          };
          templates."template.toml".content = "password = \"${config.sops.placeholder.test_key}\"\n";
          templates."template-with-uid.toml" = {
            content = "x";
            uid = 1000;
          };
        };
      };
  };

  # Issue 18 (keep-creds): keepLastGoodOnFailure, systemd credentials both ways.
  keep-and-credentials = {
    kind = "nixos";
    config = {
      systemd.sysusers.enable = true;
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        keepLastGoodOnFailure = true;
        useSystemdActivation = true;
        importKeyCredentials = true;
        credentialStore = "/run/credstore";
        secrets.test_key = {
          credential = "test-key";
          restartUnits = [ "app.service" ];
        };
        secrets.plain.key = "test_key";
        secrets.password = {
          key = "test_key";
          neededForUsers = true;
          credential = "password";
        };
      };
    };
  };

  # Nothing of ours set: the manifest carries none of our fields.
  keep-off = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
      };
    };
  };

  # One credential name twice; key credentials without the installer units.
  bad-credentials = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        importKeyCredentials = true;
        secrets.a = {
          key = "test_key";
          credential = "same";
        };
        secrets.b = {
          key = "test_key";
          credential = "same";
        };
      };
    };
  };

  # Gap of issue 18: a rendered template as a systemd credential; and one whose credential
  # name is a secret's too.
  template-credentials = {
    kind = "nixos";
    config =
      { config, ... }:
      {
        sops = {
          age.keyFile = "/var/lib/sops-nix/key.txt";
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key = { };
          templates."app.env" = {
            content = "KEY=${config.sops.placeholder.test_key}\n";
            credential = "app-env";
          };
          templates.plain.content = "x";
        };
      };
  };

  template-credential-twice = {
    kind = "nixos";
    config =
      { config, ... }:
      {
        sops = {
          age.keyFile = "/var/lib/sops-nix/key.txt";
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key.credential = "same";
          templates.t = {
            content = "${config.sops.placeholder.test_key}";
            credential = "same";
          };
        };
      };
  };

  home-keep = {
    kind = "home";
    config = {
      sops = {
        age.keyFile = "/home/alice/.config/sops/age/keys.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        keepLastGoodOnFailure = true;
        secrets.test_key = { };
      };
    };
  };

  # Issue 18 item 5: templates rendered before users exist, from neededForUsers secrets only.
  templates-for-users = {
    kind = "nixos";
    config =
      { config, ... }:
      {
        users.users.alice.hashedPasswordFile = config.sops.templates."alice-password".path;
        sops = {
          age.keyFile = "/var/lib/sops-nix/key.txt";
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key = { };
          secrets.password = {
            key = "test_key";
            neededForUsers = true;
          };
          templates."alice-password" = {
            neededForUsers = true;
            content = config.sops.placeholder.password;
          };
          templates."app.env".content = "KEY=${config.sops.placeholder.test_key}\n";
        };
      };
  };

  # A neededForUsers template naming a regular secret, one owned by uid 1000, one by a user.
  templates-for-users-refused = {
    kind = "nixos";
    config =
      { config, ... }:
      {
        users.users.alice.group = "users";
        sops = {
          age.keyFile = "/var/lib/sops-nix/key.txt";
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key = { };
          secrets.password = {
            key = "test_key";
            neededForUsers = true;
          };
          templates.hash = {
            neededForUsers = true;
            content = "${config.sops.placeholder.password}:${config.sops.placeholder.test_key}";
          };
          templates.owned = {
            neededForUsers = true;
            content = "x";
            uid = 1000;
          };
          templates.named = {
            neededForUsers = true;
            content = "x";
            owner = "alice";
          };
        };
      };
  };

  # A neededForUsers template and no neededForUsers secret: the for-users manifest is still
  # installed (NixOS and nix-darwin).
  template-for-users-only = {
    kind = "nixos";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
        templates.motd = {
          neededForUsers = true;
          content = "no secret in here\n";
        };
      };
    };
  };
  darwin-template-for-users-only = {
    kind = "darwin";
    config = {
      sops = {
        age.keyFile = "/var/lib/sops-nix/key.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        secrets.test_key = { };
        templates.motd = {
          neededForUsers = true;
          content = "no secret in here\n";
        };
      };
    };
  };

  # The system modules' safety assertions in home-manager: colliding paths, a path inside the
  # mount point (spelt with %r), a unit name without its type, an empty host recipient, an
  # environment name.
  home-hostile = {
    kind = "home";
    config = {
      sops = {
        age.keyFile = "/home/alice/.config/sops/age/keys.txt";
        defaultSopsFile = assets + "/secrets.yaml";
        validateSopsFiles = false;
        hostRecipients = [ " " ];
        environment."A B" = "x";
        secrets = {
          a.path = "/home/alice/.config/sops-nix/secrets/b";
          b = { };
          c.path = "%r/secrets.d/1/c";
          d.path = "/home/alice/x";
          e.path = "%r/e";
          f.restartUnits = [ "nginx" ];
        };
        templates.t = {
          content = "x";
          path = "/home/alice//x/";
        };
      };
    };
  };
}
