//! A small HTTP/1.1 client over `std::net::TcpStream` with keep-alive: enough for the
//! benchmark's loopback requests (Content-Length and chunked bodies), with no runtime and no
//! extra dependency between the measurement and the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context};

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `name=value` of the first `Set-Cookie` for this cookie name.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|kv| kv.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }
}

/// One keep-alive connection; reconnects if the server closed it.
pub struct Client {
    port: u16,
    conn: Option<(TcpStream, BufReader<TcpStream>)>,
    request: Vec<u8>,
}

impl Client {
    pub fn new(port: u16) -> Client {
        Client {
            port,
            conn: None,
            request: Vec::with_capacity(1024),
        }
    }

    fn connect(&mut self) -> anyhow::Result<()> {
        let stream =
            TcpStream::connect(("127.0.0.1", self.port)).context("connecting to the app")?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
        self.conn = Some((stream, reader));
        Ok(())
    }

    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> anyhow::Result<Response> {
        self.send("GET", path, headers, None)
    }

    pub fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        content_type: &str,
        body: &[u8],
    ) -> anyhow::Result<Response> {
        self.send("POST", path, headers, Some((content_type, body)))
    }

    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> anyhow::Result<Response> {
        self.request.clear();
        write!(
            self.request,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n",
            self.port
        )?;
        for (n, v) in headers {
            write!(self.request, "{n}: {v}\r\n")?;
        }
        if let Some((ct, b)) = body {
            write!(
                self.request,
                "Content-Type: {ct}\r\nContent-Length: {}\r\n",
                b.len()
            )?;
        }
        self.request.extend_from_slice(b"\r\n");
        if let Some((_, b)) = body {
            self.request.extend_from_slice(b);
        }
        // A kept-alive connection may have been closed by the server meanwhile: retry once.
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.connect()?;
            }
            match self.exchange() {
                Ok(r) => return Ok(r),
                Err(e) if attempt == 0 => {
                    tracing::debug!(error = %e, "reconnecting");
                    self.conn = None;
                }
                Err(e) => return Err(e),
            }
        }
        unreachable!("the loop returns")
    }

    fn exchange(&mut self) -> anyhow::Result<Response> {
        let (stream, reader) = self.conn.as_mut().context("not connected")?;
        stream.write_all(&self.request)?;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("connection closed");
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((n, v)) = l.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let close = resp
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if resp
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                    .context("bad chunk size")?;
                if size == 0 {
                    // Trailers (none expected) end with an empty line.
                    loop {
                        line.clear();
                        reader.read_line(&mut line)?;
                        if line.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = resp.body.len();
                resp.body.resize(start + size, 0);
                reader.read_exact(&mut resp.body[start..])?;
                line.clear();
                reader.read_line(&mut line)?;
            }
        } else if let Some(len) = resp
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
        {
            resp.body.resize(len, 0);
            reader.read_exact(&mut resp.body)?;
        } else if status != 204 && status != 304 && !(100..200).contains(&status) {
            reader.read_to_end(&mut resp.body)?;
            self.conn = None;
            return Ok(resp);
        }
        if close {
            self.conn = None;
        }
        Ok(resp)
    }
}

/// `application/x-www-form-urlencoded` of the pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
