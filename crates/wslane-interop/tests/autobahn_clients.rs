//! The Autobahn client examples against a stand-in for `wstest -m fuzzingserver` that refuses one case's
//! opening handshake: like other implementations' testees, each reports that case and goes on with the
//! next, then asks for the reports.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wslane_interop::spawn_example;
use wslane_tokio::{Acceptance, Config, Message, Rejection, ServerConfig, ServerHandshake};

/// The cases the stand-in offers; `REFUSED` is answered with 400 instead of 101.
const CASES: u32 = 3;
const REFUSED: u32 = 2;

/// Serves `getCaseCount`, `runCase` (an echo of one message, then a normal close) and `updateReports` until
/// the reports are asked for; returns every request target it saw, in order.
async fn fuzzingserver(listener: tokio::net::TcpListener) -> Vec<String> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    loop {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut handshake = ServerHandshake::new(ServerConfig::default());
        let request = wslane_tokio::read_request(&mut tcp, &mut handshake)
            .await
            .expect("a WebSocket request");
        let target = request.path().to_owned();
        seen.lock().unwrap().push(target.clone());
        if target.contains(&format!("case={REFUSED}&")) {
            let refusal = Rejection::new(400).expect("a status");
            use tokio::io::AsyncWriteExt;
            tcp.write_all(&refusal.to_bytes()).await.unwrap();
            continue;
        }
        let mut ws = wslane_tokio::upgrade(tcp, request, Acceptance::new(), Config::default())
            .await
            .unwrap();
        if target.starts_with("/getCaseCount") {
            ws.send(Message::text(CASES.to_string())).await.unwrap();
        } else if target.starts_with("/runCase") {
            ws.send(Message::text("echo me")).await.unwrap();
            let echoed = ws.recv().await.expect("the echo").unwrap();
            assert_eq!(echoed, Message::text("echo me"), "{target}");
        }
        ws.close(wslane_tokio::CloseCode::NORMAL, "").await.unwrap();
        if target.starts_with("/updateReports") {
            return seen.lock().unwrap().clone();
        }
    }
}

fn run(package: &str, example: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("ws://{}", listener.local_addr().unwrap());
    let server = runtime.spawn(fuzzingserver(listener));
    let mut client = spawn_example(package, example, [base.as_str()]);
    let status = client.wait_with_timeout(Duration::from_secs(30));
    let output = client.output();
    assert!(status.success(), "{example}: {status}\n{output}");
    assert!(
        output.contains(&format!("case {REFUSED}: the opening handshake failed")),
        "{example} reports the refused case:\n{output}"
    );
    assert!(
        output.contains(&format!("ran {CASES} cases (1 refused")),
        "{example}:\n{output}"
    );
    let seen = runtime.block_on(server).unwrap();
    let cases: Vec<&String> = seen.iter().filter(|t| t.starts_with("/runCase")).collect();
    assert_eq!(
        cases.len(),
        CASES as usize,
        "{example} asked for every case: {seen:?}"
    );
    assert!(
        seen.last().unwrap().starts_with("/updateReports"),
        "{seen:?}"
    );
}

#[test]
fn tokio_autobahn_client_goes_on_after_a_refused_case() {
    run("wslane-tokio", "autobahn_client");
}

#[test]
fn async_std_autobahn_client_goes_on_after_a_refused_case() {
    run("wslane-async-std", "async_std_autobahn_client");
}

#[test]
fn mio_autobahn_client_goes_on_after_a_refused_case() {
    run("wslane-mio", "mio_autobahn_client");
}
