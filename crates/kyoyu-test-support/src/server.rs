//! The real server on port 0, as `kyoyu serve` runs it, until the test drops it.

use kyoyu_store::Store;
use tokio::sync::oneshot;

/// A server a test started: its address, and its shutdown when dropped.
pub struct Running {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    _shutdown: oneshot::Sender<()>,
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    (listener, base)
}

/// The whole server (JSON API, TAXII, web UI and the background tasks) on `store`.
pub async fn serve(store: Store, config: kyoyu_api::ServerConfig) -> Running {
    let (listener, base) = listener().await;
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(kyoyu_web::serve(listener, store, config, async {
        let _ = stopped.await;
    }));
    Running { base, _shutdown: shutdown }
}

/// A router without the server's background tasks (so, for one, nothing makes new
/// renditions' STIX objects unless a read asks for them).
pub async fn serve_router(router: axum::Router) -> Running {
    let (listener, base) = listener().await;
    let (shutdown, stopped) = oneshot::channel::<()>();
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Running { base, _shutdown: shutdown }
}
