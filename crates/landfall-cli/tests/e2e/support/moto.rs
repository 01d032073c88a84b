//! moto's server (scripts/test starts it and sets LANDFALL_TEST_MOTO_URL): its address,
//! the environment the CLI needs to reach it, and one reset server per scenario.

use std::sync::{Mutex, MutexGuard};

pub fn moto_url() -> String {
    std::env::var("LANDFALL_TEST_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "the AWS-backend tests need moto's server and LANDFALL_TEST_MOTO_URL is not set: run scripts/test, which starts it"
        )
    })
}

pub fn moto_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ("LANDFALL_AWS_RATE", "reads=1000,writes=1000".into()),
    ]
}

/// moto's server holds one organization: AWS scenarios run one at a time, each on a
/// freshly reset server.
pub static MOTO: Mutex<()> = Mutex::new(());

pub fn moto_session() -> MutexGuard<'static, ()> {
    let guard = MOTO.lock().unwrap_or_else(|e| e.into_inner());
    use std::io::{Read, Write};
    let url = moto_url();
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200"),
        "moto reset failed: {reply}"
    );
    guard
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
