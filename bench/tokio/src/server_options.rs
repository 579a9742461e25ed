//! Command-line options and the Tokio runtime shared by the baseline servers
//! (src/bin/echo.rs, src/bin/rpc_server.rs):
//! `--port P [--host 127.0.0.1] [--workers N | --current-thread]`.
//! A bad option prints the program's usage and exits 2.

use std::process::exit;

pub struct ServerOptions {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub current_thread: bool,
}

/// Prints `program: message` and the usage line, then exits 2.
pub fn usage_error(program: &str, message: &str) -> ! {
    eprintln!("{program}: {message}");
    eprintln!("usage: {program} --port P [--host 127.0.0.1] [--workers N | --current-thread]");
    exit(2);
}

/// Parses the process arguments.
pub fn parse_options(program: &str) -> ServerOptions {
    let mut o = ServerOptions { host: "127.0.0.1".to_string(), port: 0, workers: 1, current_thread: false };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--current-thread" => o.current_thread = true,
            "--port" | "--host" | "--workers" => {
                let value = args.next().unwrap_or_else(|| usage_error(program, &format!("{flag} needs a value")));
                match flag.as_str() {
                    "--port" => {
                        o.port = value
                            .parse()
                            .unwrap_or_else(|_| usage_error(program, &format!("--port must be 0..65535, got '{value}'")))
                    }
                    "--workers" => {
                        o.workers = value
                            .parse()
                            .ok()
                            .filter(|n| *n > 0)
                            .unwrap_or_else(|| usage_error(program, &format!("--workers must be a positive integer, got '{value}'")))
                    }
                    _ => o.host = value,
                }
            }
            _ => usage_error(program, &format!("unknown option '{flag}'")),
        }
    }
    o
}

/// The runtime the options ask for (I/O and timers enabled); exits 1 if it cannot start.
pub fn build_runtime(program: &str, o: &ServerOptions) -> tokio::runtime::Runtime {
    let runtime = if o.current_thread {
        tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(o.workers).enable_io().enable_time().build()
    };
    runtime.unwrap_or_else(|e| {
        eprintln!("{program}: cannot start the Tokio runtime: {e}");
        exit(1);
    })
}
