//! The shipped deployment files are valid for the tools that read them:
//! `deploy/haproxy.cfg` passes `haproxy -c` (Debian's `haproxy`, installed by `.ci/run`;
//! without it this test fails naming the package).

use std::path::Path;
use std::process::Command;

#[test]
fn the_haproxy_config_is_valid_and_hashes_on_the_venue() {
    let haproxy = std::env::var("QSKIP_HAPROXY").unwrap_or_else(|_| "/usr/sbin/haproxy".into());
    assert!(
        Path::new(&haproxy).is_file(),
        "haproxy is missing: {haproxy} does not exist; install Debian's haproxy package (.ci/run does) or set QSKIP_HAPROXY"
    );
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg");
    let checked = Command::new(&haproxy).args(["-c", "-f", config]).output().expect("haproxy runs");
    let said = format!("{}{}", String::from_utf8_lossy(&checked.stdout), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success(), "haproxy -c refused {config}: {said}");
    let text = std::fs::read_to_string(config).expect("the config is readable");
    assert!(text.contains("balance hash path,field(4,/)") && text.contains("hash-type consistent"), "venue hashing");
    assert!(text.contains("uri /readyz"), "health checks on /readyz");
}
