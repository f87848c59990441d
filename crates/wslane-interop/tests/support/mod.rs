//! The proxy tests' own side: a wslane echo server on a free loopback port, over TCP or TLS (with a
//! certificate made for 127.0.0.1), and a client that checks an echo through a proxy.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use wslane_tokio::{
    ClientRequest, Config, ConnectOptions, Connector, Error, Message, ProxySetting, Url,
};

/// An echo server's URL, and the TLS client settings that trust it (for `wss://`).
pub(crate) struct Echo {
    pub(crate) url: String,
    pub(crate) connector: Connector,
}

/// Starts an echo server on 127.0.0.1 in the current tokio runtime: `wss://` with a fresh self-signed
/// certificate for 127.0.0.1 when `tls`, else `ws://`.
pub(crate) async fn spawn_echo(tls: bool) -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    if !tls {
        tokio::spawn(serve(listener, None));
        return Echo {
            url: format!("ws://{addr}/echo"),
            connector: Connector::Default,
        };
    }
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    tokio::spawn(serve(listener, Some(acceptor)));
    Echo {
        url: format!("wss://{addr}/echo"),
        connector: Connector::Rustls(Arc::new(client)),
    }
}

async fn serve(listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        echo(stream).await;
                    }
                }
                None => echo(tcp).await,
            }
        });
    }
}

/// Echoes every data message until the client closes.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) {
    let Ok(mut ws) = wslane_tokio::accept(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.recv().await {
        if matches!(message, Message::Text(_) | Message::Binary(_))
            && ws.send(message).await.is_err()
        {
            return;
        }
    }
}

/// Connects to `echo` with `proxy`, and checks that a text and a binary message come back.
pub(crate) async fn check_echo(echo: &Echo, proxy: impl Into<ProxySetting>) -> Result<(), Error> {
    let request = ClientRequest::new(Url::parse(&echo.url).unwrap());
    let options = ConnectOptions::new()
        .connector(echo.connector.clone())
        .proxy(proxy);
    let (mut ws, _) = wslane_tokio::connect_with(request, Config::default(), options).await?;
    for message in [
        Message::text("through the proxy"),
        Message::binary(vec![0, 1, 2, 255]),
    ] {
        ws.send(message.clone()).await?;
        let echoed = ws.recv().await.expect("an echo")?;
        assert_eq!(echoed, message, "{}", echo.url);
    }
    ws.close(wslane_tokio::CloseCode::NORMAL, "").await?;
    Ok(())
}
