//! What a plain write costs against a vectored write of one slice, on a loopback TCP socket: the
//! measurement behind the adapters' choice of `write` (`send` on Linux) for output that is a single piece
//! (`docs/performance-notes.md`).
//!
//! Each round sends `count` messages of `size` bytes through one end of a connected loopback pair, reading
//! each back from the other end on the same thread, once with `write` and once with `write_vectored` of one
//! slice (`writev`), the two taking turns round by round. Prints the median time per message of each (a
//! write and the read that takes it) and the difference. The loop never waits on anything but the kernel,
//! so on an otherwise idle core the time is the system time of the two calls; pin it to one core
//! (`taskset -c 1`).
//!
//! ```text
//! write_calls [SIZE] [COUNT] [ROUNDS]        defaults: 20 bytes, 100000 messages, 7 rounds
//! ```

use std::io::{self, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

fn main() -> io::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("SIZE, COUNT and ROUNDS are numbers"))
        .collect();
    let size = args.first().copied().unwrap_or(20).max(1);
    let count = args.get(1).copied().unwrap_or(100_000).max(1);
    let rounds = args.get(2).copied().unwrap_or(7).max(1);

    let mut pair = Pair::new(size)?;
    let mut plain = Vec::new();
    let mut vectored = Vec::new();
    for _ in 0..rounds {
        plain.push(pair.round(count, Call::Write)?);
        vectored.push(pair.round(count, Call::WriteVectored)?);
    }
    let (plain, vectored) = (median(&mut plain), median(&mut vectored));
    println!(
        "{size} B, {count} messages, median of {rounds} rounds: write {plain:.0} ns, \
         write_vectored {vectored:.0} ns per message; vectored - plain = {:.0} ns",
        vectored - plain
    );
    Ok(())
}

/// How a round writes each message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Write,
    WriteVectored,
}

/// Both ends of a loopback connection, and the message and read buffer a round uses.
struct Pair {
    writer: TcpStream,
    reader: TcpStream,
    message: Vec<u8>,
    buf: Vec<u8>,
}

impl Pair {
    fn new(size: usize) -> io::Result<Pair> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let writer = TcpStream::connect(listener.local_addr()?)?;
        let (reader, _) = listener.accept()?;
        writer.set_nodelay(true)?;
        reader.set_nodelay(true)?;
        Ok(Pair {
            writer,
            reader,
            message: vec![b'x'; size],
            buf: vec![0; size.max(64 << 10)],
        })
    }

    /// Sends `count` messages with `call`, each read back before the next; returns ns per message.
    fn round(&mut self, count: usize, call: Call) -> io::Result<f64> {
        let started = Instant::now();
        for _ in 0..count {
            let written = match call {
                Call::Write => self.writer.write(&self.message)?,
                Call::WriteVectored => {
                    self.writer.write_vectored(&[IoSlice::new(&self.message)])?
                }
            };
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            let mut read = 0;
            while read < written {
                match self.reader.read(&mut self.buf)? {
                    0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                    n => read += n,
                }
            }
        }
        Ok(started.elapsed().as_nanos() as f64 / count as f64)
    }
}

/// The median of `values`.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_calls_carry_every_byte() {
        let mut pair = Pair::new(3000).unwrap();
        for call in [Call::Write, Call::WriteVectored] {
            let ns = pair.round(200, call).unwrap();
            assert!(ns.is_finite() && ns > 0.0, "{call:?}: {ns}");
        }
        // Nothing is left over in the socket: every byte written was read back.
        pair.reader.set_nonblocking(true).unwrap();
        let left = pair.reader.read(&mut pair.buf);
        assert_eq!(left.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn median_is_the_middle_value() {
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
    }
}
