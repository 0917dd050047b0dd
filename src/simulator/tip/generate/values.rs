//! Fictional indicator values: documentation IP ranges, example domains, random hashes.

use super::names::{DOMAINS, HOST_WORDS};
use super::rng::Rng;

/// The three IPv4 ranges reserved for documentation (RFC 5737).
const IPV4_PREFIXES: &[&str] = &["192.0.2", "198.51.100", "203.0.113"];

pub(crate) fn ipv4(rng: &mut Rng) -> String {
    format!("{}.{}", rng.pick(IPV4_PREFIXES), 1 + rng.below(254))
}

/// An address in 2001:db8::/32, reserved for documentation (RFC 3849).
pub(crate) fn ipv6(rng: &mut Rng) -> String {
    format!(
        "2001:db8:{:x}:{:x}::{:x}",
        rng.below(0x10000),
        rng.below(0x10000),
        1 + rng.below(0xfffe)
    )
}

pub(crate) fn host(rng: &mut Rng) -> String {
    format!(
        "{}-{}{}.{}",
        rng.pick(HOST_WORDS),
        rng.pick(HOST_WORDS),
        rng.below(100),
        rng.pick(DOMAINS)
    )
}

pub(crate) fn url(rng: &mut Rng) -> String {
    let host = host(rng);
    let path = [
        "gate.php",
        "index.html",
        "download/update.bin",
        "api/v2/check",
        "s/x.js",
    ];
    format!("https://{host}/{}?id={}", rng.pick(&path), rng.hex(8))
}

pub(crate) fn email(rng: &mut Rng) -> String {
    let users = ["billing", "hr-team", "it.support", "j.doe", "press"];
    format!("{}@{}", rng.pick(&users), rng.pick(DOMAINS))
}

/// A hash of `len` hex digits, upper case about one time in five (as seen in the field).
pub(crate) fn hash(rng: &mut Rng, len: usize) -> String {
    let hex = rng.hex(len);
    if rng.chance(20) {
        hex.to_uppercase()
    } else {
        hex
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn addresses_stay_in_the_documentation_ranges() {
        let mut rng = Rng::new(3, 0);
        for _ in 0..200 {
            let v4: Ipv4Addr = ipv4(&mut rng).parse().unwrap();
            assert!(
                matches!(
                    v4.octets(),
                    [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _]
                ),
                "{v4}"
            );
            let v6: Ipv6Addr = ipv6(&mut rng).parse().unwrap();
            assert_eq!(&v6.segments()[..2], [0x2001, 0x0db8]);
            let host = host(&mut rng);
            assert!(DOMAINS.iter().any(|d| host.ends_with(d)), "{host}");
        }
    }
}
