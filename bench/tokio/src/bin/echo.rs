//! Tokio echo contender for the raw echo benchmark (bench/echo/run.ts): reads
//! up to 64 KiB and writes it back with write_all, one task per connection.
//! Usage: echo --port P [--host 127.0.0.1] [--workers N | --current-thread]
//! Prints `listening on HOST:P runtime=<current-thread|multi-thread> workers=N`
//! when ready.

use std::net::SocketAddr;
use std::process::exit;

use ringrpc_tokio_bench::server_options::{build_runtime, parse_options, usage_error, ServerOptions};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PROGRAM: &str = "echo";
const CHUNK: usize = 64 * 1024;

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn serve(o: &ServerOptions) -> std::io::Result<()> {
    let addr: SocketAddr = format!("{}:{}", o.host, o.port)
        .parse()
        .unwrap_or_else(|_| usage_error(PROGRAM, &format!("--host must be an IP address, got '{}'", o.host)));
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let (runtime, workers) = if o.current_thread { ("current-thread", 1) } else { ("multi-thread", o.workers) };
    println!("listening on {}:{} runtime={runtime} workers={workers}", bound.ip(), bound.port());
    loop {
        let (stream, _) = listener.accept().await?;
        // Without NODELAY, Nagle holds small replies back until the peer ACKs.
        let _ = stream.set_nodelay(true);
        tokio::spawn(echo(stream));
    }
}

fn main() {
    let o = parse_options(PROGRAM);
    let runtime = build_runtime(PROGRAM, &o);
    if let Err(e) = runtime.block_on(serve(&o)) {
        eprintln!("echo: cannot serve on {}:{}: {e}", o.host, o.port);
        exit(1);
    }
}
