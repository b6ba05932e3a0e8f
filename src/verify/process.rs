//! Running the external programs of `sme verify` (Verilator, make, the
//! testbench): each in its own process group, with a deadline, its standard
//! input fed and its standard output consumed line by line while it runs,
//! and the whole group killed on expiry, on an error of the consumer, or when
//! the caller cancels (e.g. on Ctrl-C, see [`cancel`]).

use anyhow::{Result, anyhow, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Set by [`cancel`]: every running child is killed and its call returns an
/// error.
static CANCELLED: AtomicBool = AtomicBool::new(false);
/// External programs running now.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Cancels the running and every later external program of this process
/// (they are killed; the calls return an "interrupted" error, so the
/// callers' guards remove their temporary files). Async-signal-safe (two
/// atomic operations): a signal handler may call it. Returns whether a
/// program was running (and so will be cleaned up by its caller); when it
/// returns false the caller may just exit.
pub fn cancel() -> bool {
    let first = !CANCELLED.swap(true, Ordering::SeqCst);
    first && ACTIVE.load(Ordering::SeqCst) > 0
}

/// Whether [`cancel`] was called.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

/// While alive, [`cancel`] reports work to clean up (so a signal handler
/// lets the caller finish instead of exiting): hold it from creating
/// temporary outputs until they are committed or dropped, and check
/// [`cancelled`] before committing.
pub struct Busy(#[allow(dead_code)] ActiveGuard);

/// Marks this process as holding temporary files until the guard drops.
pub fn busy() -> Busy {
    Busy(ActiveGuard::new())
}

/// Counts a running program in [`ACTIVE`] while alive.
struct ActiveGuard;

impl ActiveGuard {
    fn new() -> ActiveGuard {
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        ActiveGuard
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Kills the process group `pgid` (the child and everything it started).
fn kill_group(pgid: u32) {
    #[cfg(unix)]
    // SAFETY: kill(2) with a negative pid signals the process group; it has
    // no memory-safety preconditions.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = pgid;
}

/// Why a run was stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Timeout,
    Cancelled,
    Consumer,
}

/// Human form of a duration in seconds.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64().ceil())
}

/// Runs `cmd` (described as `what` in errors) for at most `timeout`: its
/// standard input is written by `feed` (on its own thread; closed when
/// `feed` returns; null without `feed`), every line of its standard output
/// goes to `on_line`, its standard error is kept (the tail) for the error
/// message. The program runs in its own process group, which is killed
/// when the deadline passes, when `on_line` or `feed` fails, or on
/// [`cancel`]. A non-zero exit is an error carrying the stderr tail.
pub(crate) fn run<F, H>(
    mut cmd: Command,
    what: &str,
    timeout: Duration,
    feed: Option<F>,
    mut on_line: H,
) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()> + Send,
    H: FnMut(&str) -> Result<()>,
{
    if cancelled() {
        bail!("interrupted");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.stdin(if feed.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let _active = ActiveGuard::new();
    let mut child = cmd.spawn().map_err(|e| anyhow!("cannot run {what}: {e}"))?;
    let pid = child.id();
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let done = Arc::new(AtomicBool::new(false));
    let stop: Arc<Mutex<Option<Stop>>> = Arc::new(Mutex::new(None));
    let halt = |why: Stop| {
        let mut s = stop.lock().unwrap_or_else(|e| e.into_inner());
        if s.is_none() {
            *s = Some(why);
        }
        kill_group(pid);
    };
    let (read_result, feed_result, err_tail) = std::thread::scope(|s| {
        // The deadline and cancellation.
        let watchdog = {
            let (done, halt) = (done.clone(), &halt);
            s.spawn(move || {
                let start = Instant::now();
                while !done.load(Ordering::SeqCst) {
                    if cancelled() {
                        halt(Stop::Cancelled);
                        return;
                    }
                    if start.elapsed() >= timeout {
                        halt(Stop::Timeout);
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        // Standard error: keep the tail.
        let err = s.spawn(move || {
            let mut tail: Vec<u8> = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 32 * 1024 {
                    tail.drain(..tail.len() - 16 * 1024);
                }
            }
            if tail.len() > 16 * 1024 {
                tail.drain(..tail.len() - 16 * 1024);
            }
            String::from_utf8_lossy(&tail).into_owned()
        });
        // Standard input.
        let feeder = feed.zip(stdin).map(|(feed, stdin)| {
            let halt = &halt;
            s.spawn(move || {
                let mut w = std::io::BufWriter::with_capacity(1 << 16, stdin);
                let r = feed(&mut w).and_then(|_| w.flush().map_err(Into::into));
                drop(w);
                match r {
                    // The program stopped reading (it failed or was
                    // killed): its own error is the one to report.
                    Err(e)
                        if e.downcast_ref::<std::io::Error>().map(|e| e.kind())
                            == Some(std::io::ErrorKind::BrokenPipe) =>
                    {
                        Ok(())
                    }
                    Err(e) => {
                        halt(Stop::Consumer);
                        Err(e)
                    }
                    Ok(()) => Ok(()),
                }
            })
        });
        // Standard output, line by line.
        let mut read_result: Result<()> = Ok(());
        let mut lines = BufReader::with_capacity(1 << 16, stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match lines.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => {
                    if read_result.is_ok()
                        && let Err(e) = on_line(line.trim_end_matches(['\n', '\r']))
                    {
                        halt(Stop::Consumer);
                        read_result = Err(e);
                    }
                }
                Err(e) => {
                    if read_result.is_ok() {
                        halt(Stop::Consumer);
                        read_result = Err(anyhow!("reading the output of {what}: {e}"));
                    }
                    break;
                }
            }
        }
        let feed_result = feeder.map_or(Ok(()), |h| {
            h.join()
                .unwrap_or_else(|_| Err(anyhow!("the stimulus writer panicked")))
        });
        let status = child.wait();
        done.store(true, Ordering::SeqCst);
        watchdog.join().ok();
        let err_tail = err.join().unwrap_or_default();
        (read_result.map(|_| status), feed_result, err_tail)
    });
    let stopped = *stop.lock().unwrap_or_else(|e| e.into_inner());
    match stopped {
        Some(Stop::Timeout) => bail!(
            "{what} did not finish within its time limit of {} and was killed \
             (the limit grows with the work; on a slow machine raise it with --timeout-scale)",
            secs(timeout)
        ),
        Some(Stop::Cancelled) => bail!("interrupted; stopped {what}"),
        Some(Stop::Consumer) | None => {}
    }
    let status = read_result?;
    feed_result?;
    let status = status.map_err(|e| anyhow!("waiting for {what}: {e}"))?;
    if !status.success() {
        let tail: Vec<&str> = err_tail.trim().lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{what} failed ({status}):\n{}", tail.join("\n"));
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    type NoFeed = fn(&mut dyn Write) -> Result<()>;

    #[test]
    fn lines_stdin_and_stderr() {
        let mut got = Vec::new();
        let feed = |w: &mut dyn Write| -> Result<()> {
            for i in 0..20000 {
                writeln!(w, "line {i}")?;
            }
            Ok(())
        };
        run(
            sh("cat; echo oops >&2"),
            "cat",
            Duration::from_secs(60),
            Some(feed),
            |l| {
                got.push(l.to_string());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got.len(), 20000);
        assert_eq!(got[19999], "line 19999");
        let e = run(
            sh("echo bad news >&2; exit 3"),
            "the thing",
            Duration::from_secs(60),
            None::<NoFeed>,
            |_| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("the thing failed") && e.contains("bad news"),
            "{e}"
        );
    }

    #[test]
    fn a_hanging_group_is_killed_at_the_deadline() {
        let t0 = Instant::now();
        // The grandchild `sleep` holds stdout open: only killing the whole
        // group ends the run.
        let e = run(
            sh("sleep 30 & sleep 30; echo never"),
            "sleeper",
            Duration::from_millis(300),
            None::<NoFeed>,
            |_| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
        assert!(e.contains("sleeper did not finish within"), "{e}");
        assert!(e.contains("--timeout-scale"), "{e}");
    }

    #[test]
    fn a_consumer_error_stops_the_program() {
        let t0 = Instant::now();
        let e = run(
            sh("echo first; sleep 30"),
            "talker",
            Duration::from_secs(60),
            None::<NoFeed>,
            |l| bail!("bad line `{l}`"),
        )
        .unwrap_err()
        .to_string();
        assert!(t0.elapsed() < Duration::from_secs(10));
        assert_eq!(e, "bad line `first`");
        let e = run(
            Command::new("/nonexistent/program"),
            "ghost",
            Duration::from_secs(1),
            None::<NoFeed>,
            |_| Ok(()),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("cannot run ghost"), "{e}");
    }
}
