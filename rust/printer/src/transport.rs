//! Byte links to an ESC/POS printer: TCP (port 9100), a character device (`/dev/ttyS*`,
//! `/dev/usb/lp*`, with a baud rate where it is a tty), a file (for tests), or anything a
//! closure can open (the in-process virtual printer).
//!
//! A [`PrinterAddress`] names one (`tcp:HOST:PORT`, `dev:/dev/ttyS1?baud=9600`,
//! `file:PATH?replies=PATH2`, …); a [`Connector`] opens a fresh [`Link`] for each connection
//! and says whether the other side can answer at all ([`Connector::confirms`]).

use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The TCP port of raw printing (JetDirect / "AppSocket").
pub const DEFAULT_TCP_PORT: u16 = 9100;

/// A byte link to a printer: read its replies, write the print data.
pub trait Link: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Link for T {}

/// A boxed [`Link`], as connectors return it.
pub type BoxLink = Box<dyn Link>;

/// Where a printer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterAddress {
    /// A network printer: `tcp:HOST:PORT`, `tcp:HOST` (port 9100) or `HOST:PORT`.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A character device: `dev:/dev/ttyS1?baud=9600` or a bare `/dev/...` path.
    Device {
        /// The device path.
        path: PathBuf,
        /// The baud rate to set when the device is a tty (left as is when `None`).
        baud: Option<u32>,
    },
    /// A file the print stream is written to (appended): `file:PATH`, optionally
    /// `file:PATH?replies=PATH2` to read the printer's replies from `PATH2`.
    File {
        /// Where the stream goes.
        path: PathBuf,
        /// Where replies come from; without it nothing can confirm a job.
        replies: Option<PathBuf>,
    },
}

/// An address that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad printer address {text:?}: {reason}. Accepted forms: tcp:HOST:PORT, tcp:HOST (port 9100), HOST:PORT, \
     dev:/dev/ttyS1?baud=9600, /dev/usb/lp0, file:PATH, file:PATH?replies=PATH2"
)]
pub struct AddressError {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

fn address_error(text: &str, reason: impl Into<String>) -> AddressError {
    AddressError {
        text: text.to_string(),
        reason: reason.into(),
    }
}

/// Splits `HOST:PORT` (`[v6]:PORT` allowed); `None` port when `allow_bare` and no port given.
fn host_port(text: &str, rest: &str, allow_bare: bool) -> Result<PrinterAddress, AddressError> {
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (host, after) = inner
            .split_once(']')
            .ok_or_else(|| address_error(text, "unclosed '[' in an IPv6 host"))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(address_error(text, "expected ':PORT' after ']'")),
            },
        }
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(address_error(text, "the host is empty"));
    }
    let port = match port {
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| {
                address_error(
                    text,
                    format!("port {port:?} is not a number from 1 to 65535"),
                )
            })?,
        None if allow_bare => DEFAULT_TCP_PORT,
        None => return Err(address_error(text, "no port")),
    };
    Ok(PrinterAddress::Tcp {
        host: host.to_string(),
        port,
    })
}

/// A path and its `key=value` options.
type PathOptions<'a> = (&'a str, Vec<(&'a str, &'a str)>);

/// Splits `PATH?key=value&…` into the path and its options, refusing unknown keys.
fn path_options<'a>(
    text: &str,
    rest: &'a str,
    keys: &[&str],
) -> Result<PathOptions<'a>, AddressError> {
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(address_error(text, "the path is empty"));
    }
    let mut options = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| address_error(text, format!("option {pair:?} is not key=value")))?;
        if !keys.contains(&key) {
            return Err(address_error(
                text,
                format!("unknown option {key:?} (known: {})", keys.join(", ")),
            ));
        }
        options.push((key, value));
    }
    Ok((path, options))
}

fn device(text: &str, rest: &str) -> Result<PrinterAddress, AddressError> {
    let (path, options) = path_options(text, rest, &["baud"])?;
    let mut baud = None;
    for (_, value) in options {
        let rate = value
            .parse::<u32>()
            .ok()
            .filter(|b| *b > 0)
            .ok_or_else(|| {
                address_error(text, format!("baud {value:?} is not a positive number"))
            })?;
        baud = Some(rate);
    }
    Ok(PrinterAddress::Device {
        path: PathBuf::from(path),
        baud,
    })
}

impl FromStr for PrinterAddress {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<PrinterAddress, AddressError> {
        let text_trimmed = text.trim();
        if let Some(rest) = text_trimmed.strip_prefix("tcp:") {
            host_port(text, rest, true)
        } else if let Some(rest) = text_trimmed.strip_prefix("dev:") {
            device(text, rest)
        } else if text_trimmed.starts_with("/dev/") {
            device(text, text_trimmed)
        } else if let Some(rest) = text_trimmed.strip_prefix("file:") {
            let (path, options) = path_options(text, rest, &["replies"])?;
            let replies = options.last().map(|(_, value)| PathBuf::from(*value));
            if replies.as_ref().is_some_and(|r| r.as_os_str().is_empty()) {
                return Err(address_error(text, "replies= needs a path"));
            }
            Ok(PrinterAddress::File {
                path: PathBuf::from(path),
                replies,
            })
        } else if text_trimmed.contains(':') {
            host_port(text, text_trimmed, false)
        } else if text_trimmed.is_empty() {
            Err(address_error(text, "it is empty"))
        } else {
            Err(address_error(text, "no port and no known prefix"))
        }
    }
}

impl fmt::Display for PrinterAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterAddress::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp:[{host}]:{port}")
            }
            PrinterAddress::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            PrinterAddress::Device {
                path,
                baud: Some(baud),
            } => write!(f, "dev:{}?baud={baud}", path.display()),
            PrinterAddress::Device { path, baud: None } => write!(f, "dev:{}", path.display()),
            PrinterAddress::File {
                path,
                replies: Some(replies),
            } => {
                write!(f, "file:{}?replies={}", path.display(), replies.display())
            }
            PrinterAddress::File {
                path,
                replies: None,
            } => write!(f, "file:{}", path.display()),
        }
    }
}

/// Opens links to one printer. The job protocol opens a new link after any failure.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Opens a fresh link.
    async fn connect(&self) -> io::Result<BoxLink>;

    /// Whether the other side can answer at all. `false` for a write-only file: nothing can
    /// ever confirm a job sent there.
    fn confirms(&self) -> bool {
        true
    }

    /// The link's baud rate when known (a serial line), for the confirmation timeout.
    fn baud(&self) -> Option<u32> {
        None
    }

    /// What the link is, for messages and logs.
    fn describe(&self) -> String;
}

/// How long a TCP connect may take before the attempt fails.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[async_trait]
impl Connector for PrinterAddress {
    async fn connect(&self) -> io::Result<BoxLink> {
        match self {
            PrinterAddress::Tcp { host, port } => {
                let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
                let stream = tokio::time::timeout(TCP_CONNECT_TIMEOUT, connect)
                    .await
                    .map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "no TCP connection to {host}:{port} within {TCP_CONNECT_TIMEOUT:?}"
                            ),
                        )
                    })??;
                stream.set_nodelay(true)?;
                Ok(Box::new(stream))
            }
            PrinterAddress::Device { path, baud } => open_device(path, *baud),
            PrinterAddress::File { path, replies } => {
                let out = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await?;
                let replies = match replies {
                    Some(replies) => Some(tokio::fs::File::open(replies).await?),
                    None => None,
                };
                Ok(Box::new(FileLink {
                    out,
                    replies,
                    idle: None,
                }))
            }
        }
    }

    fn confirms(&self) -> bool {
        !matches!(self, PrinterAddress::File { replies: None, .. })
    }

    fn baud(&self) -> Option<u32> {
        match self {
            PrinterAddress::Device { baud, .. } => *baud,
            _ => None,
        }
    }

    fn describe(&self) -> String {
        self.to_string()
    }
}

/// A connector made of a closure, e.g. the in-process virtual printer:
/// `FnConnector::new("virtual", move || Ok(Box::new(printer.connect()) as BoxLink))`.
pub struct FnConnector<F> {
    name: String,
    open: F,
    baud: Option<u32>,
}

impl<F> FnConnector<F>
where
    F: Fn() -> io::Result<BoxLink> + Send + Sync,
{
    /// A connector called `name` that opens links with `open`.
    pub fn new(name: &str, open: F) -> FnConnector<F> {
        FnConnector {
            name: name.to_string(),
            open,
            baud: None,
        }
    }

    /// Declares the link's baud rate (a simulated slow link).
    pub fn with_baud(mut self, baud: u32) -> FnConnector<F> {
        self.baud = Some(baud);
        self
    }
}

#[async_trait]
impl<F> Connector for FnConnector<F>
where
    F: Fn() -> io::Result<BoxLink> + Send + Sync,
{
    async fn connect(&self) -> io::Result<BoxLink> {
        (self.open)()
    }

    fn baud(&self) -> Option<u32> {
        self.baud
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// How often a replies file is read again once it is exhausted.
const REPLIES_POLL: Duration = Duration::from_millis(20);

/// A file link: writes go to the stream file; replies are read from the replies file, which
/// is followed like `tail -f` (its end means "nothing yet", not a hang-up). Without a replies
/// file reads never complete.
struct FileLink {
    out: tokio::fs::File,
    replies: Option<tokio::fs::File>,
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl AsyncRead for FileLink {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(replies) = this.replies.as_mut() else {
            return Poll::Pending;
        };
        loop {
            if let Some(idle) = this.idle.as_mut() {
                ready!(idle.as_mut().poll(cx));
                this.idle = None;
            }
            let before = buf.filled().len();
            ready!(Pin::new(&mut *replies).poll_read(cx, buf))?;
            if buf.filled().len() > before || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            this.idle = Some(Box::pin(tokio::time::sleep(REPLIES_POLL)));
        }
    }
}

impl AsyncWrite for FileLink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().out).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().out).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().out).poll_shutdown(cx)
    }
}

#[cfg(not(unix))]
fn open_device(path: &std::path::Path, _baud: Option<u32>) -> io::Result<BoxLink> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "character devices ({}) are supported on unix only",
            path.display()
        ),
    ))
}

#[cfg(unix)]
fn open_device(path: &std::path::Path, baud: Option<u32>) -> io::Result<BoxLink> {
    device::open(path, baud)
}

/// Character devices on unix: raw mode and baud via termios, non-blocking I/O via epoll.
#[cfg(unix)]
pub(crate) mod device {
    use std::fs::File;
    use std::io::{self, Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;
    use std::pin::Pin;
    use std::task::{Context, Poll, ready};

    use tokio::io::unix::AsyncFd;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use super::BoxLink;

    /// The termios speed constant of a baud rate.
    fn speed(baud: u32) -> io::Result<libc::speed_t> {
        Ok(match baud {
            1200 => libc::B1200,
            2400 => libc::B2400,
            4800 => libc::B4800,
            9600 => libc::B9600,
            19200 => libc::B19200,
            38400 => libc::B38400,
            57600 => libc::B57600,
            115200 => libc::B115200,
            230400 => libc::B230400,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            460800 => libc::B460800,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            921600 => libc::B921600,
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "baud {other} is not supported: use 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200 or 230400"
                    ),
                ));
            }
        })
    }

    /// Whether the file is a terminal (serial line, pty).
    fn is_tty(file: &File) -> bool {
        // SAFETY: isatty only reads the descriptor's type; the descriptor is open (owned by
        // `file`) for the whole call.
        unsafe { libc::isatty(file.as_raw_fd()) == 1 }
    }

    /// Puts a tty into raw mode (no echo, no line editing, no CR/LF translation, 8 bits) and
    /// sets its speed when `baud` is given.
    fn make_raw(file: &File, baud: Option<u32>) -> io::Result<()> {
        let fd = file.as_raw_fd();
        // SAFETY: termios is a plain C struct for which all-zero bytes are a valid value; it
        // is fully overwritten by tcgetattr before use.
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open (owned by `file`) and `termios` is a valid, exclusive pointer.
        if unsafe { libc::tcgetattr(fd, &mut termios) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: cfmakeraw only writes fields of the struct it is given.
        unsafe { libc::cfmakeraw(&mut termios) };
        termios.c_cflag |= libc::CLOCAL | libc::CREAD;
        if let Some(baud) = baud {
            let speed = speed(baud)?;
            // SAFETY: only writes the speed fields of the struct it is given.
            if unsafe { libc::cfsetspeed(&mut termios, speed) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: `fd` is open and `termios` a valid, initialised struct.
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &termios) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Opens a character device read/write and non-blocking; a tty is put into raw mode at
    /// `baud`. Devices the reactor cannot poll (epoll refuses some) fall back to two blocking
    /// handles, one for each direction, served by tokio's blocking pool.
    pub(crate) fn open(path: &Path, baud: Option<u32>) -> io::Result<BoxLink> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| {
                io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
            })?;
        if is_tty(&file) {
            make_raw(&file, baud)?;
        } else if baud.is_some() {
            log::warn!("{} is not a tty: the baud rate is ignored", path.display());
        }
        // SAFETY: `file` owns an open descriptor that stays open as long as the AsyncFd
        // (which owns the file) lives, and `File::as_raw_fd` always returns that descriptor.
        match unsafe { AsyncFd::register(file) } {
            Ok(fd) => Ok(Box::new(DeviceLink { fd })),
            Err(_) => {
                // Not pollable: reopen blocking, one handle per direction so that a read
                // waiting for the printer never holds up a write.
                let read = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NOCTTY)
                    .open(path)?;
                let write = read.try_clone()?;
                Ok(Box::new(BlockingLink {
                    read: tokio::fs::File::from_std(read),
                    write: tokio::fs::File::from_std(write),
                }))
            }
        }
    }

    /// A non-blocking device served by the reactor.
    struct DeviceLink {
        fd: AsyncFd<File>,
    }

    impl AsyncRead for DeviceLink {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            loop {
                let mut guard = ready!(self.fd.poll_read_ready(cx))?;
                let unfilled = buf.initialize_unfilled();
                match guard.try_io(|inner| inner.get_ref().read(unfilled)) {
                    Ok(Ok(n)) => {
                        buf.advance(n);
                        return Poll::Ready(Ok(()));
                    }
                    // A tty whose other end is closed (EIO) is a hang-up: end of stream.
                    Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => {
                        return Poll::Ready(Ok(()));
                    }
                    Ok(Err(e)) => return Poll::Ready(Err(e)),
                    Err(_would_block) => continue,
                }
            }
        }
    }

    impl AsyncWrite for DeviceLink {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            loop {
                let mut guard = ready!(self.fd.poll_write_ready(cx))?;
                match guard.try_io(|inner| inner.get_ref().write(buf)) {
                    Ok(result) => return Poll::Ready(result),
                    Err(_would_block) => continue,
                }
            }
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// A device the reactor cannot poll, on tokio's blocking pool.
    struct BlockingLink {
        read: tokio::fs::File,
        write: tokio::fs::File,
    }

    impl AsyncRead for BlockingLink {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().read).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for BlockingLink {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.get_mut().write).poll_write(cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().write).poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().write).poll_shutdown(cx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> PrinterAddress {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn addresses_parse_and_print_back() {
        assert_eq!(
            parse("tcp:10.0.0.7:9100"),
            PrinterAddress::Tcp {
                host: "10.0.0.7".into(),
                port: 9100
            }
        );
        assert_eq!(
            parse("tcp:printer.local"),
            PrinterAddress::Tcp {
                host: "printer.local".into(),
                port: 9100
            }
        );
        assert_eq!(
            parse("127.0.0.1:9200"),
            PrinterAddress::Tcp {
                host: "127.0.0.1".into(),
                port: 9200
            }
        );
        assert_eq!(
            parse("tcp:[::1]:9101"),
            PrinterAddress::Tcp {
                host: "::1".into(),
                port: 9101
            }
        );
        assert_eq!(
            parse("dev:/dev/ttyS1?baud=9600"),
            PrinterAddress::Device {
                path: "/dev/ttyS1".into(),
                baud: Some(9600)
            }
        );
        assert_eq!(
            parse("/dev/usb/lp0"),
            PrinterAddress::Device {
                path: "/dev/usb/lp0".into(),
                baud: None
            }
        );
        assert_eq!(
            parse("/dev/ttyUSB0?baud=115200"),
            PrinterAddress::Device {
                path: "/dev/ttyUSB0".into(),
                baud: Some(115200)
            }
        );
        assert_eq!(
            parse("file:/tmp/out.bin"),
            PrinterAddress::File {
                path: "/tmp/out.bin".into(),
                replies: None
            }
        );
        assert_eq!(
            parse("file:out.bin?replies=in.bin"),
            PrinterAddress::File {
                path: "out.bin".into(),
                replies: Some("in.bin".into())
            }
        );
        for text in [
            "tcp:a:1",
            "tcp:[::1]:9101",
            "dev:/dev/ttyS1?baud=9600",
            "dev:/dev/usb/lp0",
            "file:x",
            "file:x?replies=y",
        ] {
            assert_eq!(parse(text).to_string(), text);
            assert_eq!(parse(&parse(text).to_string()), parse(text));
        }
    }

    #[test]
    fn bad_addresses_say_what_is_accepted() {
        for (text, why) in [
            ("printer", "no port"),
            ("tcp:host:99999", "port"),
            ("tcp::9100", "host is empty"),
            ("dev:/dev/ttyS0?baud=fast", "baud"),
            ("dev:/dev/ttyS0?parity=none", "unknown option"),
            ("file:", "path is empty"),
            ("", "empty"),
        ] {
            let error = text.parse::<PrinterAddress>().unwrap_err().to_string();
            assert!(error.contains(why), "{text}: {error}");
            assert!(
                error.contains("tcp:HOST:PORT") && error.contains("file:PATH"),
                "{error}"
            );
        }
    }

    #[test]
    fn only_a_write_only_file_cannot_confirm() {
        assert!(!parse("file:x").confirms());
        assert!(parse("file:x?replies=y").confirms());
        assert!(parse("tcp:h:1").confirms());
        assert_eq!(parse("dev:/dev/ttyS0?baud=9600").baud(), Some(9600));
        assert_eq!(parse("tcp:h:1").baud(), None);
    }
}
