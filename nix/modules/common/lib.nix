# Helpers shared by the NixOS, nix-darwin and home-manager modules: placeholders, the shell
# export block, the manifest attrset and its checked derivation, and the host-recipient check.
{ lib }:
let
  inherit (lib)
    concatStringsSep
    concatMapStringsSep
    escapeShellArg
    mapAttrsToList
    ;
in
rec {
  # The sops file formats, in the order the options list them (the one Nix list; the Rust side
  # has `Format::ALL`).
  formats = [
    "yaml"
    "json"
    "binary"
    "dotenv"
    "ini"
  ];

  # The text a template uses for a secret; keyed by the secret's attribute name, as in sops-nix.
  placeholderFor = attrName: "<SOPS:${builtins.hashString "sha256" attrName}:PLACEHOLDER>";

  # An absolute path spelt plainly: `//`, `/./` and trailing slashes removed (`..` is kept).
  normalisePath =
    p:
    "/"
    + concatStringsSep "/" (
      builtins.filter (c: builtins.isString c && c != "" && c != ".") (builtins.split "/+" p)
    );

  # Whether a path (however spelt) is the Nix store or inside it.
  inStore =
    p:
    let
      n = normalisePath (toString p);
    in
    n == builtins.storeDir || lib.hasPrefix "${builtins.storeDir}/" n || lib.hasInfix "/../" n;

  # A path value or a string outside the Nix store (age keys must never be world-readable).
  # `/nix//store/…` and `/nix/./store/…` are in the store too.
  pathNotInStore = lib.mkOptionType {
    name = "pathNotInStore";
    description = "path not in the Nix store";
    descriptionClass = "noun";
    check = x: lib.isStringLike x && !(inStore x);
    merge = lib.mergeEqualOption;
  };

  # Warnings for private keys given as Nix paths (`./keys/host` rather than a string): the
  # manifest then names a store copy, as in sops-nix, and that copy is world-readable.
  storeKeyWarnings =
    cfg:
    let
      named =
        map (p: {
          option = "sops.age.sshKeyPaths";
          value = p;
        }) cfg.age.sshKeyPaths
        ++ map (p: {
          option = "sops.gnupg.sshKeyPaths";
          value = p;
        }) cfg.gnupg.sshKeyPaths
        ++ lib.optional (cfg.age.keyFile != null) {
          option = "sops.age.keyFile";
          value = cfg.age.keyFile;
        };
    in
    map (
      e:
      "${e.option}: ${toString e.value} is a Nix path, so this private key is copied into the world-readable Nix store (the manifest names that copy, as in sops-nix). Deploy the key outside the store and give its location on the target as a string instead, e.g. \"/etc/ssh/${baseNameOf (toString e.value)}\"."
    ) (lib.filter (e: builtins.isPath e.value) named);

  # systemd's unit-name rules (what restartUnits/reloadUnits may hold): at most 255 bytes of
  # [A-Za-z0-9:_.\@-], not starting with - or ., ending in a unit type.
  unitNameOk =
    u:
    builtins.stringLength u <= 255
    &&
      builtins.match "[A-Za-z0-9:_\\@][A-Za-z0-9:_.\\@-]*[.](service|socket|target|mount|automount|swap|timer|path|slice|scope|device)" u
      != null;

  # A name `export NAME=…` can take.
  shellVariableOk = n: builtins.match "[A-Za-z_][A-Za-z0-9_]*" n != null;

  # Assertions (build time) for what the installer refuses at run time: unit names, custom
  # paths that collide with each other, with another secret's default place or with the mount
  # points, empty host recipients and environment names that are not shell variable names.
  # `items` is a list of { what; path; default; units; }.
  safetyAssertions =
    {
      items,
      mountPoints,
      hostRecipients ? [ ],
      environment ? { },
    }:
    let
      below = outer: p: p == outer || lib.hasPrefix "${outer}/" p;
      paths = map (
        i:
        i
        // {
          path = normalisePath i.path;
          default = normalisePath i.default;
        }
      ) items;
      clashes =
        i:
        lib.optional (i.path != i.default) (
          lib.findFirst (j: j.what != i.what && (j.path == i.path || j.default == i.path)) null paths
        );
    in
    lib.concatMap (
      i:
      map (u: {
        assertion = unitNameOk u;
        message = "${i.what}: ${builtins.toJSON u} is not a systemd unit name (letters, digits and \":_.\\@-\", ending in a unit type such as .service)";
      }) i.units
      ++ map (m: {
        assertion = !(below m i.path);
        message = "${i.what}: path ${i.path} is inside the secrets mount point ${m}";
      }) mountPoints
      ++ map (j: {
        assertion = j == null;
        message = "${i.what}: path ${i.path} is also ${
          if j.path == i.path && j.path != j.default then "the path" else "the default path"
        } of ${j.what}";
      }) (clashes i)
    ) paths
    ++ map (r: {
      assertion = lib.trim r != "";
      message = "sops.hostRecipients: an entry is empty; it would match every file";
    }) hostRecipients
    ++ map (n: {
      assertion = shellVariableOk n;
      message = "sops.environment: ${builtins.toJSON n} is not a shell variable name";
    }) (builtins.attrNames environment);

  # `export NAME='value'` lines. The value goes between single quotes without escaping, on
  # purpose and as in sops-nix: a value may close the quotes to use command substitution.
  exportLines = env: concatStringsSep "\n" (mapAttrsToList (n: v: "export ${n}='${v}'") env);

  # The installer's PATH, from absolute (store) bin directories only: `{ }` when there are
  # none, so no script exports `PATH=''` (an empty PATH reads as "the working directory" to
  # execvp; the installer ignores empty and relative entries too). Issue 12 item 9.
  helperPath =
    dirs:
    let
      kept = lib.filter (d: d != "") dirs;
    in
    lib.optionalAttrs (kept != [ ]) { PATH = concatStringsSep ":" kept; };

  # Runs `command` in a subshell with `env` exported (just `command` when env is empty).
  withEnvironment =
    env: command:
    if env == { } then
      command
    else
      ''
        (
        ${exportLines env}
        ${command}
        )'';

  # The path as the user would pass it to `sops updatekeys`: the part after the flake source's
  # store directory when the file comes from a flake, else the path itself.
  sourceHint =
    file:
    let
      s = toString file;
      m = builtins.match "${builtins.storeDir}/[a-z0-9]{32}-[^/]*/(.*)" s;
    in
    if m == null then s else builtins.head m;

  # Shell that fails when a sops file cannot be opened by `recipients` (age recipients, ssh
  # public key lines, PGP fingerprints), Shamir key groups counted: `sops-install host-check`
  # of `installer` reads each file's sops metadata.
  # `files` is a list of { file = <store path string>; hint = <path for the message>;
  # users = [names]; format = <sops format>; }.
  hostRecipientCheck =
    installer: recipients: files:
    let
      flags = concatMapStringsSep " " (r: "--recipient ${escapeShellArg r}") recipients;
      one = f: ''
        sops_host_check ${escapeShellArg f.file} ${escapeShellArg f.hint} ${escapeShellArg (concatStringsSep ", " f.users)} ${escapeShellArg f.format} || sops_host_failed=1
      '';
    in
    if recipients == [ ] || files == [ ] then
      ""
    else
      ''
        sops_host_failed=0
        sops_host_check() {
          local reason
          if reason=$(${installer}/bin/sops-install host-check ${flags} --input-type "$4" "$1" 2>&1); then
            return 0
          fi
          echo "error: $2 (used by $3) is not encrypted to this host: ''${reason#"$1: "}." >&2
          echo "  Add this host's key to .sops.yaml and run: sops updatekeys $2" >&2
          return 1
        }
        ${concatStringsSep "" (map one files)}
        if [ "$sops_host_failed" != 0 ]; then
          exit 1
        fi
      '';

  # The sops files of a secret set, grouped: one entry per distinct file.
  sopsFilesOf =
    secrets:
    let
      entries = mapAttrsToList (attr: s: {
        file = "${s.sopsFile}";
        hint = sourceHint s.sopsFile;
        user = attr;
        inherit (s) format;
      }) secrets;
      grouped = builtins.groupBy (e: builtins.unsafeDiscardStringContext e.file) entries;
    in
    mapAttrsToList (_: es: {
      file = (builtins.head es).file;
      hint = (builtins.head es).hint;
      format = (builtins.head es).format;
      users = map (e: e.user) es;
    }) grouped;

  # `placeholderBySecretName`: the installer looks placeholders up by each secret's `name`
  # while sops-nix keys them by attribute name (they differ when `name` is set). We key every
  # secret's placeholder by its `name`; with default names this is the map sops-nix writes.
  placeholderMap =
    allSecrets: placeholders:
    lib.listToAttrs (
      lib.filter (e: e.value != null) (
        mapAttrsToList (attr: s: {
          name = s.name;
          value = placeholders.${attr} or null;
        }) allSecrets
      )
    )
    // lib.filterAttrs (n: _: !(allSecrets ? ${n})) placeholders;

  # The manifest file: the JSON of `data`, checked at build time by the installer (sopsfile mode
  # reads each sops file and checks every key exists) and, with host recipients, by the
  # recipient check above.
  manifestFile =
    {
      writeTextFile,
      name,
      data,
      validationPackage,
      validateSopsFiles,
      extraCheck ? "",
    }:
    writeTextFile {
      inherit name;
      text = builtins.toJSON data;
      checkPhase = ''
        ${validationPackage}/bin/sops-install -check-mode=${
          if validateSopsFiles then "sopsfile" else "manifest"
        } "$out"
        ${extraCheck}
      '';
    };
}
