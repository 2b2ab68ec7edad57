//! v1 device rules as devices.allow and devices.deny take them (cgroup-v1/devices.rst).

use super::limits::InputError;

/// A v1 device rule as devices.allow / devices.deny take it: `a`, or `TYPE MAJOR:MINOR ACCESS`
/// with TYPE a, b or c, `*` for any number, ACCESS a non-empty subset of rwm (cgroup-v1/devices.rst).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRuleSpec {
    pub kind: char,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: String,
}

impl DeviceRuleSpec {
    /// Parse a rule; the error says the accepted form.
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let bad = || InputError::BadValue {
            key: "device rule".into(),
            value: text.to_string(),
            form: "'a' (all devices), or 'TYPE MAJOR:MINOR ACCESS' with TYPE a, b or c, * for \
                   any number, ACCESS from rwm (e.g. \"c 1:3 rwm\", \"b 8:* r\")",
        };
        let fields: Vec<&str> = text.split_ascii_whitespace().collect();
        if fields == ["a"] {
            return Ok(DeviceRuleSpec {
                kind: 'a',
                major: None,
                minor: None,
                access: "rwm".into(),
            });
        }
        let [kind, numbers, access] = fields.as_slice() else {
            return Err(bad());
        };
        let kind = match *kind {
            "a" => 'a',
            "b" => 'b',
            "c" => 'c',
            _ => return Err(bad()),
        };
        let (maj, min) = numbers.split_once(':').ok_or_else(bad)?;
        let num = |s: &str| -> Result<Option<u32>, InputError> {
            if s == "*" {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| bad())
            }
        };
        let (major, minor) = (num(maj)?, num(min)?);
        let mut seen = String::new();
        for c in access.chars() {
            if !matches!(c, 'r' | 'w' | 'm') || seen.contains(c) {
                return Err(bad());
            }
            seen.push(c);
        }
        // Canonical order, as devices.list prints it.
        let access: String = ['r', 'w', 'm']
            .iter()
            .filter(|c| seen.contains(**c))
            .collect();
        if access.is_empty() {
            return Err(bad());
        }
        // The kernel reads any rule of type `a` as "all devices" and ignores the rest of it
        // (devcgroup_update_access): `allow a 1:3 r` would allow every device. Only the whole
        // form is accepted, so that what is written is what it looks like.
        if kind == 'a' && (major.is_some() || minor.is_some() || access != "rwm") {
            return Err(InputError::BadValue {
                key: "device rule".into(),
                value: text.to_string(),
                form: "'a' alone (or 'a *:* rwm'): type a means every device, whatever numbers \
                       or access follow it; use b or c for one device",
            });
        }
        Ok(DeviceRuleSpec {
            kind,
            major,
            minor,
            access,
        })
    }
}

impl std::fmt::Display for DeviceRuleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |v: Option<u32>| v.map_or("*".to_string(), |v| v.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind,
            n(self.major),
            n(self.minor),
            self.access
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_rules_parse_to_the_kernels_syntax() {
        let r = DeviceRuleSpec::parse("c 1:3 mwr").expect("rule");
        assert_eq!(r.to_string(), "c 1:3 rwm");
        assert_eq!(
            DeviceRuleSpec::parse("b 8:* r").expect("rule").to_string(),
            "b 8:* r"
        );
        assert_eq!(
            DeviceRuleSpec::parse("a").expect("rule").to_string(),
            "a *:* rwm"
        );
        for bad in [
            "", "x 1:3 r", "c 1 r", "c 1:3", "c 1:3 rx", "c 1:3 rr", "c a:3 r",
        ] {
            assert!(DeviceRuleSpec::parse(bad).is_err(), "{bad}");
        }
    }
}
