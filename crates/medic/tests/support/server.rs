//! A real `medic serve` process on a free port, for the tests and the load benchmark (included with `#[path]`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `medic serve`; killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Starts `medic serve --db DB` on a free port with `admin_token` as `MEDIC_ADMIN_TOKEN` and `log_level` as
    /// `RUST_LOG`, and waits until it says where it listens.
    #[allow(dead_code)] // the race test starts its servers with arguments
    pub fn start(db: &str, admin_token: &str, log_level: &str) -> Server {
        Self::start_with(db, admin_token, log_level, &[])
    }

    /// As [`Server::start`], with more arguments for `medic serve` (`--roles`, ...).
    pub fn start_with(db: &str, admin_token: &str, log_level: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_medic"))
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .args(extra)
            .env("MEDIC_ADMIN_TOKEN", admin_token)
            .env("RUST_LOG", log_level)
            .env_remove("MEDIC_DB")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("medic serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, receiver) = std::sync::mpsc::channel();
        // Keep draining stderr so that the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("medic: listening on ") {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    let _ = sender.send(address.to_owned());
                }
            }
        });
        let base = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it listens");
        Server { child, base }
    }

    /// `HOST:PORT`, without the scheme.
    #[allow(dead_code)] // used by the benchmark only
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Sends SIGTERM and waits up to `patience` for the server to exit; its exit status, or `None` if it is still
    /// running then (it is killed when dropped).
    #[allow(dead_code)] // used by the shutdown test only
    pub fn terminate(&mut self, patience: Duration) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        let started = std::time::Instant::now();
        while started.elapsed() < patience {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Kills the server with SIGKILL: no shutdown path runs, nothing is flushed on the way out.
    #[allow(dead_code)] // used by the durability test only
    pub fn kill_9(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
