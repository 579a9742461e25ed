//! Tokio echo contender for the raw echo benchmark (bench/echo/run.ts): reads
//! up to 64 KiB and writes it back with write_all, one task per connection.
//! Usage: echo --port P [--host 127.0.0.1] [--workers N | --current-thread]
//! Prints `listening on HOST:P runtime=<current-thread|multi-thread> workers=N`
//! when ready.

use std::net::SocketAddr;
use std::process::exit;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHUNK: usize = 64 * 1024;

struct Options {
    host: String,
    port: u16,
    workers: usize,
    current_thread: bool,
}

fn usage_error(message: &str) -> ! {
    eprintln!("echo: {message}");
    eprintln!("usage: echo --port P [--host 127.0.0.1] [--workers N | --current-thread]");
    exit(2);
}

fn parse_options() -> Options {
    let mut o = Options { host: "127.0.0.1".to_string(), port: 0, workers: 1, current_thread: false };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--current-thread" => o.current_thread = true,
            "--port" | "--host" | "--workers" => {
                let value = args.next().unwrap_or_else(|| usage_error(&format!("{flag} needs a value")));
                match flag.as_str() {
                    "--port" => {
                        o.port = value.parse().unwrap_or_else(|_| usage_error(&format!("--port must be 0..65535, got '{value}'")))
                    }
                    "--workers" => {
                        o.workers = value
                            .parse()
                            .ok()
                            .filter(|n| *n > 0)
                            .unwrap_or_else(|| usage_error(&format!("--workers must be a positive integer, got '{value}'")))
                    }
                    _ => o.host = value,
                }
            }
            _ => usage_error(&format!("unknown option '{flag}'")),
        }
    }
    o
}

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

async fn serve(o: &Options) -> std::io::Result<()> {
    let addr: SocketAddr = format!("{}:{}", o.host, o.port)
        .parse()
        .unwrap_or_else(|_| usage_error(&format!("--host must be an IP address, got '{}'", o.host)));
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
    let o = parse_options();
    let runtime = if o.current_thread {
        tokio::runtime::Builder::new_current_thread().enable_io().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(o.workers).enable_io().build()
    };
    let runtime = runtime.unwrap_or_else(|e| {
        eprintln!("echo: cannot start the Tokio runtime: {e}");
        exit(1);
    });
    if let Err(e) = runtime.block_on(serve(&o)) {
        eprintln!("echo: cannot serve on {}:{}: {e}", o.host, o.port);
        exit(1);
    }
}
