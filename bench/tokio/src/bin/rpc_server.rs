//! Tokio RPC baseline: serves bench.v1.Bench (bench/bench.ridl) over
//! docs/PROTOCOL.md, one task per connection. Each read is parsed into as
//! many frames as it holds, every reply to them goes into one output buffer,
//! and the buffer goes out with one write_all. Owns options, the runtime, the
//! accept loop and socket I/O; the protocol lives in ringrpc_tokio_bench.
//! Usage: rpc_server --port P [--host 127.0.0.1] [--workers N | --current-thread]
//! Prints `listening on HOST:P driver=tokio workers=N` when ready.

use std::future::{poll_fn, Future};
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::exit;

use ringrpc_tokio_bench::server_options::{build_runtime, parse_options, usage_error, ServerOptions};
use std::task::Poll;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use ringrpc_tokio_bench::connection::{Connection, Next};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const PROGRAM: &str = "rpc_server";
const READ_CHUNK: usize = 64 * 1024;
/// Tick bytes produced per write while streams have credit.
const PRODUCE_BUDGET: usize = 256 * 1024;
/// How long a closing connection keeps reading (and discarding) peer input.
const CLOSE_LINGER: std::time::Duration = std::time::Duration::from_millis(200);

enum Wake {
    Readable,
    Timer,
}

async fn serve_connection(mut stream: TcpStream) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(READ_CHUNK);
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut conn = Connection::new(Instant::now(), &mut out);
    stream.write_all(&out).await?;
    out.clear();
    // One timer per connection, re-armed only when a nearer deadline shows
    // up or it fires (an early fire is harmless): no timer work per read.
    let mut armed = conn.next_deadline();
    let mut timer = Box::pin(tokio::time::sleep_until(armed.into()));
    loop {
        let mut next = Next::Continue;
        if conn.has_ready_streams() {
            next = conn.produce(&mut out, PRODUCE_BUDGET, Instant::now());
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
        if next == Next::Close {
            break;
        }
        let want = conn.next_deadline();
        if want < armed {
            armed = want;
            timer.as_mut().reset(armed.into());
        }
        let streaming = conn.has_ready_streams();
        // While ticks have credit, only look at what already arrived (WINDOW,
        // CANCEL, new calls) and keep producing.
        let wake = if streaming {
            Wake::Readable
        } else {
            poll_fn(|cx| {
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Ok(Wake::Timer));
                }
                stream.poll_read_ready(cx).map_ok(|_| Wake::Readable)
            })
            .await?
        };
        let now = Instant::now();
        if let Wake::Timer = wake {
            next = conn.on_timer(now, &mut out);
            armed = conn.next_deadline().max(now);
            timer.as_mut().reset(armed.into());
        } else {
            if input.capacity() - input.len() < READ_CHUNK / 4 {
                input.reserve(READ_CHUNK);
            }
            match stream.try_read_buf(&mut input) {
                Ok(0) => break,
                Ok(_) => {
                    let (used, n) = conn.on_input(&input, &mut out, now);
                    input.advance(used);
                    next = n;
                    // A large frame under way: grow once to its full size.
                    if input.len() >= 4 {
                        let want = 4 + u32::from_be_bytes([input[0], input[1], input[2], input[3]]) as usize;
                        if want > input.capacity() {
                            input.reserve(want - input.len());
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if next == Next::Close {
            if !out.is_empty() {
                stream.write_all(&out).await?;
            }
            // Stop reading at once, flush and close (section 7). Discard what
            // the peer still sends for a moment: closing with unread input
            // would reset the connection and could cost the peer our GOAWAY.
            let _ = stream.shutdown().await;
            let drain = async {
                let mut sink = [0u8; 4096];
                while let Ok(n) = tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(CLOSE_LINGER, drain).await;
            break;
        }
    }
    Ok(())
}

async fn serve(o: &ServerOptions) -> std::io::Result<()> {
    let addr: SocketAddr = format!("{}:{}", o.host, o.port)
        .parse()
        .unwrap_or_else(|_| usage_error(PROGRAM, &format!("--host must be an IP address, got '{}'", o.host)));
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let workers = if o.current_thread { 1 } else { o.workers };
    println!("listening on {}:{} driver=tokio workers={workers}", bound.ip(), bound.port());
    loop {
        let (stream, _) = listener.accept().await?;
        // Without NODELAY, Nagle holds small replies back until the peer ACKs.
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = serve_connection(stream).await;
        });
    }
}

fn main() {
    let o = parse_options(PROGRAM);
    let runtime = build_runtime(PROGRAM, &o);
    if let Err(e) = runtime.block_on(serve(&o)) {
        eprintln!("rpc_server: cannot serve on {}:{}: {e}", o.host, o.port);
        exit(1);
    }
}
