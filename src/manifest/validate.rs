//! Raw manifest -> validated [`Manifest`], reporting every problem at once.
//!
//! Checks what sops-nix checks (mode syntax, gnupgHome exclusivity, one format per sops file,
//! placeholders, template sources) and what it should have (unknown formats, names that escape
//! the generation or collide, duplicate names, paths that are not absolute or that replace the
//! symlink itself). Each problem names the secret or template and the field.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use super::raw::{RawManifest, RawSecret, RawTemplate};
use super::{
    normalize, runtime_dir, Manifest, Ownership, Principal, Secret, SecretKey, Template,
    CREDENTIALS_DIR, DEFAULT_CREDENTIAL_STORE, RENDERED_DIR,
};
use crate::hint::Hint;
use crate::sops::stores::Format;

/// One thing wrong with the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `secret "db/password"`, `template "app.env"` or `manifest`.
    pub subject: String,
    pub field: &'static str,
    pub message: String,
    /// What to do about it (not part of the message: printed once, after all problems).
    pub hint: Option<Hint>,
}

impl Problem {
    /// A problem with the advice for its field.
    pub fn new(
        subject: impl Into<String>,
        field: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            subject: subject.into(),
            field,
            message: message.into(),
            hint: field_hint(field),
        }
    }

    /// The same problem with more specific advice (`None` keeps the field's).
    pub fn with_hint(mut self, hint: Option<Hint>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }
}

/// The advice for a wrong value of a manifest field (the option of the Nix modules that sets
/// it), when one piece of advice fits every way the field can be wrong.
fn field_hint(field: &str) -> Option<Hint> {
    let text = match field {
        "mode" => {
            "write the mode as an octal string such as \"0400\" (owner read-only) or \
                   \"0440\" (owner and group)"
        }
        "format" => {
            return Some(Hint::new(format!(
                "set `format` to the store the file was encrypted as ({}), the same for every \
                 secret of one file",
                Format::names()
            )))
        }
        "name" => {
            "secret and template names are relative paths inside the secrets directory: \
                   unique, without \"..\" and not both a file and a directory"
        }
        "uid" | "gid" => "name the owner or group (`owner`, `group`) or use a real uid/gid",
        "path" | "secretsMountPoint" | "symlinkPath" => {
            "use an absolute path without \"..\", outside the secrets mount point"
        }
        "gnupgHome" => {
            "use either sops.gnupg.home or the key files (sops.gnupg.sshKeyPaths, \
                        sops.age.keyFile), not both"
        }
        "restartUnits" | "reloadUnits" => "name units in full, e.g. \"nginx.service\"",
        "content" => {
            "declare the secret of that placeholder in this configuration \
                      (only neededForUsers templates can use neededForUsers secrets) or remove \
                      the placeholder"
        }
        "placeholderBySecretName" => {
            "the manifest is written by the sops-install module: \
                                      rebuild the configuration instead of editing the manifest"
        }
        "sopsFile" => "set `sopsFile` (or sops.defaultSopsFile) to the sops file's absolute path",
        "file" => "make `file` name a readable file, or give the template's `content`",
        _ => return None,
    };
    Some(Hint::new(text))
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.subject, self.field, self.message)
    }
}

/// Every problem found, printed one per line after a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The distinct advice of every problem, as one hint.
    pub fn hint(&self) -> Option<Hint> {
        Hint::join(self.0.iter().filter_map(|p| p.hint.clone()))
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(Problem::to_string).collect();
        write!(f, "{}", lines.join("; "))
    }
}

/// How %r is expanded in user mode.
pub enum RuntimeDir {
    /// Use this directory.
    Known(String),
    /// Not available: fatal for installing, `""` in check modes.
    Unavailable(runtime_dir::RuntimeDirError),
}

struct Collector {
    problems: Vec<Problem>,
    /// `restartUnits`/`reloadUnits` hold launchd labels (user mode on macOS).
    launchd_labels: bool,
}

impl Collector {
    fn add(&mut self, subject: &str, field: &'static str, message: impl Into<String>) {
        self.problems.push(Problem::new(subject, field, message));
    }
}

/// Validates a raw manifest. `runtime` is only used in user mode; `installing` makes a missing
/// runtime directory fatal.
pub fn validate(
    raw: RawManifest,
    runtime: &RuntimeDir,
    installing: bool,
) -> Result<Manifest, Problems> {
    let user_mode = raw.user_mode.unwrap_or(false);
    let mut c = Collector {
        problems: Vec::new(),
        // A home-manager configuration on macOS names launchd labels, not systemd units.
        launchd_labels: user_mode && cfg!(target_os = "macos"),
    };
    let expand = |s: &str| -> String {
        if !user_mode {
            return s.to_string();
        }
        match runtime {
            RuntimeDir::Known(dir) => runtime_dir::expand(s, dir),
            RuntimeDir::Unavailable(_) => runtime_dir::expand(s, ""),
        }
    };
    if user_mode && installing {
        if let RuntimeDir::Unavailable(why) = runtime {
            c.problems
                .push(Problem::new("manifest", "userMode", why.to_string()).with_hint(why.hint()));
        }
    }

    let mount_point = absolute_path(
        &mut c,
        "manifest",
        "secretsMountPoint",
        &expand(raw.secrets_mount_point.as_deref().unwrap_or("")),
    );
    let symlink_path = absolute_path(
        &mut c,
        "manifest",
        "symlinkPath",
        &expand(raw.symlink_path.as_deref().unwrap_or("")),
    );
    if let (Some(m), Some(s)) = (&mount_point, &symlink_path) {
        if s == m || s.starts_with(m) || m.starts_with(s) {
            c.add(
                "manifest",
                "symlinkPath",
                "must not be the secrets mount point, inside it, or above it",
            );
        }
    }
    let gnupg_home = raw.gnupg_home.filter(|s| !s.is_empty()).map(PathBuf::from);
    let age_key_file = raw
        .age_key_file
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let ssh_key_paths: Vec<PathBuf> = raw
        .ssh_key_paths
        .unwrap_or_default()
        .into_iter()
        .map(PathBuf::from)
        .collect();
    if gnupg_home.is_some() && !ssh_key_paths.is_empty() {
        c.add(
            "manifest",
            "gnupgHome",
            "gnupgHome and sshKeyPaths were both specified; they are mutually exclusive",
        );
    }
    if gnupg_home.is_some() && age_key_file.is_some() {
        c.add(
            "manifest",
            "gnupgHome",
            "gnupgHome and ageKeyFile were both specified; they are mutually exclusive",
        );
    }

    let placeholders = raw.placeholder_by_secret_name.unwrap_or_default();
    let raw_templates = raw.templates.unwrap_or_default();
    let has_templates = !raw_templates.is_empty();
    let symlink_for_defaults = symlink_path.clone().unwrap_or_default();

    let mut names = HashSet::new();
    // Names of the neededForUsers secrets and templates (see `check_template_placeholders`).
    let mut for_users = ForUsers::default();
    let mut file_formats: HashMap<PathBuf, (Format, String)> = HashMap::new();
    let mut secrets = Vec::new();
    for (i, rs) in raw.secrets.unwrap_or_default().into_iter().enumerate() {
        let subject = match rs.name.as_deref() {
            Some(n) if !n.is_empty() => format!("secret {n:?}"),
            _ => format!("secret #{}", i + 1),
        };
        let needed_for_users = rs.needed_for_users.unwrap_or(false);
        if let Some(s) = secret(
            &mut c,
            &subject,
            rs,
            &expand,
            &symlink_for_defaults,
            &placeholders,
            has_templates,
        ) {
            if !names.insert(s.name.clone()) {
                c.add(&subject, "name", "another secret has the same name");
            }
            if needed_for_users {
                for_users.secrets.insert(s.name.clone());
            }
            match file_formats.get(&s.sops_file) {
                Some((f, first)) if *f != s.format => c.add(
                    &subject,
                    "format",
                    format!(
                        "{} is read as {} here but as {f} by secret {first:?}",
                        s.sops_file.display(),
                        s.format
                    ),
                ),
                Some(_) => {}
                None => {
                    file_formats.insert(s.sops_file.clone(), (s.format, s.name.clone()));
                }
            }
            secrets.push(s);
        }
    }

    let mut template_names = HashSet::new();
    let mut templates = Vec::new();
    for (i, rt) in raw_templates.into_iter().enumerate() {
        let subject = match rt.name.as_deref() {
            Some(n) if !n.is_empty() => format!("template {n:?}"),
            _ => format!("template #{}", i + 1),
        };
        let needed_for_users = rt.needed_for_users.unwrap_or(false);
        if let Some(t) = template(&mut c, &subject, rt, &expand, &symlink_for_defaults) {
            if !template_names.insert(t.name.clone()) {
                c.add(&subject, "name", "another template has the same name");
            }
            if needed_for_users {
                for_users.templates.insert(t.name.clone());
            }
            templates.push(t);
        }
    }

    check_prefix_collisions(&mut c, "secret", secrets.iter().map(|s| s.name.as_str()));
    check_prefix_collisions(
        &mut c,
        "template",
        templates.iter().map(|t| t.name.as_str()),
    );
    check_template_placeholders(&mut c, &templates, &secrets, &placeholders, &for_users);
    check_placeholder_map(&mut c, &placeholders);
    let credential_store = check_credentials(
        &mut c,
        &secrets,
        &templates,
        raw.credential_store.as_deref(),
        user_mode,
    );
    if let (Some(m), Some(s)) = (&mount_point, &symlink_path) {
        places::check(
            &mut c,
            &secrets,
            &templates,
            m,
            s,
            credential_store.as_deref(),
        );
    }
    if !c.problems.is_empty() {
        return Err(Problems(c.problems));
    }
    let logging = raw.logging.unwrap_or_default();
    Ok(Manifest {
        secrets,
        templates,
        secrets_mount_point: mount_point.unwrap_or_default(),
        symlink_path: symlink_path.unwrap_or_default(),
        keep_generations: raw.keep_generations.unwrap_or(0),
        ssh_key_paths,
        gnupg_home,
        age_key_file,
        age_ssh_key_paths: raw
            .age_ssh_key_paths
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect(),
        use_tmpfs: raw.use_tmpfs.unwrap_or(false),
        user_mode,
        log_key_import: logging.key_import.unwrap_or(false),
        log_secret_changes: logging.secret_changes.unwrap_or(false),
        keep_last_good: raw.keep_last_good_on_failure.unwrap_or(false),
        credential_store: credential_store
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CREDENTIAL_STORE)),
    })
}

fn secret(
    c: &mut Collector,
    subject: &str,
    rs: RawSecret,
    expand: &dyn Fn(&str) -> String,
    symlink_path: &Path,
    placeholders: &BTreeMap<String, String>,
    has_templates: bool,
) -> Option<Secret> {
    let name = safe_name(c, subject, rs.name.as_deref().unwrap_or(""));
    if let Some(n) = &name {
        if n == RENDERED_DIR || n.starts_with("rendered/") {
            c.add(
                subject,
                "name",
                "\"rendered\" is reserved for the rendered templates directory",
            );
        }
    }
    let format = match rs.format.as_deref().unwrap_or("") {
        "" => Some(Format::Yaml),
        f => Format::from_name(f).or_else(|| {
            c.add(
                subject,
                "format",
                format!("unknown format {f:?} (expected {})", Format::names()),
            );
            None
        }),
    };
    let sops_file = match rs.sops_file.as_deref().unwrap_or("") {
        "" => {
            c.add(subject, "sopsFile", "is empty");
            None
        }
        f => match path_limits(f) {
            Some(why) => {
                c.add(subject, "sopsFile", why);
                None
            }
            None => Some(PathBuf::from(f)),
        },
    };
    let mode = mode(c, subject, rs.mode.as_deref());
    let path = custom_path(
        c,
        subject,
        rs.path.as_deref(),
        expand,
        symlink_path,
        name.as_deref().map(|n| symlink_path.join(n)),
    );
    let placeholder = name.as_ref().and_then(|n| placeholders.get(n).cloned());
    if has_templates && placeholder.is_none() {
        if let Some(n) = &name {
            c.add(
                subject,
                "placeholderBySecretName",
                format!("no placeholder for {n:?} although the manifest has templates"),
            );
        }
    }
    unusable_ids(c, subject, &rs.owner, rs.uid, &rs.group, rs.gid);
    Some(Secret {
        name: name?,
        key: SecretKey::parse(&rs.key.unwrap_or_default()),
        path: path?,
        ownership: Ownership {
            owner: principal(rs.owner, rs.uid),
            group: principal(rs.group, rs.gid),
            mode: mode?,
        },
        sops_file: sops_file?,
        format: format?,
        restart_units: units(c, subject, "restartUnits", rs.restart_units),
        reload_units: units(c, subject, "reloadUnits", rs.reload_units),
        placeholder,
        credential: credential_name(c, subject, rs.credential),
    })
}

fn template(
    c: &mut Collector,
    subject: &str,
    rt: RawTemplate,
    expand: &dyn Fn(&str) -> String,
    symlink_path: &Path,
) -> Option<Template> {
    let name = safe_name(c, subject, rt.name.as_deref().unwrap_or(""));
    let mode = mode(c, subject, rt.mode.as_deref());
    let default = name
        .as_deref()
        .map(|n| symlink_path.join(RENDERED_DIR).join(n));
    let path = custom_path(
        c,
        subject,
        rt.path.as_deref(),
        expand,
        symlink_path,
        default,
    );
    let text = match (
        rt.content.filter(|s| !s.is_empty()),
        rt.file.filter(|s| !s.is_empty()),
    ) {
        (Some(content), _) => Some(content),
        (None, Some(file)) => match crate::input_file::read_to_string(
            std::path::Path::new(&file),
            crate::input_file::TEMPLATE_MAX,
        ) {
            Ok(t) => Some(t),
            Err(e) => {
                c.add(subject, "file", format!("cannot read {file}: {e}"));
                None
            }
        },
        (None, None) => {
            c.add(subject, "content", "neither content nor file is given");
            None
        }
    };
    unusable_ids(c, subject, &rt.owner, rt.uid, &rt.group, rt.gid);
    Some(Template {
        name: name?,
        text: text?,
        path: path?,
        ownership: Ownership {
            owner: principal(rt.owner, rt.uid),
            group: principal(rt.group, rt.gid),
            mode: mode?,
        },
        restart_units: units(c, subject, "restartUnits", rt.restart_units),
        reload_units: units(c, subject, "reloadUnits", rt.reload_units),
        credential: credential_name(c, subject, rt.credential),
    })
}

/// `a` and `a/b` cannot both be files.
fn check_prefix_collisions<'a>(
    c: &mut Collector,
    kind: &str,
    names: impl Iterator<Item = &'a str>,
) {
    let all: HashSet<&str> = names.collect();
    let mut sorted: Vec<&str> = all.iter().copied().collect();
    sorted.sort_unstable();
    for name in sorted {
        let mut prefix = name;
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if all.contains(parent) {
                c.add(
                    &format!("{kind} {name:?}"),
                    "name",
                    format!("{parent:?} is also a {kind}, so it cannot be a directory"),
                );
                break;
            }
            prefix = parent;
        }
    }
}

/// The secrets and templates marked `neededForUsers`, by name.
#[derive(Default)]
struct ForUsers {
    secrets: HashSet<String>,
    templates: HashSet<String>,
}

/// A template may only use placeholders of secrets this manifest installs (sops-nix would leave
/// the placeholder text in the file), and a neededForUsers template, rendered before users
/// exist, only those of neededForUsers secrets.
fn check_template_placeholders(
    c: &mut Collector,
    templates: &[Template],
    secrets: &[Secret],
    all: &BTreeMap<String, String>,
    for_users: &ForUsers,
) {
    for t in templates {
        let template_for_users = for_users.templates.contains(&t.name);
        for (name, placeholder) in all {
            if !t.text.contains(placeholder.as_str()) {
                continue;
            }
            let installed = secrets
                .iter()
                .find(|s| s.placeholder.as_deref() == Some(placeholder));
            if template_for_users && !installed.is_some_and(|s| for_users.secrets.contains(&s.name))
            {
                let name = installed.map_or(name, |s| &s.name);
                c.problems.push(
                    Problem::new(
                        format!("template {:?}", t.name),
                        "content",
                        format!("this neededForUsers template uses the placeholder of secret {name:?}, which is not neededForUsers"),
                    )
                    .with_hint(Some(Hint::new(
                        "set neededForUsers on that secret too, or unset it on the template",
                    ))),
                );
            } else if installed.is_none() {
                c.add(
                    &format!("template {:?}", t.name),
                    "content",
                    format!("uses the placeholder of {name:?}, which this manifest does not install (a neededForUsers secret?)"),
                );
            }
        }
    }
}

/// uid/gid 4294967295 is `(uid_t)-1`, which chown reads as "leave unchanged": the file would
/// silently stay root's. Refused (a name that resolves to it is refused in `owners`).
fn unusable_ids(
    c: &mut Collector,
    subject: &str,
    owner: &Option<String>,
    uid: Option<u32>,
    group: &Option<String>,
    gid: Option<u32>,
) {
    let why = "4294967295 is chown's \"leave unchanged\" and cannot own a file";
    if owner.is_none() && uid == Some(u32::MAX) {
        c.add(subject, "uid", why);
    }
    if group.is_none() && gid == Some(u32::MAX) {
        c.add(subject, "gid", why);
    }
}

fn principal(name: Option<String>, id: Option<u32>) -> Principal {
    match name {
        Some(n) => Principal::Name(n),
        None => Principal::Id(id.unwrap_or(0)),
    }
}

/// A relative path that stays inside the generation: no `..`, `.`, empty or absolute parts.
fn safe_name(c: &mut Collector, subject: &str, name: &str) -> Option<String> {
    let problem = if name.is_empty() {
        Some("is empty")
    } else if name.starts_with('/') {
        Some("must be relative (it names a file inside the secrets directory)")
    } else if name
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        Some("must not contain empty, \".\" or \"..\" components")
    } else {
        None
    };
    let problem = problem.map(str::to_string).or_else(|| path_limits(name));
    match problem {
        Some(p) => {
            c.add(subject, "name", p);
            None
        }
        None => Some(name.to_string()),
    }
}

/// An octal mode string such as `0400` or `400`.
fn mode(c: &mut Collector, subject: &str, text: Option<&str>) -> Option<u32> {
    let text = text.unwrap_or("");
    match u32::from_str_radix(text, 8) {
        Ok(m) if m <= 0o7777 && !text.is_empty() => Some(m & 0o777),
        _ => {
            c.add(
                subject,
                "mode",
                format!("{text:?} is not an octal mode such as \"0400\""),
            );
            None
        }
    }
}

fn absolute_path(
    c: &mut Collector,
    subject: &str,
    field: &'static str,
    s: &str,
) -> Option<PathBuf> {
    let p = Path::new(s);
    if s.is_empty() {
        c.add(subject, field, "is empty");
        None
    } else if let Some(why) = path_limits(s) {
        c.add(subject, field, why);
        None
    } else if !p.is_absolute() {
        c.add(subject, field, format!("{s:?} is not an absolute path"));
        None
    } else if p.components().any(|x| x == Component::ParentDir) {
        c.add(subject, field, format!("{s:?} must not contain \"..\""));
        None
    } else {
        Some(normalize(p))
    }
}

/// A secret's `credential`: a name systemd accepts for `LoadCredential=NAME` (a file name of
/// printable ASCII without `:`); `null` and `""` mean none.
fn credential_name(c: &mut Collector, subject: &str, name: Option<String>) -> Option<String> {
    let name = name.filter(|n| !n.is_empty())?;
    let why = if name == "." || name == ".." {
        Some("must not be \".\" or \"..\"")
    } else if name.len() > NAME_MAX {
        Some("is longer than 255 bytes")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
    {
        Some(
            "may only hold printable ASCII without spaces, '/' or ':' (systemd's credential names)",
        )
    } else {
        None
    };
    match why {
        Some(why) => {
            c.add(subject, "credential", format!("{name:?} {why}"));
            None
        }
        None => Some(name),
    }
}

/// The credential store, when any secret or template has a `credential`: system mode only,
/// names unique across secrets and templates, an absolute store path, and no secret named like
/// the generation's credentials directory.
fn check_credentials(
    c: &mut Collector,
    secrets: &[Secret],
    templates: &[Template],
    store: Option<&str>,
    user_mode: bool,
) -> Option<PathBuf> {
    let store = match store.filter(|s| !s.is_empty()) {
        Some(s) => absolute_path(c, "manifest", "credentialStore", s),
        None => Some(PathBuf::from(DEFAULT_CREDENTIAL_STORE)),
    };
    let with = super::credential_uses(secrets, templates);
    if with.is_empty() {
        return store;
    }
    if user_mode {
        for u in &with {
            c.add(
                &u.subject,
                "credential",
                "systemd credentials are for system mode only",
            );
        }
    }
    let mut first: HashMap<&str, &str> = HashMap::new();
    for u in &with {
        if let Some(other) = first.insert(u.name, &u.subject) {
            c.add(
                &u.subject,
                "credential",
                format!("{:?} is also the credential of {other}", u.name),
            );
        }
    }
    for s in secrets {
        if s.name == CREDENTIALS_DIR || s.name.starts_with(&format!("{CREDENTIALS_DIR}/")) {
            c.add(
                &format!("secret {:?}", s.name),
                "name",
                format!("{CREDENTIALS_DIR:?} is reserved for the credentials of the generation"),
            );
        }
    }
    store
}

/// The user-visible path; empty means the default place in the live tree.
fn custom_path(
    c: &mut Collector,
    subject: &str,
    path: Option<&str>,
    expand: &dyn Fn(&str) -> String,
    symlink_path: &Path,
    default: Option<PathBuf>,
) -> Option<PathBuf> {
    let text = expand(path.unwrap_or(""));
    if text.is_empty() {
        return default;
    }
    let p = absolute_path(c, subject, "path", &text)?;
    if p == symlink_path {
        c.add(subject, "path", "must not be the symlink path itself");
        return None;
    }
    Some(p)
}

/// Placeholders are searched for in template text: an empty one matches everywhere, and two
/// secrets with one placeholder would make the rendered value depend on which is found.
fn check_placeholder_map(c: &mut Collector, all: &BTreeMap<String, String>) {
    let mut first: HashMap<&str, &str> = HashMap::new();
    for (name, placeholder) in all {
        let subject = format!("secret {name:?}");
        if placeholder.trim().is_empty() {
            c.add(
                &subject,
                "placeholderBySecretName",
                "the placeholder is empty",
            );
        } else if let Some(other) = first.insert(placeholder.as_str(), name.as_str()) {
            c.add(
                &subject,
                "placeholderBySecretName",
                format!("the placeholder is also the placeholder of secret {other:?}"),
            );
        }
    }
}

/// Longest file name component Linux accepts (`NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// Longest path Linux accepts, with its terminating NUL (`PATH_MAX`).
pub const PATH_MAX: usize = 4096;

/// What would make the kernel refuse `path` after the swap, checked before anything is written.
fn path_limits(path: &str) -> Option<String> {
    if path.contains('\0') {
        Some("must not contain a NUL byte".into())
    } else if path.len() >= PATH_MAX {
        Some(format!(
            "is {} bytes long; paths are limited to {} bytes",
            path.len(),
            PATH_MAX - 1
        ))
    } else {
        path.split('/').find(|p| p.len() > NAME_MAX).map(|long| {
            format!(
                "has a component of {} bytes ({}…); names are limited to {NAME_MAX} bytes",
                long.len(),
                long.chars().take(16).collect::<String>()
            )
        })
    }
}

/// Unit types a secret change can usefully restart or reload.
const UNIT_SUFFIXES: &[&str] = &[
    "service",
    "socket",
    "target",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
    "device",
];

/// A launchd label as a macOS `restartUnits`/`reloadUnits` entry: at most 255 bytes of
/// `[A-Za-z0-9._-]`, not starting with `-` or `.` (so it can neither reach `launchctl` as an
/// option nor leave the `gui/<uid>/` domain). None when it is one.
pub fn launchd_label_problem(label: &str) -> Option<String> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"._-".contains(&b);
    if label.is_empty() {
        Some("a launchd label is empty".into())
    } else if label.len() > 255 {
        Some(format!(
            "launchd label of {} bytes; at most 255 are allowed",
            label.len()
        ))
    } else if !label.bytes().all(allowed) || label.starts_with(['-', '.']) {
        Some(format!(
            "{label:?} is not a launchd label (letters, digits and \"._-\", not starting with - \
             or .)"
        ))
    } else {
        None
    }
}

/// systemd's unit-name rules, so that an entry can neither split a line of
/// switch-to-configuration's lists nor reach `systemctl` as an option: at most 255 bytes of
/// `[A-Za-z0-9:_.\\@-]`, not starting with `-` or `.`, with a unit type suffix. A bare `nginx`
/// is refused (systemctl would add `.service`, switch-to-configuration does not).
pub fn unit_name_problem(unit: &str) -> Option<String> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b":_.\\@-".contains(&b);
    if unit.is_empty() {
        return Some("a unit name is empty".into());
    }
    let shown = format!("{unit:?}");
    if unit.len() > NAME_MAX {
        Some(format!(
            "unit name of {} bytes; systemd allows {NAME_MAX}",
            unit.len()
        ))
    } else if !unit.bytes().all(allowed) {
        Some(format!(
            "{shown} is not a unit name (only letters, digits and \":_.\\@-\" are allowed)"
        ))
    } else if unit.starts_with(['-', '.']) {
        Some(format!(
            "{shown} is not a unit name (it starts with - or .)"
        ))
    } else {
        match unit.rsplit_once('.') {
            Some((stem, suffix)) if !stem.is_empty() && UNIT_SUFFIXES.contains(&suffix) => None,
            _ => Some(format!(
                "{shown} has no unit type suffix (write e.g. \"{}.service\")",
                unit.trim_end_matches('.')
            )),
        }
    }
}

fn units(
    c: &mut Collector,
    subject: &str,
    field: &'static str,
    list: Option<Vec<String>>,
) -> Vec<String> {
    let list = list.unwrap_or_default();
    for unit in &list {
        let problem = if c.launchd_labels {
            launchd_label_problem(unit)
        } else {
            unit_name_problem(unit)
        };
        if let Some(why) = problem {
            c.add(subject, field, why);
        }
    }
    list
}

mod places;
#[cfg(test)]
mod tests;
