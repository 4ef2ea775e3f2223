# NixOS VM tests (pkgs.testers.runNixOSTest): ports of sops-nix's installer tests plus ours.
# `tests` are wired into checks.<linux system>.
{ pkgs, lib }:
let
  assets = ./assets;

  # Puts the throwaway age key at /run/age-keys.txt before the secrets are installed (the
  # activation scripts run again on every switch, so the key is always there).
  ageKey =
    { ... }:
    {
      imports = [ ../modules/nixos ];
      sops.age.keyFile = "/run/age-keys.txt";
      sops.defaultSopsFile = assets + "/secrets.yaml";
      system.activationScripts.installAgeKey = lib.stringAfter [ "specialfs" ] ''
        install -m 600 ${assets + "/age-keys.txt"} /run/age-keys.txt
      '';
      system.activationScripts.setupSecrets.deps = [ "installAgeKey" ];
    };

  # Units touching marker files, restarted/reloaded by the secrets (as in sops-nix's test).
  markerUnits = {
    restart-unit = {
      description = "Restarted when the secret changes";
      serviceConfig = {
        Type = "oneshot";
        ExecStart = "${pkgs.coreutils}/bin/touch /restarted";
      };
    };
    reload-unit = {
      description = "Reloaded (restart requested, reloadIfChanged)";
      wantedBy = [ "multi-user.target" ];
      reloadIfChanged = true;
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${pkgs.coreutils}/bin/true";
        ExecReload = "${pkgs.coreutils}/bin/true";
      };
    };
    reload-trigger = {
      description = "Reloaded when the secret changes";
      wantedBy = [ "multi-user.target" ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${pkgs.coreutils}/bin/true";
        ExecReload = "${pkgs.coreutils}/bin/touch /reloaded";
      };
    };
  };

  # Python helper: the change lines of an activation's output.
  changesHelper = ''
    def changes(out):
        prefixes = ("adding ", "modifying ", "removing ", "would ")
        return [l for l in out.splitlines() if l.startswith(prefixes)]
  '';

  userPasswordsScript = ''
    start_all()
    machine.wait_for_unit("multi-user.target")
    machine.succeed("getent shadow example-user | grep -q :test_value:")
    machine.succeed("test \"$(cat /run/secrets-for-users/test_key)\" = test_value")
    machine.succeed("test \"$(cat /run/secrets/nested/test/file)\" = 'another value'")
    machine.succeed("test \"$(stat -c %U /run/secrets/nested/test/file)\" = example-user")
  '';

  userPasswordsMachine =
    { config, ... }:
    {
      imports = [ ../modules/nixos ];
      sops.age.keyFile = "/run/age-keys.txt";
      sops.defaultSopsFile = assets + "/secrets.yaml";
      sops.secrets.test_key.neededForUsers = true;
      sops.secrets."nested/test/file".owner = config.users.users.example-user.name;
      users.users.example-user.hashedPasswordFile = config.sops.secrets.test_key.path;
    };

  tests = {
    age-keys = pkgs.testers.runNixOSTest {
      name = "sops-age-keys";
      nodes.machine =
        { config, ... }:
        {
          imports = [ ageKey ];
          users.users.someuser = {
            isSystemUser = true;
            uid = 1000;
            group = "somegroup";
          };
          users.groups.somegroup.gid = 1000;
          # A real directory where the symlink goes: the installer replaces it.
          system.activationScripts.installAgeKey.text = lib.mkAfter ''
            [ -e /run/secrets ] || mkdir /run/secrets
          '';
          sops.secrets = {
            test_key = { };
            test_key_someuser_somegroup = {
              key = "test_key";
              uid = config.users.users.someuser.uid;
              gid = config.users.groups.somegroup.gid;
            };
            test_key_someuser_root = {
              key = "test_key";
              uid = config.users.users.someuser.uid;
            };
            test_key_root_root.key = "test_key";
            test_key_1001_1001 = {
              key = "test_key";
              uid = 1001;
              gid = 1001;
            };
          };
        };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("test \"$(cat /run/secrets/test_key)\" = test_value")
        machine.succeed("test -L /run/secrets")
        def owner(name):
            return machine.succeed(f"stat -c '%U:%G %u:%g' /run/secrets/{name}").strip()
        assert owner("test_key_someuser_somegroup") == "someuser:somegroup 1000:1000", owner("test_key_someuser_somegroup")
        assert owner("test_key_someuser_root") == "someuser:root 1000:0"
        assert owner("test_key_root_root") == "root:root 0:0"
        assert owner("test_key_1001_1001") == "UNKNOWN:UNKNOWN 1001:1001"
      '';
    };

    age-ssh-keys = pkgs.testers.runNixOSTest {
      name = "sops-age-ssh-keys";
      nodes.machine = {
        imports = [ ../modules/nixos ];
        services.openssh = {
          enable = true;
          hostKeys = [
            {
              type = "ed25519";
              path = "/etc/ssh/ssh_host_ed25519_key";
            }
          ];
        };
        system.activationScripts.installSshKey = lib.stringAfter [ "specialfs" ] ''
          mkdir -p /etc/ssh
          install -m 600 ${assets + "/ssh-ed25519-key"} /etc/ssh/ssh_host_ed25519_key
        '';
        system.activationScripts.setupSecrets.deps = [ "installSshKey" ];
        sops = {
          defaultSopsFile = assets + "/secrets.yaml";
          # An unrelated key generated on the machine sits next to the ssh key.
          age.keyFile = "/var/lib/sops-nix/key.txt";
          age.generateKey = true;
          secrets.test_key = { };
        };
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("test -f /var/lib/sops-nix/key.txt")
        machine.succeed("test \"$(cat /run/secrets/test_key)\" = test_value")
      '';
    };

    templates = pkgs.testers.runNixOSTest {
      name = "sops-templates";
      nodes.machine =
        { config, ... }:
        {
          imports = [ ageKey ];
          system.activationScripts.setupSecretsForUsers.deps = [ "installAgeKey" ];
          users.users.someuser = {
            isSystemUser = true;
            group = "somegroup";
          };
          users.groups.somegroup = { };
          sops.secrets.test_key = { };
          # Regression test of sops-nix issue 659: a neededForUsers secret next to templates.
          sops.secrets."nested/test/file".neededForUsers = true;
          sops.templates = {
            test_template = {
              content = ''
                This line is not modified.
                The next value will be replaced by ${config.sops.placeholder.test_key}
                This line is also not modified.
              '';
              mode = "0400";
              owner = "someuser";
              group = "somegroup";
            };
            test_default = {
              content = "Test value: ${config.sops.placeholder.test_key}";
              path = "/etc/externally/linked";
            };
            test_uid_gid = {
              content = "${config.sops.placeholder.test_key}";
              uid = 420;
              gid = 420;
            };
          };
        };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        def owner(path):
            return machine.succeed(f"stat -c '%U:%G' {path}").strip()
        def ids(path):
            return machine.succeed(f"stat -c '%u:%g' {path}").strip()
        assert owner("/run/secrets/rendered/test_template") == "someuser:somegroup"
        assert owner("/run/secrets/rendered/test_default") == "root:root"
        assert ids("/run/secrets/rendered/test_uid_gid") == "420:420"
        expected = """\
        This line is not modified.
        The next value will be replaced by test_value
        This line is also not modified.
        """
        rendered = machine.succeed("cat /run/secrets/rendered/test_template")
        assert rendered == expected, repr(rendered)
        assert machine.succeed("cat /run/secrets/rendered/test_default") == "Test value: test_value"
        assert machine.succeed("realpath /etc/externally/linked").strip() == "/run/secrets.d/1/rendered/test_default"
        assert machine.succeed("cat /run/secrets-for-users/nested/test/file") == "another value"
      '';
    };

    pruning = pkgs.testers.runNixOSTest {
      name = "sops-pruning";
      nodes.machine = {
        imports = [ ageKey ];
        system.switch.enable = true;
        sops.keepGenerations = lib.mkDefault 0;
        sops.secrets.test_key = { };
        specialisation.pruning.configuration.sops.keepGenerations = 10;
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("mkdir /run/secrets.d/{2..99} /run/secrets.d/non-numeric")
        machine.succeed("ln -sfn /run/secrets.d/99 /run/secrets")
        machine.succeed("/run/current-system/activate")
        machine.succeed("test -d /run/secrets.d/100")
        machine.succeed("test -d /run/secrets.d/1 && test -d /run/secrets.d/90")
        machine.succeed("test -d /run/secrets.d/non-numeric")

        machine.succeed("/run/current-system/specialisation/pruning/bin/switch-to-configuration test")
        machine.succeed("test -d /run/secrets.d/101")
        machine.fail("test -d /run/secrets.d/91")
        machine.succeed("test -d /run/secrets.d/92")
        machine.succeed("test -d /run/secrets.d/non-numeric")
      '';
    };

    restart-and-reload = pkgs.testers.runNixOSTest {
      name = "sops-restart-and-reload";
      nodes.machine =
        { config, ... }:
        {
          imports = [ ageKey ];
          system.switch.enable = true;
          sops.secrets.test_key = {
            restartUnits = [ "restart-unit.service" "reload-unit.service" ];
            reloadUnits = [ "reload-trigger.service" ];
          };
          sops.templates.test_template = {
            content = "this is a template with a secret: ${config.sops.placeholder.test_key}";
            restartUnits = [ "restart-unit.service" "reload-unit.service" ];
            reloadUnits = [ "reload-trigger.service" ];
          };
          systemd.services = markerUnits;
        };
      testScript = changesHelper + ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.fail("test -f /restarted")
        machine.fail("test -f /reloaded")
        machine.fail("test -f /run/nixos/activation-restart-list")
        machine.fail("test -f /run/nixos/activation-reload-list")

        switch = "/run/current-system/bin/switch-to-configuration test 2>&1"

        # Nothing changed: nothing is restarted.
        machine.succeed(switch)
        machine.fail("test -f /restarted")
        machine.fail("test -f /reloaded")

        # The secret changed.
        machine.succeed(": > /run/secrets/test_key")
        machine.succeed(switch)
        machine.succeed("test -f /restarted")
        machine.succeed("test -f /reloaded")
        machine.succeed("rm /restarted /reloaded")

        # The rendered template changed.
        machine.succeed(": > /run/secrets/rendered/test_template")
        machine.succeed(switch)
        machine.succeed("test -f /restarted")
        machine.succeed("test -f /reloaded")
        machine.succeed("rm /restarted /reloaded")

        with subtest("change detection"):
            machine.succeed("rm /run/secrets/test_key /run/secrets/rendered/test_template")
            out = machine.succeed(switch)
            assert changes(out) == ["adding secret: test_key", "adding rendered secret: test_template"], out
            machine.succeed(": > /run/secrets/test_key")
            machine.succeed(": > /run/secrets/rendered/test_template")
            out = machine.succeed(switch)
            assert changes(out) == ["modifying secret: test_key", "modifying rendered secret: test_template"], out
            machine.succeed("echo x > /run/secrets/another_key")
            machine.succeed("echo x > /run/secrets/rendered/another_template")
            out = machine.succeed(switch)
            assert changes(out) == ["removing secret: another_key", "removing rendered secret: another_template"], out
            machine.succeed("rm -f /restarted /reloaded")

        with subtest("dry activation"):
            machine.succeed("rm /run/secrets/test_key /run/secrets/rendered/test_template")
            machine.succeed("echo x > /run/secrets/another_key")
            machine.succeed("echo x > /run/secrets/rendered/another_template")
            out = machine.succeed("/run/current-system/bin/switch-to-configuration dry-activate 2>&1")
            assert changes(out) == [
                "would add secret: test_key",
                "would remove secret: another_key",
                "would add rendered secret: test_template",
                "would remove rendered secret: another_template",
            ], out
            machine.fail("test -e /run/secrets/test_key")
            machine.succeed("test -e /run/secrets/another_key")
            machine.succeed(switch)
            machine.succeed("test -e /run/secrets/test_key")
            machine.fail("test -e /run/secrets/another_key")
            machine.succeed("rm -f /restarted /reloaded")
            machine.succeed(": > /run/secrets/test_key")
            out = machine.succeed("/run/current-system/bin/switch-to-configuration dry-activate 2>&1")
            assert changes(out) == ["would modify secret: test_key"], out
            machine.succeed("test ! -s /run/secrets/test_key")
            machine.fail("test -f /restarted")
            machine.fail("test -f /reloaded")
      '';
    };

    # Ours: dry activation leaves the secrets filesystem exactly as it was.
    dry-activate-writes-nothing = pkgs.testers.runNixOSTest {
      name = "sops-dry-activate-writes-nothing";
      nodes.machine = {
        imports = [ ageKey ];
        system.switch.enable = true;
        sops.secrets.test_key = { };
        # A function, so that `config` is the specialisation's own: the parent has no
        # templates, hence no placeholders.
        specialisation.changed.configuration =
          { config, ... }:
          {
            sops.secrets.test_key.mode = "0440";
            sops.secrets.another.key = "test_key";
            sops.templates.t.content = "${config.sops.placeholder.test_key}";
          };
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        snapshot = "readlink /run/secrets; find /run/secrets.d /run/secrets/ -printf '%p %y %m %s %T@\\n' | sort"
        before = machine.succeed(snapshot)
        out = machine.succeed("/run/current-system/specialisation/changed/bin/switch-to-configuration dry-activate 2>&1")
        assert "would add secret: another" in out, out
        assert machine.succeed(snapshot) == before
        machine.fail("test -e /run/secrets.d/2")
      '';
    };

    # Ours: a change of owner restarts the secret's units.
    restart-on-owner-change = pkgs.testers.runNixOSTest {
      name = "sops-restart-on-owner-change";
      nodes.machine = {
        imports = [ ageKey ];
        system.switch.enable = true;
        users.users.someuser = {
          isSystemUser = true;
          group = "someuser";
        };
        users.groups.someuser = { };
        sops.secrets.test_key.restartUnits = [ "restart-unit.service" ];
        systemd.services.restart-unit = markerUnits.restart-unit;
        specialisation.owned.configuration.sops.secrets.test_key.owner = "someuser";
      };
      testScript = changesHelper + ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.fail("test -f /restarted")
        out = machine.succeed("/run/current-system/specialisation/owned/bin/switch-to-configuration test 2>&1")
        assert changes(out) == ["modifying secret: test_key"], out
        machine.succeed("test -f /restarted")
        assert machine.succeed("stat -c %U /run/secrets/test_key").strip() == "someuser"
      '';
    };

    # Ours: a custom-path symlink the configuration no longer has is removed.
    stale-link-removal = pkgs.testers.runNixOSTest {
      name = "sops-stale-link-removal";
      nodes.machine = {
        imports = [ ageKey ];
        system.switch.enable = true;
        sops.secrets.test_key.path = "/var/lib/custom/test_key";
        specialisation.moved.configuration.sops.secrets.test_key.path = lib.mkForce "/var/lib/custom/moved";
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("test \"$(cat /var/lib/custom/test_key)\" = test_value")
        machine.succeed("/run/current-system/specialisation/moved/bin/switch-to-configuration test")
        machine.succeed("test \"$(cat /var/lib/custom/moved)\" = test_value")
        machine.fail("test -L /var/lib/custom/test_key")
      '';
    };

    user-passwords = pkgs.testers.runNixOSTest {
      name = "sops-user-passwords";
      nodes.machine = {
        imports = [ userPasswordsMachine ];
        system.switch.enable = true;
        system.activationScripts.installAgeKey = lib.stringAfter [ "specialfs" ] ''
          install -m 600 ${assets + "/age-keys.txt"} /run/age-keys.txt
        '';
        system.activationScripts.setupSecretsForUsers.deps = [ "installAgeKey" ];
        system.activationScripts.setupSecrets.deps = [ "installAgeKey" ];
        users.users.example-user.isNormalUser = true;
      };
      testScript = userPasswordsScript + ''
        machine.succeed("/run/current-system/bin/switch-to-configuration test")
        machine.succeed("getent shadow example-user | grep -q :test_value:")
        machine.succeed("test \"$(cat /run/secrets-for-users/test_key)\" = test_value")
        machine.succeed("test \"$(cat /run/secrets/nested/test/file)\" = 'another value'")
      '';
    };

    user-passwords-sysusers = pkgs.testers.runNixOSTest {
      name = "sops-user-passwords-sysusers";
      nodes.machine = {
        imports = [ userPasswordsMachine ];
        systemd.sysusers.enable = true;
        users.mutableUsers = true;
        system.etc.overlay.enable = true;
        boot.initrd.systemd.enable = true;
        boot.kernelPackages = pkgs.linuxPackages_latest;
        users.users.example-user = {
          isSystemUser = true;
          group = "users";
        };
        systemd.services.sops-install-secrets-for-users.preStart = ''
          install -m 600 ${assets + "/age-keys.txt"} /run/age-keys.txt
        '';
      };
      testScript = userPasswordsScript + ''
        # Ordered before sysinit.target, and before the users are created.
        machine.succeed("systemctl show -p Before sops-install-secrets-for-users.service | grep -q sysinit.target")
        machine.succeed("systemctl show -p Before sops-install-secrets.service | grep -q sysinit.target")
      '';
    };

    user-passwords-userborn = pkgs.testers.runNixOSTest {
      name = "sops-user-passwords-userborn";
      nodes.machine = {
        imports = [ userPasswordsMachine ];
        services.userborn.enable = true;
        users.mutableUsers = false;
        system.etc.overlay.enable = true;
        boot.initrd.systemd.enable = true;
        boot.kernelPackages = pkgs.linuxPackages_latest;
        users.users.example-user.isNormalUser = true;
        systemd.services.sops-install-secrets-for-users.preStart = ''
          install -m 600 ${assets + "/age-keys.txt"} /run/age-keys.txt
        '';
      };
      testScript = userPasswordsScript + ''
        machine.succeed("systemctl show -p Before sops-install-secrets-for-users.service | grep -q userborn.service")
      '';
    };

    # Ours (issue 18 item 5): a user's password hash from a neededForUsers template, rendered
    # before the users exist; the user then logs in with that password on a console.
    # password.yaml holds the SHA-512 crypt hash of "hunter2".
    user-password-template = pkgs.testers.runNixOSTest {
      name = "sops-user-password-template";
      nodes.machine =
        { config, ... }:
        {
          imports = [ ageKey ];
          system.activationScripts.setupSecretsForUsers.deps = [ "installAgeKey" ];
          sops.secrets.test_key = { };
          sops.secrets.example_user_password = {
            sopsFile = assets + "/password.yaml";
            neededForUsers = true;
          };
          sops.templates.example-user-password = {
            neededForUsers = true;
            content = config.sops.placeholder.example_user_password;
          };
          users.users.example-user = {
            isNormalUser = true;
            hashedPasswordFile = config.sops.templates.example-user-password.path;
          };
        };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        rendered = "/run/secrets-for-users/rendered/example-user-password"
        assert machine.succeed(f"stat -c '%U:%G %a' {rendered}").strip() == "root:root 400"
        hashed = machine.succeed(f"cat {rendered}")
        assert hashed.startswith("$6$sopsinstall$"), hashed
        machine.succeed(f"getent shadow example-user | grep -qF ':{hashed}:'")
        # Not in the regular generation.
        machine.fail("test -e /run/secrets/rendered/example-user-password")
        assert machine.succeed("cat /run/secrets/test_key") == "test_value"

        with subtest("the user logs in with the password"):
            machine.wait_until_succeeds("pgrep -f 'agetty.*tty1'")
            machine.send_key("alt-f2")
            machine.wait_until_succeeds("[ $(fgconsole) = 2 ]")
            machine.wait_for_unit("getty@tty2.service")
            machine.wait_until_succeeds("pgrep -f 'agetty.*tty2'")
            machine.wait_until_tty_matches("2", "login: ")
            machine.send_chars("example-user\n")
            machine.wait_until_tty_matches("2", "login: example-user")
            machine.wait_until_succeeds("pgrep login")
            machine.sleep(2)
            machine.send_chars("hunter2\n")
            machine.send_chars("whoami > /tmp/logged-in\n")
            machine.wait_for_file("/tmp/logged-in")
            assert machine.succeed("cat /tmp/logged-in").strip() == "example-user"
      '';
    };

    # sops-nix's pgp-keys test: a GnuPG home prepared by an activation script.
    pgp-keys = pkgs.testers.runNixOSTest {
      name = "sops-pgp-keys";
      nodes.machine = {
        imports = [ ../modules/nixos ];
        users.users.someuser = {
          isSystemUser = true;
          group = "nogroup";
        };
        system.activationScripts.gnupghome = lib.stringAfter [ "specialfs" ] ''
          mkdir -p -m 700 /run/gpghome
          ${pkgs.gnupg}/bin/gpg --homedir /run/gpghome --batch --import ${assets + "/key.asc"}
          [ -e /run/existing-file ] || echo original > /run/existing-file
        '';
        system.activationScripts.setupSecrets.deps = [ "gnupghome" ];
        sops = {
          gnupg.home = "/run/gpghome";
          gnupg.sshKeyPaths = [ ];
          defaultSopsFile = assets + "/secrets.yaml";
          secrets.test_key.owner = "someuser";
          secrets."nested/test/file".owner = "someuser";
          secrets.existing-file = {
            key = "test_key";
            path = "/run/existing-file";
          };
        };
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        assert machine.succeed("cat /run/secrets/test_key") == "test_value"
        machine.succeed("runuser -u someuser -- cat /run/secrets/test_key")
        assert machine.succeed("cat /run/secrets/nested/test/file") == "another value"
        assert machine.succeed("readlink -f /run/existing-file").strip() == "/run/secrets.d/1/existing-file"
      '';
    };

    # sops-nix's ssh-keys test: the RSA host key, given as a Nix path (so the manifest names its
    # store copy, and evaluation warns that the key is world-readable there), is the PGP key
    # ssh-to-pgp derives; rsa-pgp.yaml is encrypted to that fingerprint only.
    ssh-keys = pkgs.testers.runNixOSTest {
      name = "sops-ssh-keys";
      nodes.server = {
        imports = [ ../modules/nixos ];
        services.openssh.enable = true;
        services.openssh.hostKeys = [
          {
            type = "rsa";
            bits = 4096;
            path = assets + "/ssh-rsa-key";
          }
        ];
        sops.defaultSopsFile = assets + "/rsa-pgp.yaml";
        sops.secrets.test_key = { };
      };
      testScript = ''
        start_all()
        server.wait_for_unit("multi-user.target")
        server.succeed("test \"$(cat /run/secrets/test_key)\" = test_value")
      '';
    };

    # An RSA host key configured as sops-nix configures it (gnupg.sshKeyPaths from the openssh
    # host keys, no age source) opens a file sops encrypted to the key's ssh-rsa line.
    rsa-host-key-age = pkgs.testers.runNixOSTest {
      name = "sops-rsa-host-key-age";
      nodes.machine = {
        imports = [ ../modules/nixos ];
        services.openssh.enable = true;
        services.openssh.hostKeys = [
          {
            type = "rsa";
            bits = 2048;
            path = "/etc/ssh/ssh_host_rsa_key";
          }
        ];
        system.activationScripts.installRsaKey = lib.stringAfter [ "specialfs" ] ''
          mkdir -p /etc/ssh
          install -m 600 ${assets + "/ssh-rsa-key"} /etc/ssh/ssh_host_rsa_key
        '';
        system.activationScripts.setupSecrets.deps = [ "installRsaKey" ];
        sops.defaultSopsFile = assets + "/rsa-ssh.yaml";
        sops.secrets.test_key = { };
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("test \"$(cat /run/secrets/test_key)\" = test_value")
        machine.succeed("grep -q 'recipient: ssh-rsa ' ${assets + "/rsa-ssh.yaml"}")
      '';
    };

    # sops.initrdSecrets: decrypted while the boot loader (GRUB) is installed, through nixpkgs'
    # boot.initrd.secretPaths hook, and present in stage 1. The loader is installed while the
    # disk image is built, where only the store is at hand, so this test's throwaway key comes
    # from the store through SOPS_AGE_KEY_FILE (a real host uses its ssh host key or
    # sops.age.keyFile, outside the store).
    initrd-secrets = pkgs.testers.runNixOSTest {
      name = "sops-initrd-secrets";
      nodes.machine = {
        imports = [ ../modules/nixos ];
        virtualisation.useBootLoader = true;
        sops.environment.SOPS_AGE_KEY_FILE = assets + "/age-keys.txt";
        sops.defaultSopsFile = assets + "/secrets.yaml";
        sops.initrdSecrets = {
          # Carried into stage 2 with /run, as nixpkgs' own initrd-secrets test does.
          "/run/keys/sops-initrd-test".key = "test_key";
          "/etc/sops-initrd-test" = {
            key = "test_key";
            mode = "0440";
          };
        };
        # Read in stage 1 itself, after the root file system is mounted (postMountCommands
        # belong to the scripted stage 1).
        boot.initrd.systemd.enable = false;
        boot.initrd.postMountCommands = ''
          cp -p /etc/sops-initrd-test /mnt-root/sops-initrd-copy
        '';
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("test \"$(cat /run/keys/sops-initrd-test)\" = test_value")
        machine.succeed("test \"$(cat /sops-initrd-copy)\" = test_value")
        mode = int(machine.succeed("stat -c %a /run/keys/sops-initrd-test").strip(), 8)
        assert mode & 0o077 == 0, oct(mode)
        assert machine.succeed("stat -c %a /sops-initrd-copy").strip() == "440"
      '';
    };

    # Issue 18 (keep-creds): a sops file that cannot be opened keeps its secrets' last good
    # values (bytes, owner, mode) while the rest is installed new; the switch still fails.
    keep-last-good = pkgs.testers.runNixOSTest {
      name = "sops-keep-last-good";
      nodes.machine = {
        imports = [ ageKey ];
        system.switch.enable = true;
        users.users.someuser = {
          isSystemUser = true;
          group = "somegroup";
        };
        users.groups.somegroup = { };
        sops.keepLastGoodOnFailure = true;
        sops.secrets.kept = {
          key = "test_key";
          sopsFile = assets + "/secrets.json";
          format = "json";
          owner = "someuser";
          mode = "0440";
        };
        sops.secrets.test_key = { };
        # The rotation mistake: kept's file is gone; meanwhile a new secret is added.
        specialisation.broken.configuration = {
          sops.validateSopsFiles = false;
          sops.secrets.kept.sopsFile = lib.mkForce "/nonexistent/secrets.json";
          sops.secrets.kept.mode = lib.mkForce "0400";
          sops.secrets.fresh.key = "test_key";
        };
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("test \"$(cat /run/secrets/kept)\" = test_value")
        before = machine.succeed("readlink /run/secrets").strip()
        out = machine.fail("/run/current-system/specialisation/broken/bin/switch-to-configuration test 2>&1")
        assert "keeping the previous values" in out and "/nonexistent/secrets.json" in out, out
        after = machine.succeed("readlink /run/secrets").strip()
        assert after != before, f"a new generation is live ({before} -> {after})"
        machine.succeed("test \"$(cat /run/secrets/kept)\" = test_value")
        machine.succeed("test \"$(stat -c '%U %a' /run/secrets/kept)\" = 'someuser 440'")
        machine.succeed("test \"$(cat /run/secrets/fresh)\" = test_value")
      '';
    };

    # Issue 18 (keep-creds): a secret exposed as a systemd credential is read by a unit with
    # DynamicUser= through LoadCredential=; and the installer unit takes its age key from a
    # credential instead of a key file.
    systemd-credentials = pkgs.testers.runNixOSTest {
      name = "sops-systemd-credentials";
      nodes.machine = {
        imports = [ ../modules/nixos ];
        sops.defaultSopsFile = assets + "/secrets.yaml";
        sops.age.sshKeyPaths = [ ];
        sops.gnupg.sshKeyPaths = [ ];
        sops.useSystemdActivation = true;
        sops.importKeyCredentials = true;
        # The hypervisor would pass it (ImportCredential=); here the unit loads it from a file.
        systemd.services.sops-install-secrets.serviceConfig.LoadCredential = [
          "sops-install.age-key:${assets + "/age-keys.txt"}"
        ];
        sops.secrets.test_key = {
          credential = "test-key";
          restartUnits = [ "cred-reader.service" ];
        };
        systemd.services.cred-reader = {
          wantedBy = [ "multi-user.target" ];
          after = [ "sops-install-secrets.service" ];
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
            DynamicUser = true;
            StateDirectory = "cred-reader";
            LoadCredential = [ "test-key" ];
            # %d: the unit's credentials directory; %S: /var/lib.
            ExecStart = "${pkgs.coreutils}/bin/cp %d/test-key %S/cred-reader/out";
          };
        };
      };
      testScript = ''
        start_all()
        machine.wait_for_unit("multi-user.target")
        machine.succeed("test \"$(cat /run/secrets/test_key)\" = test_value")
        machine.succeed("test \"$(stat -c '%U %a' /run/credstore)\" = 'root 700'")
        machine.succeed("test \"$(readlink /run/credstore/test-key)\" = /run/secrets/.credentials/test-key")
        machine.succeed("test \"$(stat -L -c '%U %a' /run/credstore/test-key)\" = 'root 400'")
        machine.wait_for_unit("cred-reader.service")
        machine.succeed("test \"$(cat /var/lib/cred-reader/out)\" = test_value")
        machine.fail("test \"$(stat -c %U /var/lib/private/cred-reader/out)\" = root")
      '';
    };
  };
in
{
  inherit tests;
}
