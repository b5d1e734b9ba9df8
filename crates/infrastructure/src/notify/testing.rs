//! A minimal SMTP server for tests (feature `test-support`): accepts every
//! message on 127.0.0.1:0 and keeps what it received, so e-mail delivery is
//! tested end to end without a real mail server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the SMTP sink received in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// `MAIL FROM:` argument, e.g. `<alerts@adscale.test>`.
    pub mail_from: String,
    /// Each `RCPT TO:` argument.
    pub rcpt_to: Vec<String>,
    /// The DATA section, dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl Received {
    fn split(&self) -> (&str, &str) {
        self.data
            .split_once("\r\n\r\n")
            .unwrap_or((self.data.as_str(), ""))
    }

    /// An unfolded header value by name.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        let unfolded = self.split().0.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// The body with `\n` line ends.
    #[must_use]
    pub fn body(&self) -> String {
        self.split().1.replace("\r\n", "\n")
    }
}

/// A minimal SMTP server on 127.0.0.1:0: EHLO/HELO, MAIL, RCPT, DATA, RSET,
/// NOOP, QUIT. `rcpt_reply` replaces the `250` to RCPT (e.g. a 550).
pub struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    sessions: Arc<Mutex<u32>>,
}

impl SmtpSink {
    /// Starts the server on a free local port.
    ///
    /// # Panics
    /// No local port can be bound.
    pub async fn start(rcpt_reply: Option<&'static str>) -> Self {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("binding the SMTP sink: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("SMTP sink address: {e}"),
        };
        let received = Arc::new(Mutex::new(Vec::new()));
        let sessions = Arc::new(Mutex::new(0));
        let (r, s) = (received.clone(), sessions.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                *s.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                tokio::spawn(session(stream, rcpt_reply, r.clone()));
            }
        });
        Self {
            addr,
            received,
            sessions,
        }
    }

    /// `smtp://127.0.0.1:<port>` (plain SMTP, no TLS, no credentials).
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The server's address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message accepted so far.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Connections accepted so far.
    #[must_use]
    pub fn sessions(&self) -> u32 {
        *self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    rcpt_reply: Option<&'static str>,
    received: Arc<Mutex<Vec<Received>>>,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut current = Received::default();
    if write.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &str = if upper.starts_with("EHLO") {
            "250-sink.test\r\n250 8BITMIME"
        } else if upper.starts_with("HELO") || upper == "NOOP" {
            "250 OK"
        } else if upper.starts_with("MAIL FROM:") {
            current = Received {
                mail_from: line.get(10..).unwrap_or_default().trim().to_owned(),
                ..Received::default()
            };
            "250 2.1.0 OK"
        } else if upper.starts_with("RCPT TO:") {
            current
                .rcpt_to
                .push(line.get(8..).unwrap_or_default().trim().to_owned());
            rcpt_reply.unwrap_or("250 2.1.5 OK")
        } else if upper == "DATA" {
            if write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = Vec::new();
            while let Ok(Some(l)) = lines.next_line().await {
                if l == "." {
                    break;
                }
                data.push(l.strip_prefix('.').map_or(l.clone(), str::to_owned));
            }
            current.data = data.join("\r\n");
            received
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(current.clone());
            "250 2.0.0 queued"
        } else if upper == "RSET" {
            current = Received::default();
            "250 OK"
        } else if upper == "QUIT" {
            let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
            return;
        } else {
            "502 5.5.2 command not implemented"
        };
        if write
            .write_all(format!("{reply}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}
