//! Does a plain string parse as a yaml.v3 timestamp? yaml.v3 tries Go's `time.Parse` with the
//! layouts `2006-1-2T15:4:5.999999999Z07:00`, the same with a lower-case `t`,
//! `2006-1-2 15:4:5.999999999` and `2006-1-2`, after checking that the text starts with four
//! digits and a dash. Only the yes/no answer matters to the emitter (it decides quoting).

/// True when yaml.v3 would read the plain scalar `s` as a timestamp.
pub(super) fn is_go_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year = b[..4]
        .iter()
        .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    let mut i = 5;
    let Some(month) = number(b, &mut i) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = number(b, &mut i) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    match b.get(i) {
        None => true,
        Some(b'T' | b't') => {
            i += 1;
            time_of_day(b, &mut i) && zone(b, i)
        }
        Some(b' ') => {
            i += 1;
            time_of_day(b, &mut i) && i == b.len()
        }
        Some(_) => false,
    }
}

/// One or two digits, as Go's non-padded layout fields read them.
fn number(b: &[u8], i: &mut usize) -> Option<u32> {
    let first = *b.get(*i).filter(|c| c.is_ascii_digit())?;
    *i += 1;
    let mut v = u32::from(first - b'0');
    if let Some(c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
        v = v * 10 + u32::from(c - b'0');
        *i += 1;
    }
    Some(v)
}

/// `h:m:s` with an optional fraction (`.` or `,` then digits).
fn time_of_day(b: &[u8], i: &mut usize) -> bool {
    let Some(hour) = number(b, i) else {
        return false;
    };
    if b.get(*i) != Some(&b':') {
        return false;
    }
    *i += 1;
    let Some(minute) = number(b, i) else {
        return false;
    };
    if b.get(*i) != Some(&b':') {
        return false;
    }
    *i += 1;
    let Some(second) = number(b, i) else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    if matches!(b.get(*i), Some(b'.' | b',')) && b.get(*i + 1).is_some_and(u8::is_ascii_digit) {
        *i += 1;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
    }
    true
}

/// `Z` or `±hh:mm` and nothing after it.
fn zone(b: &[u8], i: usize) -> bool {
    match &b[i.min(b.len())..] {
        [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            if ![h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) {
                return false;
            }
            let hh = u32::from(h1 - b'0') * 10 + u32::from(h2 - b'0');
            let mm = u32::from(m1 - b'0') * 10 + u32::from(m2 - b'0');
            hh <= 24 && mm <= 60
        }
        _ => false,
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::is_go_timestamp;

    #[test]
    fn the_four_yaml_v3_layouts_are_timestamps() {
        for s in [
            "2024-01-02",
            "2024-1-2",
            "2001-12-14T21:59:43Z",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
            "2001-12-14 1:2:3",
            "2000-02-29",
        ] {
            assert!(is_go_timestamp(s), "{s}");
        }
    }

    #[test]
    fn near_misses_are_not_timestamps() {
        for s in [
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14T21:59:43",
            "2024-13-01",
            "2023-02-29",
            "2024-001-01",
            "24-01-01",
            "2024-01-01x",
            "2001-12-14T25:00:00Z",
            "2001-12-14T21:59:43z",
        ] {
            assert!(!is_go_timestamp(s), "{s}");
        }
    }
}
