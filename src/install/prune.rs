//! Removing old generations: numeric entries at or below `current - keep`, never the current
//! one, never anything newer, never a non-numeric entry. `keep = 0` keeps everything.

use std::path::Path;

use super::InstallError;

pub fn prune(mount_point: &Path, current: u64, keep: u64) -> Result<Vec<u64>, InstallError> {
    if keep == 0 {
        return Ok(Vec::new());
    }
    let limit = current.saturating_sub(keep);
    let mut removed = Vec::new();
    let entries = std::fs::read_dir(mount_point)
        .map_err(|e| InstallError::io("cannot list", mount_point, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(n) = name.to_str().and_then(|s| s.parse::<u64>().ok()) else {
            continue;
        };
        if n == current || n > limit || name.to_str() != Some(&n.to_string()) {
            continue;
        }
        let path = entry.path();
        let result = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        result.map_err(|e| InstallError::io("cannot prune old secrets generation", &path, e))?;
        removed.push(n);
    }
    removed.sort_unstable();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(names: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for n in names {
            std::fs::create_dir(dir.path().join(n)).unwrap();
        }
        dir
    }

    fn left(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn keep_one_leaves_only_the_current_generation_and_non_numeric_entries() {
        let d = setup(&["1", "2", "3", "non-numeric"]);
        assert_eq!(prune(d.path(), 3, 1).unwrap(), vec![1, 2]);
        assert_eq!(left(d.path()), vec!["3", "non-numeric"]);
    }

    #[test]
    fn keep_ten_removes_generations_at_or_below_current_minus_ten() {
        let names: Vec<String> = (1..=101).map(|n| n.to_string()).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let d = setup(&refs);
        prune(d.path(), 101, 10).unwrap();
        let l = left(d.path());
        assert!(!l.contains(&"91".to_string()));
        assert!(l.contains(&"92".to_string()) && l.contains(&"101".to_string()));
        assert_eq!(l.len(), 10);
    }

    #[test]
    fn keep_zero_prunes_nothing_and_newer_generations_survive() {
        let d = setup(&["1", "5", "9"]);
        assert!(prune(d.path(), 5, 0).unwrap().is_empty());
        assert_eq!(prune(d.path(), 5, 1).unwrap(), vec![1]);
        assert_eq!(left(d.path()), vec!["5", "9"]);
    }

    #[test]
    fn names_that_are_not_canonical_numbers_are_left_alone() {
        let d = setup(&["01", "2"]);
        assert_eq!(prune(d.path(), 3, 1).unwrap(), vec![2]);
        assert_eq!(left(d.path()), vec!["01"]);
    }
}
