//! The byte stream a connection runs over: plain TCP, TLS, or (in tests) an in-memory pipe;
//! and [`Rewind`], which replays bytes read too early (a TLS ClientHello that arrived in the
//! same read as the SSL request).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Anything a connection can run over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A boxed connection stream; TLS wraps the plain stream in place.
pub type BoxIo = Box<dyn Io>;

/// A stream whose first reads return `buffered`, then the inner stream's bytes.
pub struct Rewind {
    buffered: BytesMut,
    inner: BoxIo,
}

impl Rewind {
    /// Replays `buffered` before reading from `inner`.
    pub fn new(buffered: BytesMut, inner: BoxIo) -> Self {
        Self { buffered, inner }
    }
}

impl AsyncRead for Rewind {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.buffered.is_empty() {
            let n = self.buffered.len().min(buf.remaining());
            buf.put_slice(&self.buffered[..n]);
            self.buffered.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn replays_buffered_bytes_first() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut r = Rewind::new(BytesMut::from(&b"early"[..]), Box::new(a));
        b.write_all(b" late").await.unwrap();
        drop(b);
        let mut all = Vec::new();
        r.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"early late");
    }
}
