//! Helpers shared by the adapter's tests.

use std::future::Future;
use std::time::Duration;

/// Runs `future` on whatever runtime polls this, failing the test after 20 seconds (async-io's timer works
/// on both async-std and smol).
pub(crate) async fn bounded(future: impl Future<Output = ()>) {
    let limit = async {
        async_io::Timer::after(Duration::from_secs(20)).await;
        panic!("test timed out");
    };
    futures_lite::future::or(future, limit).await
}
