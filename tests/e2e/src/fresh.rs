//! Fresh test values: client addresses no other caller in this process gets
//! (so scenarios never share the per-IP rate-limit budget), random secrets
//! from the kernel, and free local ports.
use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};

/// A client address no other caller in this process gets: TEST-NET-1/2/3
/// (RFC 5737) IPv4 addresses first, then distinct /64s of the IPv6
/// documentation prefix 2001:db8::/32 (the edge keys IPv6 clients by /64).
pub fn unique_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const NETS: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let net = usize::try_from(n / 254).unwrap_or(usize::MAX);
    match NETS.get(net) {
        Some([a, b, c]) => {
            let host = u8::try_from(n % 254 + 1).unwrap_or(1);
            Ipv4Addr::new(*a, *b, *c, host).to_string()
        }
        None => {
            let hi = u16::try_from(n >> 16).unwrap_or(u16::MAX);
            let lo = u16::try_from(n & 0xffff).unwrap_or(0);
            Ipv6Addr::new(0x2001, 0xdb8, hi, lo, 0, 0, 0, 1).to_string()
        }
    }
}

/// Random bytes from the kernel (test secrets).
pub fn random_bytes(bytes: usize) -> Vec<u8> {
    let mut buf = vec![0_u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .expect("reading /dev/urandom");
    buf
}

/// Random hex from the kernel (a test secret, not key material).
pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A free TCP port on 127.0.0.1 (free when asked; the OS may reuse it later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ips_never_repeat_and_stay_in_documentation_ranges() {
        let ips: Vec<String> = (0..1000).map(|_| unique_ip()).collect();
        let mut sorted = ips.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ips.len());
        for ip in &ips {
            assert!(
                ip.starts_with("192.0.2.")
                    || ip.starts_with("198.51.100.")
                    || ip.starts_with("203.0.113.")
                    || ip.starts_with("2001:db8:"),
                "{ip}"
            );
            assert!(!ip.ends_with(".0") && !ip.ends_with(".255"), "{ip}");
        }
    }
}
