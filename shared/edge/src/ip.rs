//! The client's address, from `CF-Connecting-IP`, as a rate-limit key.
use std::net::IpAddr;

/// The key for a client: the IPv4 address, or the /64 prefix of an IPv6
/// address (one subscriber usually holds a whole /64). Missing or invalid
/// values share the key `unknown`.
pub fn client_key(cf_connecting_ip: Option<&str>) -> String {
    match cf_connecting_ip
        .map(str::trim)
        .and_then(|s| s.parse::<IpAddr>().ok())
    {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_is_kept_and_ipv6_is_grouped_by_slash_64() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(
            client_key(Some("2001:db8:1:2:aaaa::1")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_key(Some("2001:db8:1:2:bbbb::9")),
            "2001:db8:1:2::/64"
        );
    }

    #[test]
    fn garbage_and_absence_share_one_key() {
        assert_eq!(client_key(Some("not-an-ip")), "unknown");
        assert_eq!(client_key(None), "unknown");
    }
}
