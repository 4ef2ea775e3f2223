//! Floats as yaml.v3 prints them: Go's `strconv.FormatFloat(v, 'g', -1, 64)` (shortest
//! round-trip digits, exponent form when the decimal exponent is below -4 or at least 6, the
//! exponent signed and at least two digits long), with `.inf`, `-.inf` and `.nan`.

/// The YAML spelling of a float.
pub(super) fn yaml_float(v: f64) -> String {
    if v.is_nan() {
        return ".nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { ".inf" } else { "-.inf" }.to_string();
    }
    // `{:e}` gives the shortest round-trip mantissa with a bare exponent: "1.234567e6",
    // "-1e-7", "0e0" and "-0e0" for the zeros.
    let sci = zeroize::Zeroizing::new(format!("{v:e}"));
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci.to_string();
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        // Positional form; Rust's Display prints the same shortest digits.
        return format!("{v}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::yaml_float;

    #[test]
    fn floats_follow_go_g_format_with_shortest_digits() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.5, "0.5"),
            (1e10, "1e+10"),
            (1000.0, "1000"),
            (100000.0, "100000"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (999999.0, "999999"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (0.000001, "1e-06"),
            (1e-7, "1e-07"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e23, "1e+23"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-2.5e-5, "-2.5e-05"),
            (123456.7, "123456.7"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ];
        for (v, want) in cases {
            assert_eq!(yaml_float(*v), *want, "{v:e}");
        }
    }
}
